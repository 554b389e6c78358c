import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import * as z from 'zod/mini';
import { LOG_RECORD } from '../functions/lib/contract';
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

/** The last hour in which the retention function ran, from its metrics and its log records. */
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
const HOUR_MS = 3600_000;

/**
 * The outcome from Lambda's Invocations and Errors, what it deleted from the record each real run
 * logs (LOG_RECORD.retentionDone), by the hour. Undefined when it did not run in the last two days.
 */
export async function lastRetention(
  clients: { cloudwatch: CloudWatchClient; logs: CloudWatchLogsClient },
  stack: WorkerStack,
  now: Date,
): Promise<RetentionRun | undefined> {
  // On the hour: the metrics' hourly periods then start where the records' hours do.
  const start = new Date(Math.floor((now.getTime() - HOURS * HOUR_MS) / HOUR_MS) * HOUR_MS);
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
  const [{ MetricDataResults = [] }, deletions] = await Promise.all([
    clients.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: now,
        MetricDataQueries: [lambda('invocations', 'Invocations'), lambda('errors', 'Errors')],
      }),
    ),
    deletionsByHour(clients.logs, stack.retentionLogGroup, start, now),
  ]);
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
  const deleted = deletions.get(last) ?? { amisDeleted: 0, snapshotsDeleted: 0, versionsDeleted: 0 };
  return {
    hour: new Date(last).toISOString(),
    invocations: invocations.get(last) ?? 0,
    errors: series.get('errors')?.get(last) ?? 0,
    ...deleted,
  };
}

type Deletions = Pick<RetentionRun, 'amisDeleted' | 'snapshotsDeleted' | 'versionsDeleted'>;

/** A real run's record: a dry run carries no counts (functions/ami-retention/handler.ts). */
const deletionRecord = z.object({
  message: z.literal(LOG_RECORD.retentionDone),
  amisDeleted: z.number(),
  snapshotsDeleted: z.number(),
  versionsDeleted: z.number(),
});

/** What the real runs deleted, summed by the hour (start of the hour, ms) they logged in. */
async function deletionsByHour(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  start: Date,
  end: Date,
): Promise<Map<number, Deletions>> {
  const byHour = new Map<number, Deletions>();
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName,
        startTime: start.getTime(),
        endTime: end.getTime(),
        // A quoted term: the phrase anywhere in the event; the record is checked below.
        filterPattern: `"${LOG_RECORD.retentionDone}"`,
        nextToken,
      }),
    );
    for (const event of page.events ?? []) {
      const record = deletionRecord.safeParse(parseJson(event.message ?? ''));
      if (!record.success || event.timestamp === undefined) continue;
      const hour = Math.floor(event.timestamp / HOUR_MS) * HOUR_MS;
      const sum = byHour.get(hour) ?? { amisDeleted: 0, snapshotsDeleted: 0, versionsDeleted: 0 };
      byHour.set(hour, {
        amisDeleted: sum.amisDeleted + record.data.amisDeleted,
        snapshotsDeleted: sum.snapshotsDeleted + record.data.snapshotsDeleted,
        versionsDeleted: sum.versionsDeleted + record.data.versionsDeleted,
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return byHour;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
