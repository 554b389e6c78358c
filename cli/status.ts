import type { Instance } from '@aws-sdk/client-ec2';
import { ExecutionStatus, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { TAG } from '../functions/lib/contract';
import { readParameter } from '../functions/lib/parameters';
import { readSchedulerVersion, type SchedulerAnswer } from '../functions/version-check/scheduler-info';
import { firingAlarms, lastRetention, type RetentionRun } from './alarms';
import type { Clients } from './clients';
import {
  type AmiVersion,
  amiVersion,
  describeAmis,
  describeGroup,
  describeInstances,
  groupVersion,
  keptInstances,
  readVersionState,
  tag,
} from './fleet';
import type { WorkerStack } from './stack';

export interface InstanceStatus {
  id: string;
  availabilityZone: string;
  lifecycleState: string;
  health: string;
  /** From the launch gate: `booting` while it decides, `ok` once it let the instance in. */
  boot: string;
  launchTemplateVersion?: string;
  version: AmiVersion | undefined;
  capacity: 'spot' | 'on-demand';
  launchedAt?: string;
  ageSeconds?: number;
}

export interface KeptStatus {
  id: string;
  state: string;
  availabilityZone: string;
  reason: string;
  since?: string;
  until?: string;
  version: AmiVersion | undefined;
}

export interface ExecutionSummary {
  name: string;
  status: string;
  startedAt?: string;
  stoppedAt?: string;
}

export interface FleetStatus {
  stack: string;
  stackStatus: string;
  scheduler: { address: string; version?: string; error?: string };
  built?: { version: string; build: string; attempt: number; failures: number; startedAt: string };
  currentAmi?: AmiVersion;
  group: {
    name: string;
    desired: number;
    min: number;
    max: number;
    inService: number;
    launchTemplateVersion?: string;
  };
  instances: InstanceStatus[];
  kept: KeptStatus[];
  running: Record<'rollout' | 'launch' | 'drain' | 'destroy', ExecutionSummary[]>;
  lastRollout?: ExecutionSummary;
  lastRetention?: RetentionRun;
  alarms: { total: number; firing: Array<{ name: string; reason: string; since?: string }> };
}

/** What the launch gate's decision says of the boot, for an instance still in the group. */
export function bootFromLifecycle(state: string): string {
  if (state === 'Pending' || state === 'Pending:Wait') return 'booting';
  if (state === 'Pending:Proceed' || state === 'InService' || state.startsWith('Standby')) return 'ok';
  if (state.startsWith('Terminating')) return 'retiring';
  return '-';
}

const iso = (date: Date | undefined) => date?.toISOString();

async function executions(sfn: SFNClient, arn: string, running: boolean, max: number) {
  const { executions: list = [] } = await sfn.send(
    new ListExecutionsCommand({
      stateMachineArn: arn,
      maxResults: max,
      ...(running ? { statusFilter: ExecutionStatus.RUNNING } : {}),
    }),
  );
  return list.map(
    (e): ExecutionSummary => ({
      name: e.name ?? '',
      status: e.status ?? '',
      ...(e.startDate ? { startedAt: iso(e.startDate) } : {}),
      ...(e.stopDate ? { stoppedAt: iso(e.stopDate) } : {}),
    }),
  );
}

export interface StatusOptions {
  now: Date;
  scheduler?: (address: string) => Promise<SchedulerAnswer>;
}

/** Everything `status` shows, read from AWS (reads only). */
export async function fleetStatus(
  clients: Clients,
  stack: WorkerStack,
  options: StatusOptions,
): Promise<FleetStatus> {
  const schedulerVersion = options.scheduler ?? ((address: string) => readSchedulerVersion(address));
  const machines = stack.stateMachines;
  const [scheduler, state, currentAmiId, group, kept, running, recent, retention, alarms] = await Promise.all(
    [
      schedulerVersion(stack.schedulerApiAddress),
      readVersionState(clients.ssm, stack.versionStateParameter),
      readParameter(clients.ssm, stack.currentAmiParameter),
      describeGroup(clients.autoscaling, stack.groupName),
      keptInstances(clients.ec2, stack),
      Promise.all(
        (['rollout', 'launch', 'drain', 'destroy'] as const).map(
          async (flow) => [flow, await executions(clients.sfn, machines[flow], true, 20)] as const,
        ),
      ),
      executions(clients.sfn, machines.rollout, false, 10),
      lastRetention(clients, stack, options.now),
      firingAlarms(clients.cloudwatch, stack.alarmNames),
    ],
  );
  const members = group.Instances ?? [];
  const described = await describeInstances(clients.ec2, {
    InstanceIds: members.flatMap((m) => m.InstanceId ?? []),
  });
  const byId = new Map(described.map((i) => [i.InstanceId ?? '', i]));
  const images = await describeAmis(clients.ec2, [
    ...(currentAmiId ? [currentAmiId] : []),
    ...described.flatMap((i) => i.ImageId ?? []),
    ...kept.flatMap((i) => i.ImageId ?? []),
  ]);
  const versionOf = (imageId: string | undefined) =>
    imageId ? amiVersion(imageId, images.get(imageId), stack.name, state) : undefined;
  const age = (instance: Instance | undefined) =>
    instance?.LaunchTime
      ? Math.max(0, Math.round((options.now.getTime() - instance.LaunchTime.getTime()) / 1000))
      : undefined;

  const instances = members
    .map((member): InstanceStatus => {
      const instance = byId.get(member.InstanceId ?? '');
      const ageSeconds = age(instance);
      return {
        id: member.InstanceId ?? '',
        availabilityZone: member.AvailabilityZone ?? '',
        lifecycleState: member.LifecycleState ?? '',
        health: member.HealthStatus ?? '',
        boot: bootFromLifecycle(member.LifecycleState ?? ''),
        ...(member.LaunchTemplate?.Version ? { launchTemplateVersion: member.LaunchTemplate.Version } : {}),
        version: versionOf(instance?.ImageId),
        capacity: instance?.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
        ...(instance?.LaunchTime ? { launchedAt: iso(instance.LaunchTime) } : {}),
        ...(ageSeconds !== undefined ? { ageSeconds } : {}),
      };
    })
    .sort((a, b) => (b.ageSeconds ?? 0) - (a.ageSeconds ?? 0) || a.id.localeCompare(b.id));

  const since = (instance: Instance) => tag(instance, TAG.keptSince);
  const until = (instance: Instance) => tag(instance, TAG.keptUntil);
  const keptStatus = kept
    .map(
      (instance): KeptStatus => ({
        id: instance.InstanceId ?? '',
        state: instance.State?.Name ?? '',
        availabilityZone: instance.Placement?.AvailabilityZone ?? '',
        reason: tag(instance, stack.keptInstanceTag) ?? '',
        ...(since(instance) ? { since: since(instance) } : {}),
        ...(until(instance) ? { until: until(instance) } : {}),
        version: versionOf(instance.ImageId),
      }),
    )
    .sort((a, b) => (a.since ?? '').localeCompare(b.since ?? '') || a.id.localeCompare(b.id));

  const lastRollout = recent.find((e) => e.status !== ExecutionStatus.RUNNING);
  const launchTemplateVersion = groupVersion(group);
  return {
    stack: stack.name,
    stackStatus: stack.status,
    scheduler: scheduler.ok
      ? { address: stack.schedulerApiAddress, version: scheduler.version }
      : { address: stack.schedulerApiAddress, error: scheduler.detail },
    ...(state
      ? {
          built: {
            version: state.version,
            build: state.build,
            attempt: state.attempt,
            failures: state.failures,
            startedAt: state.startedAt,
          },
        }
      : {}),
    ...(currentAmiId?.startsWith('ami-') ? { currentAmi: versionOf(currentAmiId) } : {}),
    group: {
      name: stack.groupName,
      desired: group.DesiredCapacity ?? 0,
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
      inService: members.filter((m) => m.LifecycleState === 'InService').length,
      ...(launchTemplateVersion ? { launchTemplateVersion } : {}),
    },
    instances,
    kept: keptStatus,
    running: Object.fromEntries(running) as FleetStatus['running'],
    ...(lastRollout ? { lastRollout } : {}),
    ...(retention ? { lastRetention: retention } : {}),
    alarms,
  };
}
