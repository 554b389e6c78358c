import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
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

export interface FakeAccount {
  images: FakeImage[];
  /** Launch templates: stack tag (or none) and the AMI of each version. */
  templates: Array<{ id: string; stack?: string; versions: string[] }>;
  instances: Array<{ id: string; imageId: string }>;
  parameters: Record<string, string>;
  /** Every mutating call in order: `deregister ami-…`, `delete-snapshot snap-…`, `delete-image arn`. */
  log: string[];
  /** Probability that a call fails once with a throttling error. */
  throttle: number;
  random: () => number;
}

const PAGE_SIZE = 7;

function page<T>(items: T[], token: string | undefined): { items: T[]; NextToken?: string } {
  const start = token ? Number(token) : 0;
  const next = start + PAGE_SIZE;
  return { items: items.slice(start, next), NextToken: next < items.length ? String(next) : undefined };
}

function throttled(account: FakeAccount): void {
  if (account.random() < account.throttle) {
    throw Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
  }
}

const tagValue = (filters: Array<{ Name?: string; Values?: string[] }> | undefined, name: string) =>
  filters?.find((f) => f.Name === name)?.Values;

export function fakeClients(account: FakeAccount): RetentionClients {
  const ec2 = {
    async send(command: unknown): Promise<unknown> {
      throttled(account);
      if (command instanceof DescribeImagesCommand) {
        const stacks = tagValue(command.input.Filters, 'tag:external-worker:stack');
        const listed = account.images.filter((i) => !stacks || stacks.includes(i.stack));
        const { items, NextToken } = page(listed, command.input.NextToken);
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
      if (command instanceof DescribeLaunchTemplatesCommand) {
        const stacks = tagValue(command.input.Filters, 'tag:external-worker:stack');
        const listed = account.templates.filter((t) => t.stack && (!stacks || stacks.includes(t.stack)));
        const { items, NextToken } = page(listed, command.input.NextToken);
        return { NextToken, LaunchTemplates: items.map((t) => ({ LaunchTemplateId: t.id })) };
      }
      if (command instanceof DescribeLaunchTemplateVersionsCommand) {
        const template = account.templates.find((t) => t.id === command.input.LaunchTemplateId);
        const { items, NextToken } = page(template?.versions ?? [], command.input.NextToken);
        return {
          NextToken,
          LaunchTemplateVersions: items.map((imageId) => ({ LaunchTemplateData: { ImageId: imageId } })),
        };
      }
      if (command instanceof DescribeInstancesCommand) {
        const { items, NextToken } = page(account.instances, command.input.NextToken);
        return {
          NextToken,
          Reservations: [{ Instances: items.map((i) => ({ InstanceId: i.id, ImageId: i.imageId })) }],
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
  const ssm = {
    async send(command: unknown): Promise<unknown> {
      throttled(account);
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
      if (command instanceof DeleteImageCommand) {
        account.log.push(`delete-image ${command.input.imageBuildVersionArn}`);
        return {};
      }
      throw new Error('fake Image Builder knows DeleteImage only');
    },
  };
  return {
    ec2: ec2 as unknown as EC2Client,
    ssm: ssm as unknown as SSMClient,
    imagebuilder: imagebuilder as unknown as ImagebuilderClient,
  };
}
