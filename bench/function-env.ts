import type { Template } from 'aws-cdk-lib/assertions';

/**
 * The environment the stack gives each function, read from the synthesized template, with
 * CloudFormation references replaced by values of the same form (ARNs, names), so that a bundle's
 * cold-start validation runs as it does in Lambda.
 */
export function functionEnvironments(template: Template): Record<string, NodeJS.ProcessEnv> {
  const result: Record<string, NodeJS.ProcessEnv> = {};
  const functions = template.findResources('AWS::Lambda::Function');
  for (const resource of Object.values(functions) as Array<{
    Properties: { Environment?: { Variables?: Record<string, unknown> } };
  }>) {
    const variables = resource.Properties.Environment?.Variables ?? {};
    const name = variables.POWERTOOLS_SERVICE_NAME;
    if (typeof name !== 'string') continue;
    result[name] = Object.fromEntries(
      Object.entries(variables).map(([key, value]) => [key, plausible(key, value)]),
    );
  }
  return result;
}

function plausible(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (key.endsWith('_ARN')) {
    const service = key.startsWith('TOPIC') ? 'sns' : key.includes('PIPELINE') ? 'imagebuilder' : 'states';
    return `arn:aws:${service}:eu-west-1:123456789012:bench-${key.toLowerCase()}`;
  }
  if (key === 'LAUNCH_TEMPLATE_ID') return 'lt-0123456789abcdef0';
  if (key.includes('PARAMETER')) return `/external-worker/prod/${key.toLowerCase()}`;
  if (key.includes('URL') || key.includes('ADDRESS')) return 'https://scheduler.example.com';
  if (key === 'FLOWS') return '{}';
  return `bench-${key.toLowerCase()}`;
}
