import { type States, sdkTask } from './asl';
import { BAD_AMI_TAG, markAmiBad, notify, pointGroupAt, ROLLBACK_VERSION_TAG } from './pieces';
import { catchAll, retry } from './retry';

/**
 * The launch gate's guard against relaunch storms. Each failed boot is a tag on the instance's AMI,
 * `external-worker:boot-failure:<instance id>`: the same event twice writes the same tag, so counts
 * once, and concurrent executions never lose a count. A healthy boot of the AMI removes them (the
 * count is of failures in a row) and its rollback-version tag (the AMI is proven: the last good one).
 *
 * At `bootFailureLimit` failures, an AMI a rollout brought (it still has its rollback version) is
 * marked bad and the group is put back on the version it ran before, once: the execution that finds
 * the AMI not yet bad does it and notifies. A proven AMI has nothing to go back to: the execution
 * whose failure reaches the limit notifies. Whatever the guard cannot do, the failed instance still
 * never joins the fleet (fail closed) and its notification says the count is unknown.
 */
export const BOOT_FAILURE_TAG = 'external-worker:boot-failure:';

const amiTags = (
  key: string,
  selector: Record<string, string>,
  resultPath: string,
  next: string,
  onError: string,
) =>
  sdkTask('ec2', 'describeTags', {
    Parameters: {
      Filters: [
        { Name: 'resource-id', 'Values.$': 'States.Array($.image.id)' },
        { Name: 'key', Values: [key] },
      ],
    },
    ResultSelector: selector,
    ResultPath: resultPath,
    Retry: retry('ec2'),
    Catch: catchAll(onError, '$.guardError'),
    Next: next,
    scope: 'anyResource',
  });

/** The AMI of the instance, under `$.image.id`, or `noImage` when the instance is unknown. */
const readImage = (name: string, next: string, noImage: string, onError: string): States => ({
  [name]: sdkTask('ec2', 'describeInstances', {
    Comment: 'A filter, not InstanceIds: an instance gone meanwhile is an empty answer, not an error.',
    Parameters: { Filters: [{ Name: 'instance-id', 'Values.$': 'States.Array($.instanceId)' }] },
    ResultSelector: { 'reservations.$': '$.Reservations' },
    ResultPath: '$.image',
    Retry: retry('ec2'),
    Catch: catchAll(onError, '$.guardError'),
    Next: `${name}Known?`,
    scope: 'anyResource',
  }),
  [`${name}Known?`]: {
    Type: 'Choice',
    Choices: [
      { Variable: '$.image.reservations[0].Instances[0].ImageId', IsPresent: true, Next: `${name}Id` },
    ],
    Default: noImage,
  },
  [`${name}Id`]: {
    Type: 'Pass',
    Parameters: { 'id.$': '$.image.reservations[0].Instances[0].ImageId' },
    ResultPath: '$.image',
    Next: next,
  },
});

const tellStorm = (subject: string, message: string, next: string) =>
  notify({
    subject: { 'Subject.$': subject },
    message: { 'Message.$': message },
    catch: catchAll(next, '$.notifyError'),
    next,
  });

