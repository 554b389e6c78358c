import type {
  DeleteLaunchTemplateVersionsCommandInput,
  DeleteSnapshotCommandInput,
  DeregisterImageCommandInput,
  DescribeImagesCommandInput,
  DescribeInstancesCommandInput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplateVersionsCommandInput,
  Filter,
  Image,
  Tag,
} from '@aws-sdk/client-ec2';
import { awsError, type CommandTable, command, describeMeter } from './fake-aws';

/** What the in-memory account holds: the state the handlers below read and change. */
export interface Account {
  images: Map<string, Image>;
  /** Snapshot → the AMI it backs. */
  snapshots: Map<string, string>;
  imageBuilderImages: Set<string>;
  launchTemplates: Array<{
    LaunchTemplateId: string;
    LaunchTemplateName: string;
    Tags: Tag[];
    DefaultVersionNumber: number;
    versions: Array<{ VersionNumber: number; ImageId: string }>;
  }>;
  instances: Array<{ InstanceId: string; ImageId: string; State: string; Tags: Tag[] }>;
  parameters: Map<string, string>;
  groups: Array<{
    AutoScalingGroupName: string;
    LaunchTemplate: { LaunchTemplateId: string; Version: string };
  }>;
  deregistered: string[];
}

/** Fails loudly on a parameter the fake does not model, rather than ignoring it. */
function accept(action: string, input: object, keys: string[]): void {
  const unknown = Object.keys(input).filter((key) => !keys.includes(key));
  if (unknown.length) throw new Error(`the in-memory ${action} does not model ${unknown.join(', ')}`);
}

function page<T>(
  action: string,
  items: T[],
  input: { MaxResults?: number; NextToken?: string },
  [min, max]: [number, number],
): { items: T[]; NextToken?: string } {
  if (input.MaxResults !== undefined && (input.MaxResults < min || input.MaxResults > max)) {
    throw awsError('InvalidParameterValue', `${action}: MaxResults must be between ${min} and ${max}`);
  }
  const start = input.NextToken ? Number(input.NextToken.replace(`${action}:`, '')) : 0;
  if (!Number.isInteger(start)) throw awsError('InvalidParameterValue', `${action}: bad NextToken`);
  const size = input.MaxResults ?? items.length;
  const end = start + size;
  return { items: items.slice(start, end), NextToken: end < items.length ? `${action}:${end}` : undefined };
}

type Matchers<T> = Record<string, (item: T, values: string[]) => boolean>;

function filtered<T extends { Tags?: Tag[] }>(
  action: string,
  items: T[],
  filters: Filter[] = [],
  matchers: Matchers<T>,
): T[] {
  const tests = filters.map((filter) => {
    const name = filter.Name ?? '';
    const values = filter.Values ?? [];
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      return (item: T) => (item.Tags ?? []).some((t) => t.Key === key && values.includes(t.Value ?? ''));
    }
    const match = matchers[name];
    if (!match) throw new Error(`the in-memory ${action} does not model the filter ${name}`);
    return (item: T) => match(item, values);
  });
  return items.filter((item) => tests.every((test) => test(item)));
}

const MUTATING = () => 'mutating' as const;

