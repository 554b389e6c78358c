import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/lib/metric-names';
import type { WorkerStack } from './stack';

/** The stack's alarms in state ALARM, and how many alarms it has. */
export async function firingAlarms(
  cloudwatch: CloudWatchClient,
  names: string[],
): Promise<{ total: number; firing: Array<{ name: string; reason: string; since?: string }> }> {
  const firing: Array<{ name: string; reason: string; since?: string }> = [];
  let total = 0;
  // DescribeAlarms takes at most 100 names a call.
  for (let i = 0; i < names.length; i += 100) {
    let NextToken: string | undefined;
    do {
      const page = await cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), NextToken }),
      );
      for (const alarm of page.MetricAlarms ?? []) {
        total += 1;
        if (alarm.StateValue === 'ALARM')
          firing.push({
            name: alarm.AlarmName ?? '',
            reason: alarm.AlarmDescription ?? alarm.StateReason ?? '',
            ...(alarm.StateUpdatedTimestamp ? { since: alarm.StateUpdatedTimestamp.toISOString() } : {}),
          });
      }
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return { total, firing };
}

/** The last hour in which the retention function ran, from its metrics. */
export interface RetentionRun {
  /** Start of the hour the run falls in. */
  hour: string;
  invocations: number;
  errors: number;
  amisDeleted: number;
  snapshotsDeleted: number;
  versionsDeleted: number;
}

const HOURS = 48;

/**
 * The function logs its result, but reading logs needs another permission and client: its
 * metrics tell the outcome (Lambda's Invocations and Errors) and what it deleted (the counts it
 * emits), by the hour. Undefined when it did not run in the last two days.
 */
export async function lastRetention(
  cloudwatch: CloudWatchClient,
  stack: WorkerStack,
  now: Date,
): Promise<RetentionRun | undefined> {
  const lambda = (id: string, name: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: name,
        Dimensions: [{ Name: 'FunctionName', Value: stack.retentionFunctionName }],
      },
      Period: 3600,
      Stat: 'Sum',
    },
  });
  const own = (id: string, name: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: METRICS_NAMESPACE,
        MetricName: name,
        Dimensions: [
          { Name: 'service', Value: METRICS_SERVICE },
          { Name: 'Stack', Value: stack.name },
        ],
      },
      Period: 3600,
      Stat: 'Sum',
    },
  });
  const { MetricDataResults = [] } = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - HOURS * 3600_000),
      EndTime: now,
      MetricDataQueries: [
        lambda('invocations', 'Invocations'),
        lambda('errors', 'Errors'),
        own('amis', METRIC.amisDeleted),
        own('snapshots', METRIC.snapshotsDeleted),
        own('versions', METRIC.launchTemplateVersionsDeleted),
      ],
    }),
  );
  const series = new Map(
    MetricDataResults.map((r) => {
      const points = new Map<number, number>();
      (r.Timestamps ?? []).forEach((t, i) => {
        points.set(t.getTime(), (points.get(t.getTime()) ?? 0) + (r.Values?.[i] ?? 0));
      });
      return [r.Id ?? '', points];
    }),
  );
  const invocations = series.get('invocations') ?? new Map<number, number>();
  const hours = [...invocations.entries()].filter(([, v]) => v > 0).map(([t]) => t);
  if (hours.length === 0) return undefined;
  const last = Math.max(...hours);
  const at = (id: string) => series.get(id)?.get(last) ?? 0;
  return {
    hour: new Date(last).toISOString(),
    invocations: at('invocations'),
    errors: at('errors'),
    amisDeleted: at('amis'),
    snapshotsDeleted: at('snapshots'),
    versionsDeleted: at('versions'),
  };
}
