import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type DesiredConfiguration,
  type InstanceRefresh,
  InstanceRefreshInProgressFault,
  StartInstanceRefreshCommand,
  type StartInstanceRefreshCommandInput,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteImageCommand, GetImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { registerImage } from '../support/image-architecture';
import { instanceRefreshProblems } from '../support/instance-refresh-rules';
import { createGroup } from '../support/moto-fleet';

/**
 * The AWS side of a rollout test: moto for EC2 (AMIs, launch templates), the group, SSM and SNS;
 * a scripted fake for what moto lacks (instance refresh, Image Builder's GetImage).
 */

export const STACK = 'ew-test';
export const GROUP = `${STACK}-workers`;
export const CURRENT_AMI_PARAMETER = '/ew/test/current-ami';
export const RETENTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:ew-test-ami-retention';
export const IMAGE_ARN_PREFIX = `arn:aws:imagebuilder:eu-west-1:123456789012:image/${STACK}-worker/`;
export const IMAGE_ARN = `${IMAGE_ARN_PREFIX}1.0.0/2`;
export const ALARMS = {
  launchesAbandoned: `${STACK}-rollout-launches-abandoned`,
  fleetBelowDesired: `${STACK}-rollout-fleet-below-desired`,
};

// Captured before any test mocks the client: calls let through reach moto.
const realAutoScalingSend = AutoScalingClient.prototype.send;
const realCloudWatchSend = CloudWatchClient.prototype.send;

/**
 * CloudWatch as moto serves it, but for DescribeAlarms with both AlarmNames and StateValue, where
 * moto ignores the state: AWS answers "only about alarms that are currently in the state that you
 * specify".
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
 */
function cloudWatchAsAws(): AwsClientStub<CloudWatchClient> {
  const real = new CloudWatchClient({});
  const send = (command: object) =>
    (realCloudWatchSend as (this: CloudWatchClient, c: object) => Promise<Record<string, unknown>>).call(
      real,
      command,
    );
  const mock = mockClient(CloudWatchClient);
  mock.on(PutMetricAlarmCommand).callsFake((input) => send(new PutMetricAlarmCommand(input)));
  mock.on(SetAlarmStateCommand).callsFake((input) => send(new SetAlarmStateCommand(input)));
  mock.on(DescribeAlarmsCommand).callsFake(async (input) => {
    const answer = (await send(new DescribeAlarmsCommand(input))) as {
      MetricAlarms?: Array<{ StateValue?: string }>;
    };
    return {
      ...answer,
      MetricAlarms: (answer.MetricAlarms ?? []).filter(
        (alarm) => !input.StateValue || alarm.StateValue === input.StateValue,
      ),
    };
  });
  return mock;
}

export interface World {
  ec2: EC2Client;
  asg: AutoScalingClient;
  oldAmi: string;
  newAmi: string;
  launchTemplateId: string;
  topicArn: string;
  substitutions: Record<string, string>;
  event: Record<string, unknown>;
}

/** An EBS-backed AMI, as Image Builder makes them: its root volume is a snapshot. */
async function registerAmi(ec2: EC2Client, name: string, imageArn?: string): Promise<string> {
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 8 }));
  const { SnapshotId } = await ec2.send(new CreateSnapshotCommand({ VolumeId }));
  const ImageId = await registerImage(ec2, {
    Name: name,
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId, VolumeSize: 8 } }],
  });
  await ec2.send(
    new CreateTagsCommand({
      Resources: [ImageId as string],
      Tags: [
        { Key: 'external-worker:stack', Value: STACK },
        ...(imageArn ? [{ Key: 'Ec2ImageBuilderArn', Value: imageArn }] : []),
      ],
    }),
  );
  return ImageId as string;
}

/** A group of `desired` instances on launch template version 1 (the old AMI), and a new AMI built. */
export async function buildWorld(desired: number, options: { mixed?: boolean } = {}): Promise<World> {
  const ec2 = new EC2Client({});
  const asg = new AutoScalingClient({});
  const oldAmi = await registerAmi(ec2, 'old');
  const newAmi = await registerAmi(ec2, 'new', IMAGE_ARN);
  const { launchTemplateId } = await createGroup({
    groupName: GROUP,
    templateName: `${STACK}-worker`,
    imageId: oldAmi,
    instanceTypes: options.mixed ? ['t3.micro', 't3a.micro'] : ['t3.micro'],
    templateTags: { 'external-worker:stack': STACK },
    desired,
    max: 6,
    version: '1',
  });
  const { TopicArn } = await new SNSClient({}).send(
    new CreateTopicCommand({ Name: `${STACK}-notifications` }),
  );
  const topicArn = TopicArn as string;
  const cloudwatch = new CloudWatchClient({});
  for (const AlarmName of Object.values(ALARMS)) {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName,
        Namespace: 'ExternalWorker',
        MetricName: 'LaunchesAbandoned',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  }
  return {
    ec2,
    asg,
    oldAmi,
    newAmi,
    launchTemplateId,
    topicArn,
    substitutions: {
      GroupName: GROUP,
      LaunchTemplateId: launchTemplateId,
      Region: 'eu-west-1',
      WorkerArchitecture: 'x86_64',
      TopicArn: topicArn,
      StackName: STACK,
      Customer: 'acme',
      Project: 'ew',
      Env: 'test',
      CurrentAmiParameter: CURRENT_AMI_PARAMETER,
      PinnedAmiId: 'none',
      MinHealthyPercentage: '90',
      MaxHealthyPercentage: '190',
      RetentionFunctionArn: RETENTION_ARN,
      ImageArnPrefix: IMAGE_ARN_PREFIX,
      RolloutCanaryPercentage: '10',
      RolloutBakeSeconds: '600',
      LaunchesAbandonedAlarm: ALARMS.launchesAbandoned,
      FleetBelowDesiredAlarm: ALARMS.fleetBelowDesired,
    },
    event: imageEvent('AVAILABLE'),
  };
}