/** Counts a failed boot, then to `next` (the keeprunning check), through the guard at the limit. */
export function stormGuard(next: string): States {
  return {
    ...readImage('ReadImage', 'RecordBootFailure', 'ImageUnknown', 'GuardFailed'),
    ImageUnknown: {
      Type: 'Pass',
      Result: { count: 'unknown (the instance is gone, and with it which AMI it ran)' },
      ResultPath: '$.failures',
      Next: next,
    },
    RecordBootFailure: sdkTask('ec2', 'createTags', {
      Comment: 'One tag per failed instance: a repeated event rewrites the same tag.',
      Parameters: {
        'Resources.$': 'States.Array($.image.id)',
        Tags: [
          {
            'Key.$': `States.Format('${BOOT_FAILURE_TAG}{}', $.instanceId)`,
            'Value.$': '$$.State.EnteredTime',
          },
        ],
      },
      ResultPath: null,
      Retry: retry('ec2'),
      Catch: catchAll('GuardFailed', '$.guardError'),
      Next: 'CountBootFailures',
      scope: 'recordBootsOnAmis',
    }),
    CountBootFailures: amiTags(
      `${BOOT_FAILURE_TAG}*`,
      { 'count.$': 'States.ArrayLength($.Tags)' },
      '$.failures',
      'Storm?',
      'GuardFailed',
    ),
    'Storm?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.failures.count', NumericGreaterThanEqualsPath: '$.guard.limit', Next: 'ReadBadMark' },
      ],
      Default: next,
    },
    GuardFailed: {
      Type: 'Pass',
      Comment:
        'The failed instance is still kept out of the fleet; its notification says the count is unknown.',
      Parameters: {
        'count.$':
          "States.Format('unknown (the storm guard could not count: {})', States.JsonToString($.guardError))",
      },
      ResultPath: '$.failures',
      Next: next,
    },
    ReadBadMark: amiTags(BAD_AMI_TAG, { 'tags.$': '$.Tags' }, '$.badMark', 'AlreadyBad?', 'GuardFailed'),
    'AlreadyBad?': {
      Type: 'Choice',
      Comment: 'Marked bad by an earlier failure (or a rollout): the group was returned already.',
      Choices: [{ Variable: '$.badMark.tags[0]', IsPresent: true, Next: next }],
      Default: 'ReadRollbackVersion',
    },
    ReadRollbackVersion: amiTags(
      ROLLBACK_VERSION_TAG,
      { 'tags.$': '$.Tags' },
      '$.returnTo',
      'Proven?',
      'GuardFailed',
    ),
    'Proven?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.returnTo.tags[0].Value', IsPresent: true, Next: 'MarkStormAmiBad' }],
      Default: 'FirstAtLimit?',
    },
    'FirstAtLimit?': {
      Type: 'Choice',
      Comment: 'The last good AMI fails: one notification, by the failure that reaches the limit.',
      Choices: [
        { Variable: '$.failures.count', NumericEqualsPath: '$.guard.limit', Next: 'NotifyLastGoodFailing' },
      ],
      Default: next,
    },
    NotifyLastGoodFailing: tellStorm(
      "States.Format('${StackName}: last good AMI {} fails to boot', $.image.id)",
      "States.Format('{} boots in a row of the AMI {} failed in ${GroupName}, the last good AMI (it booted healthy before, or no rollout brought it): there is no earlier version to return to, and the group goes on replacing its workers. The cause is likely outside the image (worker key, team, scheduler, network, capacity). Last failure: instance {}: {} ({}).', $.failures.count, $.image.id, $.instanceId, $.verdict.reason, $.boot.value.message)",
      next,
    ),
    MarkStormAmiBad: markAmiBad({
      comment: 'First, so that a concurrent failure of the same AMI does not return the group a second time.',
      ami: '$.image.id',
      next: 'DescribeGroupToReturn',
      catch: catchAll('GuardFailed', '$.guardError'),
    }),
    DescribeGroupToReturn: sdkTask('autoscaling', 'describeAutoScalingGroups', {
      Parameters: { AutoScalingGroupNames: ['${GroupName}'] },
      ResultSelector: { 'group.$': '$.AutoScalingGroups[0]' },
      ResultPath: '$.asg',
      Retry: retry('autoscaling'),
      Catch: catchAll('NotifyStormNotReturned', '$.returnError'),
      Next: 'ReturnGroup?',
      scope: 'anyResource',
    }),
    ...pointGroupAt({
      name: 'ReturnGroup',
      version: '$.returnTo.tags[0].Value',
      group: '$.asg.group',
      next: 'NotifyStorm',
      // An instance refresh with a desired configuration owns the group while it runs: its own
      // alarms roll it back instead.
      catch: catchAll('NotifyStormNotReturned', '$.returnError'),
      scope: 'returnThisGroup',
    }),
    NotifyStorm: tellStorm(
      "States.Format('${StackName}: AMI {} marked bad after {} failed boots', $.image.id, $.failures.count)",
      "States.Format('{} boots in a row of the AMI {} failed in ${GroupName}: it is tagged external-worker:bad=true and the group is back on launch template version {}, the version it ran before. Workers still booting from the AMI are abandoned as they fail. Last failure: instance {}: {} ({}).', $.failures.count, $.image.id, $.returnTo.tags[0].Value, $.instanceId, $.verdict.reason, $.boot.value.message)",
      next,
    ),
    NotifyStormNotReturned: tellStorm(
      "States.Format('${StackName}: AMI {} marked bad after {} failed boots', $.image.id, $.failures.count)",
      "States.Format('{} boots in a row of the AMI {} failed in ${GroupName}: it is tagged external-worker:bad=true, but the group could not be put back on launch template version {}: {}. An instance refresh under way rolls back on its alarms; otherwise move the group by hand.', $.failures.count, $.image.id, $.returnTo.tags[0].Value, States.JsonToString($.returnError))",
      next,
    ),
  };
}

/**
 * After a healthy boot: its AMI's failures in a row are over, and the AMI is proven. Best effort:
 * what stays is cleared by the next healthy boot.
 */
export function clearBootRecord(next: string): States {
  return {
    ...readImage('ReadHealthyImage', 'ReadBootRecord', next, next),
    ReadBootRecord: sdkTask('ec2', 'describeTags', {
      Parameters: {
        Filters: [
          { Name: 'resource-id', 'Values.$': 'States.Array($.image.id)' },
          { Name: 'key', Values: [`${BOOT_FAILURE_TAG}*`, ROLLBACK_VERSION_TAG] },
        ],
      },
      ResultSelector: { 'tags.$': '$.Tags' },
      ResultPath: '$.bootRecord',
      Retry: retry('ec2'),
      Catch: catchAll(next, '$.guardError'),
      Next: 'BootRecord?',
      scope: 'anyResource',
    }),
    'BootRecord?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.bootRecord.tags[0]', IsPresent: true, Next: 'BootRecordKeys' }],
      Default: next,
    },
    BootRecordKeys: {
      Type: 'Map',
      Comment: 'DeleteTags takes the keys alone: a value given must match.',
      ItemsPath: '$.bootRecord.tags',
      ItemSelector: { 'Key.$': '$$.Map.Item.Value.Key' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'TagKey',
        States: { TagKey: { Type: 'Pass', End: true } },
      },
      ResultPath: '$.bootRecord.keys',
      Next: 'ClearBootRecord',
    },
    ClearBootRecord: sdkTask('ec2', 'deleteTags', {
      Parameters: { 'Resources.$': 'States.Array($.image.id)', 'Tags.$': '$.bootRecord.keys' },
      ResultPath: null,
      Retry: retry('ec2'),
      Catch: catchAll(next, '$.guardError'),
      Next: next,
      scope: 'clearBootRecordOnAmis',
    }),
  };
}
