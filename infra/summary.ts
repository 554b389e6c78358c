import { purchase } from './capacity-options';
import type { WorkerConfig } from './config';

interface Template {
  Resources?: Record<string, { Type: string }>;
  Parameters?: Record<string, unknown>;
}

/** A few lines after synth saying what a deploy of this template would create. */
export function summarize(template: Template, templateFile: string, config: WorkerConfig): string {
  const resources = Object.values(template.Resources ?? {});
  const counts = new Map<string, number>();
  for (const { Type } of resources) counts.set(Type, (counts.get(Type) ?? 0) + 1);
  const parameters = Object.keys(template.Parameters ?? {}).filter(
    (name) => !name.startsWith('BootstrapVersion'),
  );
  const types = config.instanceRequirements
    ? 'types chosen by instanceRequirements'
    : config.instanceType.join('|');
  const { onDemandBase, onDemandPercentage } = purchase(config);
  const mixed =
    config.capacity === 'spot' && (onDemandBase > 0 || onDemandPercentage > 0)
      ? `, on-demand ${onDemandBase} + ${onDemandPercentage}% above`
      : '';
  const lines = [
    `external-worker: stack ${config.stackName} in ${config.region}, template in cdk.out/${templateFile}`,
    `  workers: ${config.desiredCapacity} (min ${config.minSize}, max ${config.maxSize}) × ${types}, ${config.capacity}${config.capacity === 'spot' ? ` (max $${config.spotMaxPrice}/h)${mixed}` : ''}`,
    `  image: ${config.workerAmiId ? `pinned ${config.workerAmiId}` : 'built by the image pipeline'}, Concourse ${config.workerVersion ? `pinned ${config.workerVersion}` : 'following the scheduler'}`,
    `  resources: ${resources.length} (${[...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([type, n]) => `${n} ${type.replace(/^AWS::/, '')}`)
      .join(', ')}, …)`,
    parameters.length ? `  deploy parameters: ${parameters.join(', ')}` : '  deploy parameters: none',
  ];
  return `${lines.join('\n')}\n`;
}
