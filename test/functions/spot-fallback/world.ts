import {
  DescribeAutoScalingGroupsCommand,
  type MixedInstancesPolicy,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { FallbackClients, FallbackSettings } from '../../../functions/spot-fallback/fallback';

/**
 * The Spot fallback's world in memory: the group's mixed instances policy as Auto Scaling keeps
 * it, the state parameter, and what was published. Every call is kept, in order.
 */

export const GROUP = 'external-worker-prod-workers';
export const SETTINGS: FallbackSettings = {
  stackName: 'external-worker-prod',
  groupName: GROUP,
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:external-worker-prod-notifications',
  parameterName: '/external-worker/prod/spot-fallback',
  configuredPercentage: 0,
  cooldownSeconds: 1800,
};

export const T0 = new Date('2026-03-01T10:00:00.000Z');
export const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

type Send = (command: object) => Promise<unknown>;

export interface World {
  clients: FallbackClients;
  policy: MixedInstancesPolicy;
  parameter?: string;
  published: Array<{ Subject?: string; Message?: string }>;
  calls: string[];
  /** Makes the next call of that command fail with `error`. */
  failNext(command: string, error: Error): void;
}

export function world(percentage = 0): World {
  const failures = new Map<string, Error>();
  const w: World = {
    policy: {
      LaunchTemplate: {
        LaunchTemplateSpecification: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '4' },
        Overrides: [{ InstanceType: 'c5d.2xlarge' }, { InstanceType: 'm5d.2xlarge' }],
      },
      InstancesDistribution: {
        OnDemandBaseCapacity: 0,
        OnDemandPercentageAboveBaseCapacity: percentage,
        SpotAllocationStrategy: 'price-capacity-optimized',
        SpotMaxPrice: '0.3',
      },
    },
    published: [],
    calls: [],
    failNext: (command, error) => failures.set(command, error),
    clients: undefined as never,
  };
  const client = (handle: (command: object) => unknown): { send: Send } => ({
    send: async (command: object) => {
      const name = command.constructor.name.replace(/Command$/, '');
      w.calls.push(name);
      const failure = failures.get(name);
      if (failure) {
        failures.delete(name);
        throw failure;
      }
      return handle(command);
    },
  });
  w.clients = {
    autoscaling: client((command) => {
      if (command instanceof DescribeAutoScalingGroupsCommand) {
        return {
          AutoScalingGroups: command.input.AutoScalingGroupNames?.includes(GROUP)
            ? [{ AutoScalingGroupName: GROUP, MixedInstancesPolicy: structuredClone(w.policy) }]
            : [],
        };
      }
      if (command instanceof UpdateAutoScalingGroupCommand) {
        if (command.input.MixedInstancesPolicy)
          w.policy = structuredClone(command.input.MixedInstancesPolicy);
        return {};
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    }),
    ssm: client((command) => {
      if (command instanceof GetParameterCommand) {
        if (w.parameter === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
        return { Parameter: { Name: command.input.Name, Value: w.parameter } };
      }
      if (command instanceof PutParameterCommand) {
        w.parameter = command.input.Value;
        return { Version: 1 };
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    }),
    sns: client((command) => {
      if (command instanceof PublishCommand) {
        w.published.push({ Subject: command.input.Subject, Message: command.input.Message });
        return { MessageId: String(w.published.length) };
      }
      throw new Error(`unexpected ${command.constructor.name}`);
    }),
  } as unknown as FallbackClients;
  return w;
}

export const share = (w: World) => w.policy.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity;

/** A failed launch of the group, as Auto Scaling sends it. */
export function launchFailure(
  id: string,
  time: Date,
  statusMessage = 'There is no Spot capacity available that matches your request. Launching EC2 instance failed.',
  groupName = GROUP,
) {
  return {
    version: '0',
    id,
    'detail-type': 'EC2 Instance Launch Unsuccessful' as const,
    source: 'aws.autoscaling' as const,
    account: '123456789012',
    time: time.toISOString(),
    region: 'eu-west-1',
    resources: [
      `arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0f4a8c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b:autoScalingGroupName/${groupName}`,
    ],
    detail: {
      StatusCode: 'Failed',
      AutoScalingGroupName: groupName,
      ActivityId: `activity-${id}`,
      Details: { 'Availability Zone': 'eu-west-1a', 'Subnet ID': 'subnet-0123456789abcdef0' },
      RequestId: `request-${id}`,
      StatusMessage: statusMessage,
      EndTime: time.toISOString(),
      StartTime: time.toISOString(),
      Cause: `At ${time.toISOString()} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 1 to 2.`,
    },
  };
}