export function imageEvent(status: string, reason?: string): Record<string, unknown> {
  return {
    version: '0',
    id: '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
    'detail-type': 'EC2 Image Builder Image State Change',
    source: 'aws.imagebuilder',
    account: '123456789012',
    time: '2026-03-04T10:42:17Z',
    region: 'eu-west-1',
    resources: [IMAGE_ARN],
    detail: { 'previous-state': { status: 'INTEGRATING' }, state: { status, ...(reason ? { reason } : {}) } },
  };
}

/** Puts one of the world's alarms in `state`, as CloudWatch would on its metric. */
export async function setAlarm(name: string, state: 'ALARM' | 'OK', reason: string): Promise<void> {
  await new CloudWatchClient({}).send(
    new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }),
  );
}

/** An error as AWS throttling surfaces it in the SDK: a code, no modeled class. */
export function throttling(code: string): Error {
  return Object.assign(new Error('Rate exceeded'), { name: code });
}

/** Image Builder: GetImage answers the AMI of the world; DeleteImage succeeds. */
export function mockImageBuilder(
  amiId: string,
  throttleFirstCall = false,
): AwsClientStub<ImagebuilderClient> {
  const mock = mockClient(ImagebuilderClient);
  const getImage = mock.on(GetImageCommand, { imageBuildVersionArn: IMAGE_ARN });
  if (throttleFirstCall) getImage.rejectsOnce(throttling('ThrottlingException'));
  getImage.resolves({
    image: {
      arn: IMAGE_ARN,
      state: { status: 'AVAILABLE' },
      outputResources: {
        amis: [
          { region: 'us-east-1', image: 'ami-0000000000000000e' },
          { region: 'eu-west-1', image: amiId },
        ],
      },
    },
  });
  mock.on(DeleteImageCommand).resolves({});
  return mock;
}

interface ScriptedRefresh extends InstanceRefresh {
  script: string[];
}

/**
 * Instance refresh as Auto Scaling runs it: one active refresh at a time (a second start fails with
 * InstanceRefreshInProgress), each describe moves a refresh one step along its script, and a
 * Successful refresh applies its desired configuration to the group. Other group calls reach moto.
 */
export class RefreshService {
  readonly mock: AwsClientStub<AutoScalingClient>;
  /** Newest first, as DescribeInstanceRefreshes lists them. */
  readonly refreshes: ScriptedRefresh[] = [];
  readonly started: StartInstanceRefreshCommandInput[] = [];
  /** Why Auto Scaling's rules refused a start (test/support/instance-refresh-rules.ts). */
  readonly refused: string[] = [];
  /** Run at the given describe of a refresh (1 is the first): what happens meanwhile in AWS. */
  readonly during = new Map<number, () => Promise<void>>();
  private describes = 0;
  /** Statuses the next refresh goes through, one per describe. */
  script: string[] = ['InProgress', 'Successful'];
  /** Failure of the refresh once it has rolled back. */
  failure: Partial<InstanceRefresh> = {};
  private readonly real = new AutoScalingClient({});

  /** With `throttleFirstCalls`, the first call of each command fails with Throttling. */
  constructor(options: { throttleFirstCalls?: boolean } = {}) {
    this.mock = mockClient(AutoScalingClient);
    const alarms = cloudWatchAsAws();
    const restore = this.mock.restore.bind(this.mock);
    this.mock.restore = () => {
      restore();
      alarms.restore();
    };
    const first = options.throttleFirstCalls ? throttling('Throttling') : undefined;
    const start = this.mock.on(StartInstanceRefreshCommand);
    const describe = this.mock.on(DescribeInstanceRefreshesCommand);
    const groups = this.mock.on(DescribeAutoScalingGroupsCommand);
    const update = this.mock.on(UpdateAutoScalingGroupCommand);
    if (first) {
      for (const behavior of [start, describe, groups, update]) behavior.rejectsOnce(first);
    }
    start.callsFake((input) => this.start(input));
    describe.callsFake((input) => this.describe(input));
    groups.callsFake((input) => this.pass(new DescribeAutoScalingGroupsCommand(input)));
    update.callsFake((input) => this.pass(new UpdateAutoScalingGroupCommand(input)));
  }

