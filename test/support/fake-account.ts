import { AutoScalingClient, type LaunchTemplateSpecification } from '@aws-sdk/client-auto-scaling';
import type {
  CreateTagsCommandInput,
  DeleteLaunchTemplateVersionsCommandInput,
  DeleteSnapshotCommandInput,
  DeregisterImageCommandInput,
  DescribeImagesCommandInput,
  DescribeInstancesCommandInput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplateVersionsCommandInput,
  DescribeSnapshotsCommandInput,
  Filter,
  Image,
  Tag,
} from '@aws-sdk/client-ec2';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { SSMClient } from '@aws-sdk/client-ssm';
import { awsError, type CommandTable, command, describeMeter, type FakeAws } from './fake-aws';

/**
 * An in-memory AWS account for AMI retention: the state the command handlers below read and change,
 * served through FakeAws (fake-aws.ts) to the unit tests and the benchmark alike.
 */
export interface Account {
  images: Map<string, Image>;
  /** Snapshot → the AMI it backs. */
  snapshots: Map<string, string>;
  /** Tags put on snapshots (CreateTags). */
  snapshotTags: Map<string, Tag[]>;
  imageBuilderImages: Set<string>;
  launchTemplates: Array<{
    LaunchTemplateId: string;
    LaunchTemplateName: string;
    Tags: Tag[];
    DefaultVersionNumber: number;
    versions: Array<{ VersionNumber: number; ImageId: string; CreateTime?: Date }>;
    /** Versions EC2 refuses to delete (reported in UnsuccessfullyDeletedLaunchTemplateVersions). */
    undeletable?: number[];
  }>;
  instances: Array<{ InstanceId: string; ImageId: string; State: string; Tags: Tag[] }>;
  parameters: Map<string, string>;
  /** Auto Scaling groups as DescribeAutoScalingGroups reports them, with what retention reads. */
  groups: Array<{
    AutoScalingGroupName: string;
    LaunchTemplate?: LaunchTemplateSpecification;
    MixedInstancesPolicy?: { LaunchTemplate: { LaunchTemplateSpecification: LaunchTemplateSpecification } };
    Instances?: Array<{ InstanceId: string; LaunchTemplate?: LaunchTemplateSpecification }>;
  }>;
  deregistered: string[];
  /**
   * Every change in order: `deregister ami-…`, `delete-snapshot snap-…`, `tag snap-…`,
   * `delete-image <arn>`, `delete-version <n>`.
   */
  log: string[];
  /** Largest page returned whatever MaxResults asks (small pages exercise pagination). */
  pageSize?: number;
  /** False: a region whose DeregisterImage does not know DeleteAssociatedSnapshots. */
  deleteAssociatedSnapshots?: boolean;
}

/** An account holding nothing yet. */
export function emptyAccount(): Account {
  return {
    images: new Map(),
    snapshots: new Map(),
    snapshotTags: new Map(),
    imageBuilderImages: new Set(),
    launchTemplates: [],
    instances: [],
    parameters: new Map(),
    groups: [],
    deregistered: [],
    log: [],
  };
}

/** Fails loudly on a parameter the fake does not model, rather than ignoring it. */
function accept(action: string, input: object, keys: string[]): void {
  const unknown = Object.keys(input).filter((key) => !keys.includes(key));
  if (unknown.length) throw new Error(`the in-memory ${action} does not model ${unknown.join(', ')}`);
}

