import { type Json, type States, sdkTask } from '../asl';
import { ended, present } from '../choices';
import { BAD_AMI_TAG } from '../pieces';
import { catchAll, retry } from '../retry';
import { AMI_TAG } from './tags';
import { tell } from './tell';

/** Image Builder lists one AMI per distribution region: the one of this region, among the first four. */
const REGIONS_LISTED = [0, 1, 2, 3];

/** The tags of the AMI at `$.ami` that match `filters`, under `resultPath`. */
const amiTags = (filters: Json[], resultPath: string, next: string) =>
  sdkTask('ec2', 'describeTags', {
    Parameters: { Filters: [{ Name: 'resource-id', 'Values.$': 'States.Array($.ami)' }, ...filters] },
    ResultSelector: { 'tags.$': '$.Tags' },
    ResultPath: resultPath,
    Retry: retry('ec2'),
    Catch: catchAll('NotifyError'),
    Next: next,
    scope: 'anyResource',
  });

/**
 * The new image's AMI in this region, under `$.ami`, unless the fleet is pinned (skipped), the
 * image has none here or the AMI is marked bad (both failed); then on to `next`, with the AMI's
 * creation date and snapshots and the launch template version an earlier delivery made for it.
 */
export function imageAmi(next: string): States {
  return {
    'Pinned?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.pinned', StringEquals: 'none', Next: 'GetImage' }],
      Default: 'NotifyPinned',
    },
    NotifyPinned: tell(
      'new AMI not rolled out (pinned)',
      "States.Format('The image {} is available, but workerAmiId pins the fleet to {}: pinned, not rolled out.', $.imageArn, $.pinned)",
      'PinnedNotRolledOut',
    ),
    PinnedNotRolledOut: ended('skipped'),
    GetImage: sdkTask('imagebuilder', 'getImage', {
      Parameters: { 'ImageBuildVersionArn.$': '$.imageArn' },
      ResultSelector: { 'amis.$': '$.Image.OutputResources.Amis' },
      ResultPath: '$.image',
      Retry: retry('imagebuilder'),
      Catch: catchAll('NotifyError'),
      Next: 'RegionalAmi?',
      scope: 'readThisStacksImages',
    }),
    'RegionalAmi?': {
      Type: 'Choice',
      Choices: REGIONS_LISTED.map((index) => ({
        And: present(`$.image.amis[${index}].Region`, { StringEquals: '${Region}' }),
        Next: `UseAmi${index}`,
      })),
      Default: 'NotifyNoAmi',
    },
    ...Object.fromEntries(
      REGIONS_LISTED.map((index) => [
        `UseAmi${index}`,
        {
          Type: 'Pass',
          InputPath: `$.image.amis[${index}].Image`,
          ResultPath: '$.ami',
          Next: 'DescribeAmi',
        },
      ]),
    ),
    NotifyNoAmi: tell(
      'image has no AMI here',
      "States.Format('The image {} has no AMI in ${Region}; nothing rolled out.', $.imageArn)",
      'NoAmi',
    ),
    NoAmi: { Type: 'Fail', Error: 'NoAmiInRegion', Cause: 'The image distributed no AMI to this region.' },
    DescribeAmi: sdkTask('ec2', 'describeImages', {
      Parameters: { 'ImageIds.$': 'States.Array($.ami)' },
      ResultSelector: {
        'creationDate.$': '$.Images[0].CreationDate',
        // Read by TagAmiSnapshots: Image Builder's AmiTags reach the AMI, never its snapshots.
        'blockDeviceMappings.$': '$.Images[0].BlockDeviceMappings',
        'architecture.$': '$.Images[0].Architecture',
      },
      ResultPath: '$.amiInfo',
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'RunsOnTheTypes?',
      scope: 'anyResource',
    }),
    // A build started before the instance types changed architecture: its AMI cannot boot on them.
    // Refused before anything changes, and not marked bad: it is a good AMI for the other types.
    'RunsOnTheTypes?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.amiInfo.architecture', StringEquals: '${WorkerArchitecture}', Next: 'ReadBadMark' },
      ],
      Default: 'NotifyOtherArchitecture',
    },
    NotifyOtherArchitecture: tell(
      'AMI refused (other architecture)',
      "States.Format('The AMI {} of image {} is built for {}, and the instance types of the fleet are ${WorkerArchitecture}: not rolled out. The next build is of the right architecture.', $.ami, $.imageArn, $.amiInfo.architecture)",
      'AmiOfAnotherArchitecture',
    ),
    AmiOfAnotherArchitecture: {
      Type: 'Fail',
      Error: 'AmiOfAnotherArchitecture',
      Cause: "The AMI's architecture is not the instance types' one.",
    },
    ReadBadMark: amiTags(
      [
        { Name: 'key', Values: [BAD_AMI_TAG] },
        { Name: 'value', Values: ['true'] },
      ],
      '$.badMark',
      'Bad?',
    ),
    'Bad?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.badMark.tags[0]', IsPresent: true, Next: 'NotifyBadAmi' }],
      Default: 'ReadVersionMark',
    },
    NotifyBadAmi: tell(
      'AMI refused (marked bad)',
      "States.Format('The AMI {} of image {} is tagged external-worker:bad=true by an earlier failed rollout: refused. Remove the tag to allow it again.', $.ami, $.imageArn)",
      'AmiMarkedBad',
    ),
    AmiMarkedBad: {
      Type: 'Fail',
      Error: 'AmiMarkedBad',
      Cause: 'The AMI is tagged external-worker:bad=true.',
    },
    ReadVersionMark: amiTags([{ Name: 'key', Values: [AMI_TAG.version] }], '$.versionMark', next),
  };
}