  pass(command: object): Promise<unknown> {
    return (realAutoScalingSend as (this: AutoScalingClient, c: object) => Promise<unknown>).call(
      this.real,
      command,
    );
  }

  /** A refresh someone else started (another rollout, an operator). */
  existing(status: string, script: string[], desired?: DesiredConfiguration): void {
    this.refreshes.unshift({
      InstanceRefreshId: `other-${this.refreshes.length}`,
      AutoScalingGroupName: 'ew-test-workers',
      Status: status as InstanceRefresh['Status'],
      DesiredConfiguration: desired,
      script: [...script],
    });
  }

  private active(): boolean {
    return this.refreshes.some((r) =>
      ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'].includes(r.Status ?? ''),
    );
  }

  /** The next start loses a race: someone else's refresh begins just before it. */
  raceOnce(script: string[]): void {
    this.race = script;
  }

  private race?: string[];

  private async start(input: StartInstanceRefreshCommandInput) {
    if (this.race) {
      this.existing('InProgress', this.race);
      this.race = undefined;
    }
    if (this.active()) {
      throw new InstanceRefreshInProgressFault({
        message:
          'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
        $metadata: {},
      });
    }
    const problems = instanceRefreshProblems(input);
    if (problems.length) {
      this.refused.push(...problems);
      throw Object.assign(new Error(problems.join('; ')), {
        name: 'ValidationError',
        Code: 'ValidationError',
        $metadata: { httpStatusCode: 400 },
      });
    }
    this.started.push(input);
    const id = `refresh-${this.started.length}`;
    this.refreshes.unshift({
      InstanceRefreshId: id,
      AutoScalingGroupName: input.AutoScalingGroupName,
      Status: 'Pending',
      DesiredConfiguration: input.DesiredConfiguration,
      Preferences: input.Preferences,
      script: [...this.script],
    });
    return { InstanceRefreshId: id };
  }

  private async describe(input: { InstanceRefreshIds?: string[]; MaxRecords?: number }) {
    const listed = this.refreshes
      .filter(
        (r) => !input.InstanceRefreshIds || input.InstanceRefreshIds.includes(r.InstanceRefreshId ?? ''),
      )
      .slice(0, input.MaxRecords ?? 50);
    this.describes += 1;
    await this.during.get(this.describes)?.();
    for (const refresh of listed) {
      await this.watchAlarms(refresh);
      const next = refresh.script.shift();
      if (!next) continue;
      refresh.Status = next as InstanceRefresh['Status'];
      if (next === 'Successful' && refresh.DesiredConfiguration) {
        await this.pass(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: refresh.AutoScalingGroupName,
            ...refresh.DesiredConfiguration,
          }),
        );
      }
      if (next.startsWith('Rollback') || next === 'Failed') Object.assign(refresh, this.failure);
    }
    return { InstanceRefreshes: listed.map(({ script: _script, ...refresh }) => structuredClone(refresh)) };
  }

  /**
   * An alarm of the refresh's AlarmSpecification in ALARM fails an active refresh, and with
   * AutoRollback rolls it back: "if any CloudWatch alarms you specify go into the ALARM state".
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
   */
  private async watchAlarms(refresh: ScriptedRefresh): Promise<void> {
    const names = refresh.Preferences?.AlarmSpecification?.Alarms ?? [];
    if (!names.length || !['Pending', 'InProgress', 'Baking'].includes(refresh.Status ?? '')) return;
    const { MetricAlarms = [] } = await new CloudWatchClient({}).send(
      new DescribeAlarmsCommand({ AlarmNames: names, StateValue: 'ALARM' }),
    );
    if (!MetricAlarms.length) return;
    refresh.script = refresh.Preferences?.AutoRollback
      ? ['RollbackInProgress', 'RollbackSuccessful']
      : ['Failed'];
    this.failure = {
      StatusReason: 'The instance refresh failed: an alarm of its alarm specification is in ALARM.',
      ...this.failure,
    };
  }
}

/**
 * The environment the retention handler validates when loaded, for the rollout's runs. Each world's
 * launch template is made after the handler is loaded: retention finds none and prunes no version
 * (the functions/ami-retention tests cover that).
 */
export const RETENTION_ENV = {
  STACK_NAME: STACK,
  LAUNCH_TEMPLATE_ID: 'lt-0000000000000000a',
  GROUP_NAME: GROUP,
  AMI_RETENTION: '3',
  CURRENT_AMI_PARAMETER,
};
