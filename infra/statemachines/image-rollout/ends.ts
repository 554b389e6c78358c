import { lambdaTask, type States, sdkTask } from '../asl';
import { ended } from '../choices';
import { markAmiBad } from '../pieces';
import { catchAll, catchFunction, retry, retryFunction } from '../retry';
import { failedCheck } from './alarms';
import { tell } from './tell';

/** Wherever an AMI's rollout ends once its refresh succeeded: the new version made the default. */
function imageRolledOut(): States {
  return {
    SetDefaultVersion: sdkTask('ec2', 'modifyLaunchTemplate', {
      Parameters: { LaunchTemplateId: '${LaunchTemplateId}', 'DefaultVersion.$': '$.target.version' },
      ResultPath: null,
      Retry: retry('ec2'),
      Catch: catchAll('NotifyError'),
      Next: 'RecordCurrentAmi',
      scope: 'versionThisLaunchTemplate',
    }),
    RecordCurrentAmi: sdkTask('ssm', 'putParameter', {
      Parameters: { Name: '${CurrentAmiParameter}', 'Value.$': '$.ami', Type: 'String', Overwrite: true },
      ResultPath: null,
      Retry: retry('ssm'),
      Catch: catchAll('NotifyError'),
      Next: 'RunRetention',
      scope: 'recordCurrentAmi',
    }),
    RunRetention: lambdaTask({
      Parameters: {
        FunctionName: '${RetentionFunctionArn}',
        Payload: {
          'protectNewerThan.$': '$.amiInfo.creationDate',
          'protectAmis.$': 'States.Array($.currentImage.imageId)',
        },
      },
      ResultSelector: { 'deleted.$': '$.Payload.deleted' },
      ResultPath: '$.retention',
      Retry: retryFunction(),
      Catch: catchFunction('NotifyRolledOutRetentionFailed', '$.retentionError'),
      Next: 'NotifyRolledOut',
      scope: 'retentionFunction',
    }),
    NotifyRolledOut: tell(
      'new AMI rolled out',
      "States.Format('The fleet ${GroupName} now runs {} (image {}, launch template version {}). Old AMIs cleaned up: {}', $.ami, $.imageArn, $.target.version, States.JsonToString($.retention.deleted))",
      'RolledOut',
    ),
    NotifyRolledOutRetentionFailed: tell(
      'new AMI rolled out, retention failed',
      "States.Format('The fleet ${GroupName} now runs {} (image {}, launch template version {}). The AMI retention failed and runs again daily: {}', $.ami, $.imageArn, $.target.version, States.JsonToString($.retentionError))",
      'RolledOut',
    ),
    RolledOut: ended('succeeded'),
  };
}

/**
 * How a rollout ends, by mode: `SucceededByMode` after a successful refresh, `ReadFailedAlarms`
 * after a failed one (its AMI then marked bad), `NotifyError` on any failed call.
 */
export function rolloutEnds(): States {
  return {
    SucceededByMode: {
      Type: 'Choice',
      Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: 'NotifyConfigApplied' }],
      Default: 'SetDefaultVersion',
    },
    ...imageRolledOut(),
    ...failedCheck('FailedByMode'),
    FailedByMode: {
      Type: 'Choice',
      Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: 'NotifyConfigFailed' }],
      Default: 'MarkAmiBad',
    },
    MarkAmiBad: markAmiBad({
      ami: '$.ami',
      next: 'NotifyRolloutFailed',
      catch: catchAll('NotifyRolloutFailed', '$.markError'),
    }),
    NotifyRolloutFailed: tell(
      'rollout failed, fleet rolled back',
      "States.Format('The rollout of {} (image {}) ended {}. Failed check: {}. The AMI is marked external-worker:bad=true and is never rolled out again automatically. Instance refresh: {}', $.ami, $.imageArn, $.refreshState.status, $.failedCheck.summary, States.JsonToString($.refreshState.detail))",
      'RolloutFailed',
    ),
    RolloutFailed: {
      Type: 'Fail',
      Error: 'RolloutFailed',
      Cause: 'The instance refresh did not succeed; the notification carries its reason.',
    },
    NotifyConfigApplied: tell(
      'configuration rolled out',
      "States.Format('Every instance of ${GroupName} now runs launch template version {}.', $.target.version)",
      'ConfigApplied',
    ),
    ConfigApplied: ended('succeeded'),
    NotifyConfigFailed: tell(
      'configuration rollout failed',
      "States.Format('The refresh of ${GroupName} to launch template version {} ended {}. Failed check: {}. Instance refresh: {}', $.target.version, $.refreshState.status, $.failedCheck.summary, States.JsonToString($.refreshState.detail))",
      'ConfigRolloutFailed',
    ),
    ConfigRolloutFailed: {
      Type: 'Fail',
      Error: 'ConfigRolloutFailed',
      Cause: 'The instance refresh did not succeed; the notification carries its reason.',
    },
    NotifyError: tell(
      'rollout stopped on an error',
      "States.Format('The rollout {} stopped on an error, the fleet is left as it was: {}', $$.Execution.Name, States.JsonToString($.error))",
      'RolloutError',
    ),
    RolloutError: {
      Type: 'Fail',
      Error: 'RolloutError',
      Cause: 'An AWS call failed; the notification carries the error.',
    },
    NotificationFailed: {
      Type: 'Fail',
      Error: 'NotificationFailed',
      Cause: 'The notification could not be published.',
    },
  };
}
