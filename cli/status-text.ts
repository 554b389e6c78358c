import { versionText } from './fleet';
import type { ExecutionSummary, FleetStatus } from './status';
import { duration, plural, secondsSince, table, when } from './text';

const FLOWS = [
  ['rollout', 'image-rollout'],
  ['launch', 'instance-launch'],
  ['drain', 'instance-drain'],
  ['destroy', 'destroy'],
] as const;

function execution(e: ExecutionSummary, now: Date): string {
  const took =
    e.startedAt && e.stoppedAt ? `, took ${duration(secondsSince(e.startedAt, new Date(e.stoppedAt)))}` : '';
  if (!e.stoppedAt)
    return `${e.name} (since ${e.startedAt ? duration(secondsSince(e.startedAt, now)) : '?'})`;
  return `${e.status} ${when(e.stoppedAt)}${took} (${e.name})`;
}

/** `status` as a person reads it. */
export function statusText(s: FleetStatus, now: Date): string[] {
  const lines: string[] = [`Stack ${s.stack} (${s.stackStatus})`, '', 'Versions'];
  const built = s.built
    ? `${s.built.version}, ${s.built.build}` +
      (s.built.failures > 0 ? ` (${plural(s.built.failures, 'failed build')} in a row)` : '') +
      ` since ${when(s.built.startedAt)}`
    : 'nothing built yet';
  const current = s.currentAmi
    ? `${s.currentAmi.imageId} (${versionText(s.currentAmi)})`
    : 'none yet (no rollout has completed)';
  lines.push(
    ...table([
      [
        'scheduler',
        `${s.scheduler.version ?? `unknown: ${s.scheduler.error ?? ''}`} (${s.scheduler.address})`,
      ],
      ['built', built],
      ['rolled out', s.currentAmi ? versionText(s.currentAmi) : '-'],
      ['current AMI', current],
    ]),
  );

  const g = s.group;
  lines.push(
    '',
    `Group ${g.name}: ${g.inService} in service of ${g.desired} desired (min ${g.min}, max ${g.max})` +
      (g.launchTemplateVersion ? `, launch template version ${g.launchTemplateVersion}` : ''),
  );
  if (s.instances.length === 0) lines.push('  no instances');
  else
    lines.push(
      ...table([
        ['INSTANCE', 'AZ', 'STATE', 'BOOT', 'VERSION', 'LT', 'CAPACITY', 'AGE'],
        ...s.instances.map((i) => [
          i.id,
          i.availabilityZone,
          i.health && i.health !== 'Healthy' ? `${i.lifecycleState} (${i.health})` : i.lifecycleState,
          i.boot,
          versionText(i.version),
          i.launchTemplateVersion ?? '-',
          i.capacity,
          i.ageSeconds !== undefined ? duration(i.ageSeconds) : '-',
        ]),
      ]),
    );

  lines.push(
    '',
    s.kept.length === 0 ? 'Kept instances: none' : `Kept instances (${s.kept.length}, out of the group)`,
  );
  if (s.kept.length > 0)
    lines.push(
      ...table([
        ['INSTANCE', 'AZ', 'STATE', 'VERSION', 'KEPT', 'EXPIRES', 'REASON'],
        ...s.kept.map((k) => [
          k.id,
          k.availabilityZone,
          k.state,
          versionText(k.version),
          k.since ? `${duration(secondsSince(k.since, now))} ago` : '-',
          k.until
            ? secondsSince(k.until, now) < 0
              ? `in ${duration(-secondsSince(k.until, now))}`
              : 'overdue'
            : 'never',
          k.reason,
        ]),
      ]),
    );

  lines.push('', 'Executions running');
  lines.push(
    ...table(
      FLOWS.map(([flow, label]) => {
        const list = s.running[flow];
        return [label, list.length === 0 ? 'none' : list.map((e) => execution(e, now)).join('; ')];
      }),
    ),
  );

  const r = s.lastRetention;
  const retention = r
    ? `${r.errors > 0 ? `failed (${plural(r.errors, 'error')})` : 'ok'} (hour of ${when(r.hour)}): deleted ` +
      `${plural(r.amisDeleted, 'AMI')}, ${plural(r.snapshotsDeleted, 'snapshot')}, ` +
      `${plural(r.versionsDeleted, 'launch template version')}`
    : 'no run in the last 48 h';
  lines.push(
    '',
    ...table(
      [
        ['Last rollout', s.lastRollout ? execution(s.lastRollout, now) : 'none yet'],
        ['Last retention', retention],
      ],
      '',
    ),
  );

  lines.push(
    '',
    s.alarms.firing.length === 0
      ? `Alarms: none firing (${s.alarms.total} watched)`
      : `Alarms: ${s.alarms.firing.length} firing of ${s.alarms.total}`,
  );
  for (const alarm of s.alarms.firing)
    lines.push(`  ${alarm.name}: ${alarm.reason}${alarm.since ? ` (since ${when(alarm.since)})` : ''}`);
  return lines;
}
