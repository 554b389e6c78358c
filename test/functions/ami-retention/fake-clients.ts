import { type AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DeleteLaunchTemplateVersionsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteImageCommand, type ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import type { RetentionClients } from '../../../functions/ami-retention/retention';

/** An in-memory account: enough of EC2, SSM and Image Builder for the retention, with small pages. */
export interface FakeImage {
  id: string;
  stack: string;
  created: number;
  state: 'available' | 'pending';
  snapshots: string[];
  imageBuilderArn?: string;
}

export interface FakeVersion {
  number: number;
  imageId: string;
  created: number;
}

export interface FakeInstance {
  id: string;
  imageId: string;
  stack?: string;
  state?: 'running' | 'stopped' | 'terminated';
  /** Launched from this version of the fleet's template (tag `aws:ec2launchtemplate:version`). */
  templateVersion?: number;
  /** Launched from another launch template. */
  otherTemplate?: boolean;
}

export interface FakeAccount {
  images: FakeImage[];
  /** The fleet's launch template (absent: not created). */
  template?: { id: string; defaultVersion: number; versions: FakeVersion[] };
  /** The fleet's group (absent: not created); `version` as the group names it (`3`, `$Latest`). */
  group?: {
    name: string;
    version: string;
    mixed: boolean;
    instances: Array<{ id: string; version: string }>;
  };
  instances: FakeInstance[];
  parameters: Record<string, string>;
  /**
   * Every mutating call in order: `deregister ami-…`, `delete-snapshot snap-…`, `delete-image arn`,
   * `delete-version <n>`.
   */
  log: string[];
  /** Every call by command name, mutating or not. */
  calls?: string[];
  /** Versions EC2 refuses to delete (reported in UnsuccessfullyDeletedLaunchTemplateVersions). */
  undeletable?: number[];
  /** Largest page the fake returns whatever MaxResults asks (small pages exercise pagination). */
  pageSize?: number;
  /** Probability that a call fails once with a throttling error. */
  throttle: number;
  random: () => number;
}

function page<T>(
  account: FakeAccount,
  items: T[],
  input: { NextToken?: string; MaxResults?: number },
): { items: T[]; NextToken?: string } {
  const size = Math.min(account.pageSize ?? 7, input.MaxResults ?? Number.POSITIVE_INFINITY);
  const start = input.NextToken ? Number(input.NextToken) : 0;
  const next = start + size;
  return { items: items.slice(start, next), NextToken: next < items.length ? String(next) : undefined };
}

function throttled(account: FakeAccount): void {
  if (account.random() < account.throttle) {
    throw Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
  }
}

const record = (account: FakeAccount, command: unknown) =>
  account.calls?.push((command as object).constructor.name.replace(/Command$/, ''));

const tagValue = (filters: Array<{ Name?: string; Values?: string[] }> | undefined, name: string) =>
  filters?.find((f) => f.Name === name)?.Values;

export function fakeClients(account: FakeAccount): RetentionClients {
  const ec2 = {
    async send(command: unknown): Promise<unknown> {
      throttled(account);
      record(account, command);
      if (command instanceof DescribeImagesCommand) {
        const stacks = tagValue(command.input.Filters, 'tag:external-worker:stack');
        const listed = account.images.filter((i) => !stacks || stacks.includes(i.stack));
        const { items, NextToken } = page(account, listed, command.input);
        return {
          NextToken,
          Images: items.map((i) => ({
            ImageId: i.id,
            State: i.state,
            CreationDate: new Date(i.created).toISOString(),
            BlockDeviceMappings: i.snapshots.map((s) => ({
              DeviceName: '/dev/xvda',
              Ebs: { SnapshotId: s },
            })),
            Tags: [
              { Key: 'external-worker:stack', Value: i.stack },
              ...(i.imageBuilderArn ? [{ Key: 'Ec2ImageBuilderArn', Value: i.imageBuilderArn }] : []),
            ],
          })),
        };
      }
      if (command instanceof DescribeLaunchTemplateVersionsCommand) {
        const template = account.template;
        if (!template || template.id !== command.input.LaunchTemplateId) {
          throw Object.assign(new Error('no such template'), { name: 'InvalidLaunchTemplateId.NotFound' });
        }
        const { items, NextToken } = page(account, template.versions, command.input);
        return {
          NextToken,
          LaunchTemplateVersions: items.map((v) => ({
            LaunchTemplateId: template.id,
            VersionNumber: v.number,
            DefaultVersion: v.number === template.defaultVersion,
            CreateTime: new Date(v.created),
            LaunchTemplateData: { ImageId: v.imageId },
          })),
        };
      }
      if (command instanceof DeleteLaunchTemplateVersionsCommand) {
        const template = account.template;
        if (!template || template.id !== command.input.LaunchTemplateId) {
          throw Object.assign(new Error('no such template'), { name: 'InvalidLaunchTemplateId.NotFound' });
        }
        const asked = command.input.Versions ?? [];
        if (asked.length > 200)
          throw Object.assign(new Error('too many versions'), { name: 'InvalidRequest' });
        const ok: Array<{ VersionNumber: number }> = [];
        const refused: Array<{ VersionNumber: number; ResponseError: { Code: string; Message: string } }> =
          [];
        for (const number of asked.map(Number)) {
          const index = template.versions.findIndex((v) => v.number === number);
          const error =
            index < 0
              ? 'launchTemplateVersionDoesNotExist'
              : number === template.defaultVersion || account.undeletable?.includes(number)
                ? 'unexpectedError'
                : undefined;
          if (error) {
            refused.push({ VersionNumber: number, ResponseError: { Code: error, Message: error } });
            continue;
          }
          template.versions.splice(index, 1);
          account.log.push(`delete-version ${number}`);
          ok.push({ VersionNumber: number });
        }
        return {
          SuccessfullyDeletedLaunchTemplateVersions: ok,
          UnsuccessfullyDeletedLaunchTemplateVersions: refused,
        };
      }
      if (command instanceof DescribeInstancesCommand) {
        const stacks = tagValue(command.input.Filters, 'tag:external-worker:stack');
        const states = tagValue(command.input.Filters, 'instance-state-name');
        const listed = account.instances.filter(
          (i) =>
            (!stacks || (i.stack !== undefined && stacks.includes(i.stack))) &&
            (!states || states.includes(i.state ?? 'running')),
        );
        const { items, NextToken } = page(account, listed, command.input);
        const templateId = account.template?.id ?? 'lt-none';
        return {
          NextToken,
          Reservations: [
            {
              Instances: items.map((i) => ({
                InstanceId: i.id,
                ImageId: i.imageId,
                State: { Name: i.state ?? 'running' },
                Tags: [
                  ...(i.stack ? [{ Key: 'external-worker:stack', Value: i.stack }] : []),
                  ...(i.templateVersion !== undefined
                    ? [
                        { Key: 'aws:ec2launchtemplate:id', Value: i.otherTemplate ? 'lt-other' : templateId },
                        { Key: 'aws:ec2launchtemplate:version', Value: String(i.templateVersion) },
                      ]
                    : []),
                ],
              })),
            },
          ],
        };
      }
      if (command instanceof DeregisterImageCommand) {
        const index = account.images.findIndex((i) => i.id === command.input.ImageId);
        if (index < 0) throw Object.assign(new Error('no such AMI'), { name: 'InvalidAMIID.NotFound' });
        account.images.splice(index, 1);
        account.log.push(`deregister ${command.input.ImageId}`);
        return {};
      }
      if (command instanceof DeleteSnapshotCommand) {
        const inUse = account.images.some((i) => i.snapshots.includes(command.input.SnapshotId ?? ''));
        if (inUse) throw Object.assign(new Error('snapshot in use'), { name: 'InvalidSnapshot.InUse' });
        account.log.push(`delete-snapshot ${command.input.SnapshotId}`);
        return {};
      }
      throw new Error(`fake EC2 does not know ${(command as object).constructor.name}`);
    },
  };
  const autoscaling = {
    async send(command: unknown): Promise<unknown> {
      throttled(account);
      record(account, command);
      if (command instanceof DescribeAutoScalingGroupsCommand) {
        const group = account.group;
        if (!group || !command.input.AutoScalingGroupNames?.includes(group.name))
          return { AutoScalingGroups: [] };
        const spec = { LaunchTemplateId: account.template?.id ?? 'lt-none', Version: group.version };
        return {
          AutoScalingGroups: [
            {
              AutoScalingGroupName: group.name,
              ...(group.mixed
                ? { MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: spec } } }
                : { LaunchTemplate: spec }),
              Instances: group.instances.map((i) => ({
                InstanceId: i.id,
                LaunchTemplate: { LaunchTemplateId: spec.LaunchTemplateId, Version: i.version },
              })),
            },
          ],
        };
      }
      throw new Error('fake Auto Scaling knows DescribeAutoScalingGroups only');
    },
  };
  const ssm = {
    async send(command: unknown): Promise<unknown> {
      throttled(account);
      record(account, command);
      if (command instanceof GetParameterCommand) {
        const value = account.parameters[command.input.Name ?? ''];
        if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
        return { Parameter: { Name: command.input.Name, Value: value } };
      }
      throw new Error('fake SSM knows GetParameter only');
    },
  };
  const imagebuilder = {
    async send(command: unknown): Promise<unknown> {
      throttled(account);
      record(account, command);
      if (command instanceof DeleteImageCommand) {
        account.log.push(`delete-image ${command.input.imageBuildVersionArn}`);
        return {};
      }
      throw new Error('fake Image Builder knows DeleteImage only');
    },
  };
  return {
    ec2: ec2 as unknown as EC2Client,
    autoscaling: autoscaling as unknown as AutoScalingClient,
    ssm: ssm as unknown as SSMClient,
    imagebuilder: imagebuilder as unknown as ImagebuilderClient,
  };
}
