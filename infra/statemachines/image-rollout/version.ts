import { type States, sdkTask } from '../asl';
import { ended } from '../choices';
import { pointGroupAt, ROLLBACK_VERSION_TAG } from '../pieces';
import { catchAll, retry } from '../retry';
import { AMI_TAG, SNAPSHOT_TAGS } from './tags';
import { tell } from './tell';

/**
 * The launch template version of the new AMI, under `$.target`: none if the group runs this AMI
 * already or a newer one (skipped), the one an earlier delivery made, or a new one (the AMI and
 * its snapshots tagged first). An empty group is pointed at it at once (`next.empty`: no refresh
 * to wait for); any other goes on to `next.refresh`.
 */
export function targetVersion(next: { refresh: string; empty: string }): States {
  return {
    DescribeCurrentVersion: sdkTask('ec2', 'describeLaunchTemplateVersions', {
      Parameters: {
        LaunchTemplateId: '${LaunchTemplateId}',
        'Versions.$': 'States.Array($.current.version)',
      },
      ResultSelector: { 'imageId.$': '$.LaunchTemplateVersions[0].LaunchTemplateData.ImageId' },
      ResultPath: '$.currentImage',
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'AlreadyCurrent?',
      scope: 'anyResource',
    }),
    'AlreadyCurrent?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.currentImage.imageId', StringEqualsPath: '$.ami', Next: 'AlreadyRolledOut' }],
      Default: 'DescribeCurrentImage',
    },
    AlreadyRolledOut: ended('skipped', 'The group already runs this AMI: a repeated event acts once.'),
    DescribeCurrentImage: sdkTask('ec2', 'describeImages', {
      Parameters: { 'ImageIds.$': 'States.Array($.currentImage.imageId)' },
      ResultSelector: { 'images.$': '$.Images' },
      ResultPath: '$.currentImageInfo',
      Retry: retry('ec2'),
      Catch: catchAll('TargetKnown?', '$.currentImageError'),
      Next: 'Older?',
      scope: 'anyResource',
    }),
    'Older?': {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.currentImageInfo.images[0].CreationDate', IsPresent: true },
            {
              Variable: '$.amiInfo.creationDate',
              TimestampLessThanPath: '$.currentImageInfo.images[0].CreationDate',
            },
          ],
          Next: 'NotifyOlder',
        },
      ],
      Default: 'TargetKnown?',
    },
    NotifyOlder: tell(
      'older AMI not rolled out',
      "States.Format('The AMI {} of image {} is older than the AMI {} the fleet runs: not rolled out.', $.ami, $.imageArn, $.currentImage.imageId)",
      'OlderThanFleet',
    ),
    OlderThanFleet: ended('skipped'),
    'TargetKnown?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.target', IsPresent: true, Next: 'Empty?' },
        { Variable: '$.versionMark.tags[0].Value', IsPresent: true, Next: 'ReuseVersion' },
      ],
      Default: 'TagAmi',
    },
    ReuseVersion: {
      Type: 'Pass',
      Comment: 'An earlier delivery of this event made the version already.',
      Parameters: { 'version.$': '$.versionMark.tags[0].Value' },
      ResultPath: '$.target',
      Next: 'Empty?',
    },
    TagAmi: sdkTask('ec2', 'createTags', {
      Parameters: {
        'Resources.$': 'States.Array($.ami)',
        Tags: [
          { Key: AMI_TAG.image, 'Value.$': '$.imageArn' },
          { Key: AMI_TAG.rollout, 'Value.$': '$.rollout' },
        ],
      },
      ResultPath: null,
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'AmiSnapshots?',
      scope: 'tagThisStacksAmis',
    }),
    'AmiSnapshots?': {
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.amiInfo.blockDeviceMappings[0].Ebs.SnapshotId',
          IsPresent: true,
          Next: 'TagAmiSnapshots',
        },
      ],
      Default: 'CreateVersion',
    },
    // CreateTags is idempotent: a replayed event tags them again, to the same values.
    TagAmiSnapshots: sdkTask('ec2', 'createTags', {
      Parameters: {
        'Resources.$': '$.amiInfo.blockDeviceMappings[*].Ebs.SnapshotId',
        Tags: SNAPSHOT_TAGS,
      },
      ResultPath: null,
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'CreateVersion',
      scope: 'tagThisStacksAmiSnapshots',
    }),
    CreateVersion: sdkTask('ec2', 'createLaunchTemplateVersion', {
      Parameters: {
        LaunchTemplateId: '${LaunchTemplateId}',
        'SourceVersion.$': '$.current.version',
        'ClientToken.$': "States.Format('rollout-{}', $.ami)",
        'VersionDescription.$': "States.Format('{} from {}', $.ami, $.imageArn)",
        LaunchTemplateData: { 'ImageId.$': '$.ami' },
      },
      ResultSelector: { 'version.$': "States.Format('{}', $.LaunchTemplateVersion.VersionNumber)" },
      ResultPath: '$.target',
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'MarkVersion',
      scope: 'versionThisLaunchTemplate',
    }),
    MarkVersion: sdkTask('ec2', 'createTags', {
      Parameters: {
        'Resources.$': 'States.Array($.ami)',
        Tags: [
          { Key: AMI_TAG.version, 'Value.$': '$.target.version' },
          // Where the launch gate's storm guard returns the group if this AMI never boots.
          { Key: ROLLBACK_VERSION_TAG, 'Value.$': '$.current.version' },
        ],
      },
      ResultPath: null,
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'Empty?',
      scope: 'tagThisStacksAmis',
    }),
    'Empty?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.current.desired', NumericEquals: 0, Next: 'MoveEmptyGroup?' }],
      Default: next.refresh,
    },
    ...pointGroupAt({
      name: 'MoveEmptyGroup',
      version: '$.target.version',
      group: '$.asg.group',
      next: next.empty,
      catch: catchAll('NotifyError'),
      scope: 'refreshThisGroup',
    }),
  };
}