export function ec2Commands(account: Account): CommandTable {
  return {
    DescribeImages: command<DescribeImagesCommandInput>({
      meter: describeMeter,
      latencyMs: 1_000,
      handle: (input) => {
        accept('DescribeImages', input, ['Owners', 'Filters', 'MaxResults', 'NextToken']);
        if (input.Owners && input.Owners.join() !== 'self') throw new Error('only Owners [self] is modeled');
        const images = filtered('DescribeImages', [...account.images.values()], input.Filters, {
          state: (image, values) => values.includes(image.State ?? ''),
        });
        const { items, NextToken } = page('DescribeImages', images, input, [5, 1000]);
        return { Images: items, NextToken };
      },
    }),
    DescribeLaunchTemplates: command<DescribeLaunchTemplatesCommandInput>({
      meter: describeMeter,
      latencyMs: 200,
      handle: (input) => {
        accept('DescribeLaunchTemplates', input, ['Filters', 'MaxResults', 'NextToken']);
        const templates = filtered('DescribeLaunchTemplates', account.launchTemplates, input.Filters, {});
        const { items, NextToken } = page('DescribeLaunchTemplates', templates, input, [1, 200]);
        return {
          LaunchTemplates: items.map(({ versions, ...template }) => ({
            ...template,
            LatestVersionNumber: Math.max(...versions.map((v) => v.VersionNumber)),
          })),
          NextToken,
        };
      },
    }),
    DescribeLaunchTemplateVersions: command<DescribeLaunchTemplateVersionsCommandInput>({
      meter: describeMeter,
      latencyMs: 200,
      handle: (input) => {
        accept('DescribeLaunchTemplateVersions', input, [
          'LaunchTemplateId',
          'Versions',
          'MaxResults',
          'NextToken',
        ]);
        const template = account.launchTemplates.find((t) => t.LaunchTemplateId === input.LaunchTemplateId);
        if (!template)
          throw awsError('InvalidLaunchTemplateId.NotFound', `${input.LaunchTemplateId} not found`);
        const wanted = (input.Versions ?? []).map((v) =>
          v === '$Default' ? template.DefaultVersionNumber : v === '$Latest' ? Infinity : Number(v),
        );
        const latest = Math.max(...template.versions.map((v) => v.VersionNumber));
        const versions = template.versions.filter(
          (v) =>
            !wanted.length ||
            wanted.includes(v.VersionNumber) ||
            (wanted.includes(Infinity) && v.VersionNumber === latest),
        );
        const { items, NextToken } = page('DescribeLaunchTemplateVersions', versions, input, [1, 200]);
        return {
          LaunchTemplateVersions: items.map((v) => ({
            LaunchTemplateId: template.LaunchTemplateId,
            VersionNumber: v.VersionNumber,
            DefaultVersion: v.VersionNumber === template.DefaultVersionNumber,
            LaunchTemplateData: { ImageId: v.ImageId },
          })),
          NextToken,
        };
      },
    }),
    DeleteLaunchTemplateVersions: command<DeleteLaunchTemplateVersionsCommandInput>({
      meter: MUTATING,
      latencyMs: 150,
      handle: (input) => {
        const template = account.launchTemplates.find((t) => t.LaunchTemplateId === input.LaunchTemplateId);
        if (!template)
          throw awsError('InvalidLaunchTemplateId.NotFound', `${input.LaunchTemplateId} not found`);
        if ((input.Versions ?? []).length > 200)
          throw awsError('InvalidParameterValue', 'at most 200 versions');
        const ok: number[] = [];
        const refused: number[] = [];
        for (const version of (input.Versions ?? []).map(Number)) {
          const deletable =
            version !== template.DefaultVersionNumber &&
            template.versions.some((v) => v.VersionNumber === version);
          (deletable ? ok : refused).push(version);
        }
        template.versions = template.versions.filter((v) => !ok.includes(v.VersionNumber));
        return {
          SuccessfullyDeletedLaunchTemplateVersions: ok.map((VersionNumber) => ({ VersionNumber })),
          UnsuccessfullyDeletedLaunchTemplateVersions: refused.map((VersionNumber) => ({
            VersionNumber,
            ResponseError: { Code: 'launchTemplateVersionIsDefault' },
          })),
        };
      },
    }),
    DescribeInstances: command<DescribeInstancesCommandInput>({
      meter: describeMeter,
      latencyMs: 300,
      handle: (input) => {
        accept('DescribeInstances', input, ['Filters', 'MaxResults', 'NextToken']);
        const instances = filtered('DescribeInstances', account.instances, input.Filters, {
          'instance-state-name': (instance, values) => values.includes(instance.State),
        });
        const { items, NextToken } = page('DescribeInstances', instances, input, [5, 1000]);
        return {
          Reservations: items.map(({ State, ...instance }) => ({
            Instances: [{ ...instance, State: { Name: State } }],
          })),
          NextToken,
        };
      },
    }),
    DeregisterImage: command<DeregisterImageCommandInput>({
      meter: MUTATING,
      latencyMs: 150,
      handle: (input) => {
        if (!account.images.delete(input.ImageId ?? '')) {
          throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
        }
        account.deregistered.push(input.ImageId ?? '');
        return {};
      },
    }),
    DeleteSnapshot: command<DeleteSnapshotCommandInput>({
      meter: MUTATING,
      latencyMs: 150,
      handle: (input) => {
        const id = input.SnapshotId ?? '';
        if (!account.snapshots.has(id)) throw awsError('InvalidSnapshot.NotFound', `${id} does not exist`);
        if (account.images.has(account.snapshots.get(id) ?? ''))
          throw awsError('InvalidSnapshot.InUse', `${id} is in use by a registered AMI`);
        account.snapshots.delete(id);
        return {};
      },
    }),
  };
}

export function ssmCommands(account: Account): CommandTable {
  return {
    GetParameter: command<{ Name?: string }>({
      latencyMs: 50,
      handle: ({ Name = '' }) => {
        const Value = account.parameters.get(Name);
        if (Value === undefined) throw awsError('ParameterNotFound', `${Name} not found`);
        return { Parameter: { Name, Value, Type: 'String' } };
      },
    }),
  };
}

export function imageBuilderCommands(account: Account): CommandTable {
  return {
    DeleteImage: command<{ imageBuildVersionArn?: string }>({
      latencyMs: 200,
      handle: ({ imageBuildVersionArn = '' }) => {
        if (!account.imageBuilderImages.delete(imageBuildVersionArn)) {
          throw awsError('ResourceNotFoundException', `${imageBuildVersionArn} not found`);
        }
        return { imageBuildVersionArn };
      },
    }),
  };
}

export function autoScalingCommands(account: Account): CommandTable {
  return {
    DescribeAutoScalingGroups: command<{ AutoScalingGroupNames?: string[] }>({
      latencyMs: 200,
      handle: ({ AutoScalingGroupNames }) => ({
        AutoScalingGroups: account.groups.filter(
          (g) => !AutoScalingGroupNames || AutoScalingGroupNames.includes(g.AutoScalingGroupName),
        ),
      }),
    }),
  };
}