function page<T>(
  account: Account,
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
  const size = Math.min(input.MaxResults ?? items.length, account.pageSize ?? Number.POSITIVE_INFINITY);
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
        const { items, NextToken } = page(account, 'DescribeImages', images, input, [5, 1000]);
        return { Images: items, NextToken };
      },
    }),
    DescribeLaunchTemplates: command<DescribeLaunchTemplatesCommandInput>({
      meter: describeMeter,
      latencyMs: 200,
      handle: (input) => {
        accept('DescribeLaunchTemplates', input, ['Filters', 'MaxResults', 'NextToken']);
        const templates = filtered('DescribeLaunchTemplates', account.launchTemplates, input.Filters, {});
        const { items, NextToken } = page(account, 'DescribeLaunchTemplates', templates, input, [1, 200]);
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
        const { items, NextToken } = page(
          account,
          'DescribeLaunchTemplateVersions',
          versions,
          input,
          [1, 200],
        );
        return {
          LaunchTemplateVersions: items.map((v) => ({
            LaunchTemplateId: template.LaunchTemplateId,
            VersionNumber: v.VersionNumber,
            DefaultVersion: v.VersionNumber === template.DefaultVersionNumber,
            CreateTime: v.CreateTime,
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
        const refused: Array<{ VersionNumber: number; ResponseError: { Code: string; Message: string } }> =
          [];
        for (const version of (input.Versions ?? []).map(Number)) {
          const Code = !template.versions.some((v) => v.VersionNumber === version)
            ? 'launchTemplateVersionDoesNotExist'
            : version === template.DefaultVersionNumber
              ? 'launchTemplateVersionIsDefault'
              : template.undeletable?.includes(version)
                ? 'unexpectedError'
                : undefined;
          if (Code) refused.push({ VersionNumber: version, ResponseError: { Code, Message: Code } });
          else {
            ok.push(version);
            account.log.push(`delete-version ${version}`);
          }
        }
        template.versions = template.versions.filter((v) => !ok.includes(v.VersionNumber));
        return {
          SuccessfullyDeletedLaunchTemplateVersions: ok.map((VersionNumber) => ({ VersionNumber })),
          UnsuccessfullyDeletedLaunchTemplateVersions: refused,
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
        const { items, NextToken } = page(account, 'DescribeInstances', instances, input, [5, 1000]);
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
        accept('DeregisterImage', input, ['ImageId', 'DeleteAssociatedSnapshots']);
        if (input.DeleteAssociatedSnapshots !== undefined && account.deleteAssociatedSnapshots === false)
          throw awsError('UnknownParameter', 'The parameter DeleteAssociatedSnapshots is not recognized');
        const image = account.images.get(input.ImageId ?? '');
        if (!image) {
          throw awsError('InvalidAMIID.NotFound', `The image id '[${input.ImageId}]' does not exist`);
        }
        account.images.delete(input.ImageId ?? '');
        account.deregistered.push(input.ImageId ?? '');
        account.log.push(`deregister ${input.ImageId}`);
        if (!input.DeleteAssociatedSnapshots) return { Return: true };
        // "If a snapshot is associated with multiple AMIs, it is not deleted"
        // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html).
        const DeleteSnapshotResults = (image.BlockDeviceMappings ?? []).flatMap((m) => {
          const id = m.Ebs?.SnapshotId;
          if (!id || !account.snapshots.has(id)) return [];
          if (account.images.has(account.snapshots.get(id) ?? ''))
            return [{ SnapshotId: id, ReturnCode: 'skipped' }];
          account.snapshots.delete(id);
          account.snapshotTags.delete(id);
          account.log.push(`delete-snapshot ${id}`);
          return [{ SnapshotId: id, ReturnCode: 'success' }];
        });
        return { Return: true, DeleteSnapshotResults };
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
        account.snapshotTags.delete(id);
        account.log.push(`delete-snapshot ${id}`);
        return {};
      },
    }),
    CreateTags: command<CreateTagsCommandInput>({
      meter: MUTATING,
      latencyMs: 150,
      handle: (input) => {
        const resources = input.Resources ?? [];
        if (resources.length > 1000) throw awsError('InvalidParameterValue', 'at most 1000 resources');
        const unknown = resources.filter((id) => !account.snapshots.has(id));
        if (unknown.some((id) => !id.startsWith('snap-')))
          throw new Error(`the in-memory CreateTags models snapshots only, not ${unknown.join(', ')}`);
        if (unknown.length) throw awsError('InvalidSnapshot.NotFound', `${unknown.join(', ')} do not exist`);
        for (const id of resources) {
          const tags = (account.snapshotTags.get(id) ?? []).filter(
            (t) => !(input.Tags ?? []).some((n) => n.Key === t.Key),
          );
          account.snapshotTags.set(id, [...tags, ...(input.Tags ?? [])]);
          account.log.push(`tag ${id}`);
        }
        return {};
      },
    }),
    DescribeSnapshots: command<DescribeSnapshotsCommandInput>({
      meter: describeMeter,
      latencyMs: 300,
      handle: (input) => {
        accept('DescribeSnapshots', input, ['OwnerIds', 'Filters', 'MaxResults', 'NextToken']);
        if (input.OwnerIds && input.OwnerIds.join() !== 'self')
          throw new Error('only OwnerIds [self] is modeled');
        const snapshots = [...account.snapshots.keys()].map((SnapshotId) => ({
          SnapshotId,
          Tags: account.snapshotTags.get(SnapshotId) ?? [],
        }));
        const { items, NextToken } = page(
          account,
          'DescribeSnapshots',
          filtered('DescribeSnapshots', snapshots, input.Filters, {}),
          input,
          [5, 1000],
        );
        return { Snapshots: items, NextToken };
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
        account.log.push(`delete-image ${imageBuildVersionArn}`);
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

/** The clients AMI retention takes, served from `account` through `aws`. */
export function retentionClients(aws: FakeAws, account: Account) {
  return {
    ec2: aws.client(EC2Client, 'ec2', ec2Commands(account)),
    ssm: aws.client(SSMClient, 'ssm', ssmCommands(account)),
    imagebuilder: aws.client(ImagebuilderClient, 'imagebuilder', imageBuilderCommands(account)),
    autoscaling: aws.client(AutoScalingClient, 'autoscaling', autoScalingCommands(account)),
  };
}
