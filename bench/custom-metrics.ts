import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRIC } from '../functions/lib/metric-names';
import { allStates } from '../infra/statemachines/asl';
import { DEFINITIONS } from '../infra/statemachines/index';

const ROOT = path.join(__dirname, '..');
const FUNCTIONS = path.join(ROOT, 'functions');

export interface CustomMetricSeries {
  namespace: string;
  name: string;
  dimensions: string[];
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && entry.name !== 'metric-names.ts'
      ? [fs.readFileSync(full, 'utf8')]
      : [];
  });
}

/** The metric names the functions' code emits: the registry's names it uses. */
export function emittedNames(): string[] {
  const code = sources(FUNCTIONS).join('\n');
  return Object.entries(METRIC)
    .filter(([key]) => code.includes(`METRIC.${key}`))
    .map(([, name]) => name);
}

/**
 * The series the state machines put themselves (CloudWatch PutMetricData Tasks), read from their
 * definitions: billed as the functions' are.
 */
export function stateMachineSeries(): CustomMetricSeries[] {
  const series = new Map<string, CustomMetricSeries>();
  for (const definition of Object.values(DEFINITIONS)) {
    for (const [, state] of allStates(definition().States)) {
      if (state.Type !== 'Task' || !String(state.Resource).endsWith(':cloudwatch:putMetricData')) continue;
      const parameters = state.Parameters as {
        Namespace: string;
        MetricData: Array<{ MetricName: string; Dimensions?: Array<{ Name: string }> }>;
      };
      for (const datum of parameters.MetricData) {
        const entry = {
          namespace: parameters.Namespace,
          name: datum.MetricName,
          dimensions: (datum.Dimensions ?? []).map((d) => d.Name).sort(),
        };
        series.set(JSON.stringify(entry), entry);
      }
    }
  }
  return [...series.values()];
}

/** Every custom metric series of the stack: the functions' EMF and the state machines' own. */
export function allCustomMetricSeries(): CustomMetricSeries[] {
  const series = new Map<string, CustomMetricSeries>();
  for (const entry of [...customMetricSeries(), ...stateMachineSeries()])
    series.set(JSON.stringify(entry), entry);
  return [...series.values()];
}

/**
 * The custom metric series the functions emit, as CloudWatch bills them (one per namespace, name
 * and dimension set: https://aws.amazon.com/cloudwatch/pricing/): each emitted name is added to
 * the functions' own Metrics instance (functions/lib/observability.ts) in a fresh Node process set
 * up as a deployed function is (STACK_NAME, no dev mode), and the EMF documents it prints are read
 * back, so that the dimensions are Powertools' own, default dimensions included.
 */
export function customMetricSeries(): CustomMetricSeries[] {
  const names = emittedNames();
  const script = `
    const { MetricUnit } = require('@aws-lambda-powertools/metrics');
    const { metrics } = require(${JSON.stringify(path.join(FUNCTIONS, 'lib', 'observability.ts'))});
    for (const name of ${JSON.stringify(names)}) metrics.addMetric(name, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  `;
  const env: NodeJS.ProcessEnv = { ...process.env, STACK_NAME: 'bench-stack' };
  for (const key of ['POWERTOOLS_DEV', 'POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_LOG_LEVEL'])
    delete env[key];
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`EMF probe failed: ${child.stderr}`);
  const series = new Map<string, CustomMetricSeries>();
  for (const line of child.stdout.split('\n')) {
    if (!line.trimStart().startsWith('{')) continue;
    const doc = JSON.parse(line) as {
      _aws?: {
        CloudWatchMetrics: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string }>;
        }>;
      };
    };
    for (const directive of doc._aws?.CloudWatchMetrics ?? [])
      for (const dimensions of directive.Dimensions)
        for (const { Name } of directive.Metrics) {
          const entry = { namespace: directive.Namespace, name: Name, dimensions: [...dimensions].sort() };
          series.set(JSON.stringify(entry), entry);
        }
  }
  const found = new Set([...series.values()].map((s) => s.name));
  const missing = names.filter((name) => !found.has(name));
  if (missing.length) throw new Error(`EMF probe printed no series for ${missing.join(', ')}`);
  return [...series.values()];
}
