import { type Catcher, type Json, lambdaTask, type States, sdkTask, type TaskState } from './asl';
import { causeMatchesAny } from './choices';
import { catchAll, catchFunction, retry, retryFunction, retryNotYet } from './retry';

/** An SNS notification on the stack's topic; `message` and `subject` are literals or `.$` paths. */
export function notify(props: {
  subject: { Subject: string } | { 'Subject.$': string };
  message: { Message: string } | { 'Message.$': string };
  next: string;
  catch: Catcher[];
  comment?: string;
}): TaskState {
  return sdkTask('sns', 'publish', {
    Comment: props.comment,
    Parameters: { TopicArn: '${TopicArn}', ...props.subject, ...props.message },
    ResultPath: null,
    Retry: retry('sns'),
    Catch: props.catch,
    Next: props.next,
    scope: 'notificationTopic',
  });
}

/**
 * Does this lifecycle event belong to this stack? The rule already matches the group and the hook;
 * an execution started by hand or by a misrouted event acts on nothing else.
 */
export function lifecycleEventCheck(hookName: string, next: string, kind: string): States {
  return {
    CheckEvent: {
      Type: 'Choice',
      Comment: 'The rule already matches this group and hook; an event of anything else never acts.',
      Choices: [
        {
          And: [
            { Variable: '$.detail.AutoScalingGroupName', IsPresent: true },
            { Variable: '$.detail.LifecycleHookName', IsPresent: true },
            { Variable: '$.detail.AutoScalingGroupName', StringEquals: '${GroupName}' },
            { Variable: '$.detail.LifecycleHookName', StringEquals: hookName },
          ],
          Next: next,
        },
      ],
      Default: 'NotThisGroup',
    },
    NotThisGroup: {
      Type: 'Pass',
      Comment: `Not a ${kind} action of this group's hook: nothing to do.`,
      Result: { outcome: 'ignored' },
      End: true,
    },
  };
}

/** The lifecycle action's deadline: its event's time plus `seconds` (a placeholder). */
export function computeDeadline(seconds: string, next: string): States {
  return {
    ComputeDeadline: lambdaTask({
      Comment: 'States Language cannot add seconds to a timestamp: a tiny function does.',
      Parameters: {
        FunctionName: '${DeadlineFunctionArn}',
        Payload: { 'from.$': '$.eventTime', 'seconds.$': `States.StringToJson('${seconds}')` },
      },
      ResultSelector: { 'at.$': '$.Payload.at' },
      ResultPath: '$.deadline',
      Retry: retryFunction(),
      Catch: catchFunction('Broken'),
      Next: next,
      scope: 'deadlineFunction',
    }),
  };
}

/** The fields of a lifecycle event every step reads, with the bookkeeping of the loops. */
export function lifecycleInit(extra: Record<string, Json>, next: string): States {
  return {
    Init: {
      Type: 'Pass',
      Parameters: {
        'instanceId.$': '$.detail.EC2InstanceId',
        'groupName.$': '$.detail.AutoScalingGroupName',
        'hookName.$': '$.detail.LifecycleHookName',
        'token.$': '$.detail.LifecycleActionToken',
        'eventTime.$': '$.time',
        polls: { count: 0 },
        retries: { count: 0 },
        error: { Error: '', Cause: '' },
        ...extra,
      },
      Next: next,
    },
  };
}

/** Auto Scaling's modeled contention only: its base exception is told apart by the Cause. */
const contentionOnly = () =>
  retry('autoscaling').filter((retrier) => !retrier.ErrorEquals.includes('AutoScaling.AutoScalingException'));

const lifecycleAction = {
  'AutoScalingGroupName.$': '$.groupName',
  'LifecycleHookName.$': '$.hookName',
  'LifecycleActionToken.$': '$.token',
  'InstanceId.$': '$.instanceId',
};

// Auto Scaling's answer when the action is no longer open, a ValidationError (unmodeled:
// AutoScaling.AutoScalingException), message as the API writes it:
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CompleteLifecycleAction.html
const NO_ACTIVE_ACTION = '*No active Lifecycle Action*';

/**
 * A poll loop's bookkeeping: count a poll; at the deadline go to `timedOut`; every 8 polls
 * heartbeat the lifecycle action (an action gone meanwhile ends the execution); else `wait`.
 */
export function pollUntilDeadline(wait: string, timedOut: string): States {
  return {
    CountPoll: {
      Type: 'Pass',
      Parameters: { 'count.$': 'States.MathAdd($.polls.count, 1)' },
      ResultPath: '$.polls',
      Next: 'DeadlinePassed?',
    },
    'DeadlinePassed?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$$.State.EnteredTime', TimestampGreaterThanEqualsPath: '$.deadline.at', Next: timedOut },
        { Variable: '$.polls.count', NumericGreaterThanEquals: 8, Next: 'Heartbeat' },
      ],
      Default: wait,
    },
    Heartbeat: sdkTask('autoscaling', 'recordLifecycleActionHeartbeat', {
      Comment: 'Keeps the lifecycle action alive while the deadline is not reached.',
      Parameters: lifecycleAction,
      ResultPath: null,
      // Throttling and "no active action" share the base exception: HeartbeatFailed tells them apart.
      Retry: contentionOnly(),
      Catch: catchAll('HeartbeatFailed'),
      Next: 'HeartbeatSent',
      scope: 'lifecycleActions',
    }),
    HeartbeatSent: { Type: 'Pass', Result: { count: 0 }, ResultPath: '$.polls', Next: wait },
    HeartbeatFailed: {
      Type: 'Choice',
      Comment:
        'No active action: decided already or the instance is gone. Anything else: the next poll heartbeats again.',
      Choices: [
        { Variable: '$.error.Cause', IsPresent: false, Next: wait },
        { Variable: '$.error.Cause', StringMatches: NO_ACTIVE_ACTION, Next: 'ActionGone' },
      ],
      Default: wait,
    },
    ActionGone: {
      Type: 'Pass',
      Parameters: {
        'instanceId.$': '$.instanceId',
        outcome: 'alreadyDecided',
        summary: 'no active lifecycle action: decided already, expired, or the instance is gone',
      },
      End: true,
    },
  };
}

/**
 * Completes the lifecycle action with `$.decision.result`. Throttling is retried by the Retry of
 * the base exception, so is "no active action", which is why what is left of it reaches the
 * Cause check: "no active action" is done (an earlier delivery or the hook's timeout decided),
 * anything else is left to the hook's default result, with a notification (`Broken`).
 */
export function completeLifecycleAction(next: string): States {
  return {
    Complete: sdkTask('autoscaling', 'completeLifecycleAction', {
      Parameters: { ...lifecycleAction, 'LifecycleActionResult.$': '$.decision.result' },
      ResultPath: null,
      Retry: contentionOnly(),
      Catch: catchAll('CompleteFailed'),
      Next: next,
      scope: 'lifecycleActions',
    }),
    CompleteFailed: {
      Type: 'Choice',
      Comment: "Unmodeled Auto Scaling errors share one name: the Cause tells 'done' from 'try again'.",
      Choices: [
        { Variable: '$.error.Cause', IsPresent: false, Next: 'Broken' },
        { Variable: '$.error.Cause', StringMatches: NO_ACTIVE_ACTION, Next: 'AlreadyDecided' },
        {
          ...causeMatchesAny([
            '*Throttling*',
            '*Rate exceeded*',
            '*ServiceUnavailable*',
            '*InternalFailure*',
          ]),
          Next: 'CountCompleteRetry',
        },
      ],
      Default: 'Broken',
    },
    CountCompleteRetry: {
      Type: 'Pass',
      Parameters: { 'count.$': 'States.MathAdd($.retries.count, 1)' },
      ResultPath: '$.retries',
      Next: 'RetryComplete?',
    },
    'RetryComplete?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.retries.count', NumericGreaterThan: 6, Next: 'Broken' }],
      Default: 'CompleteBackoff',
    },
    CompleteBackoff: { Type: 'Wait', Seconds: 5, Next: 'Complete' },
    AlreadyDecided: {
      Type: 'Pass',
      Comment:
        "An earlier delivery of the same event, the hook's timeout, or the instance's end decided already.",
      Parameters: {
        'instanceId.$': '$.instanceId',
        outcome: 'alreadyDecided',
        summary: 'no active lifecycle action: decided already',
        'wanted.$': '$.decision.outcome',
      },
      End: true,
    },
  };
}

/** The end of a lifecycle execution that could not decide: notified, then failed. */
export function leftToDefault(what: string): States {
  return {
    NotifyFailed: {
      Type: 'Fail',
      Error: 'NotificationFailed',
      Cause: 'The lifecycle action was completed, but the notification could not be sent.',
    },
    Broken: notify({
      subject: {
        'Subject.$': `States.Format('external-worker: ${what} of {} left to its default result', $.instanceId)`,
      },
      message: {
        'Message.$': `States.Format('The ${what} of instance {} (group {}) could not be completed and is left to the default result of its hook. Error: {}. Cause: {}', $.instanceId, $.groupName, $.error.Error, $.error.Cause)`,
      },
      catch: catchAll('LeftToDefault', null),
      next: 'LeftToDefault',
    }),
    LeftToDefault: {
      Type: 'Fail',
      Error: 'LifecycleActionLeftToDefault',
      Cause:
        'The lifecycle action could not be completed: the hook applies its default result when it times out.',
    },
  };
}

/**
 * Runs a shell script on the instance through Run Command; its id under `$.command`, beside the
 * fixed fields of `carry` (a counter the caller keeps per command).
 */
export function runShell(props: {
  comment: string;
  commands: string[];
  next: string;
  catch: Catcher[];
  carry?: Record<string, Json>;
}): TaskState {
  return sdkTask('ssm', 'sendCommand', {
    Comment: props.comment,
    Parameters: {
      DocumentName: 'AWS-RunShellScript',
      'InstanceIds.$': 'States.Array($.instanceId)',
      TimeoutSeconds: 30,
      Comment: 'external-worker lifecycle',
      Parameters: { commands: props.commands, executionTimeout: ['30'] },
    },
    ResultSelector: { 'commandId.$': '$.Command.CommandId', ...props.carry },
    ResultPath: '$.command',
    Retry: retry('ssm'),
    Catch: props.catch,
    Next: props.next,
    scope: 'runCommand',
  });
}

/** Is the instance still pending or running? A filter, so an unknown instance is an empty answer. */
export function instanceRunning(next: string, onError: string): TaskState {
  return sdkTask('ec2', 'describeInstances', {
    Comment: 'A filter, not InstanceIds: an unknown instance is an empty answer, not an error.',
    Parameters: {
      Filters: [
        { Name: 'instance-id', 'Values.$': 'States.Array($.instanceId)' },
        { Name: 'instance-state-name', Values: ['pending', 'running'] },
      ],
    },
    ResultSelector: { 'reservations.$': '$.Reservations' },
    ResultPath: '$.instance',
    Retry: retry('ec2'),
    Catch: catchAll(onError),
    Next: next,
    scope: 'anyResource',
  });
}

/** The answer of the last Run Command; right after SendCommand it may not exist yet ('not yet'). */
export function commandAnswer(next: string) {
  return sdkTask('ssm', 'getCommandInvocation', {
    Comment: "Right after SendCommand the invocation may not exist yet: that is 'not yet', retried.",
    Parameters: { 'CommandId.$': '$.command.commandId', 'InstanceId.$': '$.instanceId' },
    ResultSelector: { 'status.$': '$.Status', 'output.$': '$.StandardOutputContent' },
    ResultPath: '$.invocation',
    Retry: retryNotYet(['Ssm.InvocationDoesNotExistException'], retry('ssm')),
    Catch: catchAll('CountPoll'),
    Next: next,
    scope: 'anyResource',
  });
}

/**
 * The launch template version the group ran before a rollout moved it to this AMI. The launch gate
 * removes it at the AMI's first healthy boot: from then on the AMI is proven, the last good one.
 */
export const ROLLBACK_VERSION_TAG = 'external-worker:rollback-version';

/** The tag that refuses an AMI: the rollout and the deploy-time resolver never use it again. */
export const BAD_AMI_TAG = 'external-worker:bad';

/** Tags the AMI at `ami` bad (idempotent: the same tag again changes nothing). */
export function markAmiBad(props: {
  ami: string;
  next: string;
  catch: Catcher[];
  comment?: string;
}): TaskState {
  return sdkTask('ec2', 'createTags', {
    Comment: props.comment,
    Parameters: {
      'Resources.$': `States.Array(${props.ami})`,
      Tags: [{ Key: BAD_AMI_TAG, Value: 'true' }],
    },
    ResultPath: null,
    Retry: retry('ec2'),
    Catch: props.catch,
    Next: props.next,
    scope: 'tagThisStacksAmis',
  });
}

/**
 * The group's configuration at the explicit launch template version at `version`, as Auto Scaling
 * takes it (UpdateAutoScalingGroup, an instance refresh's DesiredConfiguration): a mixed instances
 * policy keeps the overrides and distribution of `group` (a DescribeAutoScalingGroups group).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DesiredConfiguration.html
 */
export function groupConfiguration(version: string, group: string): { plain: Json; mixed: Json } {
  const specification = { LaunchTemplateId: '${LaunchTemplateId}', 'Version.$': version };
  return {
    plain: { LaunchTemplate: specification },
    mixed: {
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: specification,
          'Overrides.$': `${group}.MixedInstancesPolicy.LaunchTemplate.Overrides`,
        },
        'InstancesDistribution.$': `${group}.MixedInstancesPolicy.InstancesDistribution`,
      },
    },
  };
}

/**
 * Points the group at the explicit launch template version at `version`, keeping a mixed
 * instances policy's overrides and distribution (`group` is a DescribeAutoScalingGroups group).
 * States `<name>?`, `<name>Plain`, `<name>Mixed`.
 */
export function pointGroupAt(props: {
  name: string;
  version: string;
  group: string;
  next: string;
  catch: Catcher[];
  scope: string;
}): States {
  const update = (configuration: Json) =>
    sdkTask('autoscaling', 'updateAutoScalingGroup', {
      Parameters: { AutoScalingGroupName: '${GroupName}', ...(configuration as Record<string, Json>) },
      ResultPath: null,
      Retry: retry('autoscaling'),
      Catch: props.catch,
      Next: props.next,
      scope: props.scope,
    });
  const configuration = groupConfiguration(props.version, props.group);
  return {
    [`${props.name}?`]: {
      Type: 'Choice',
      Choices: [
        { Variable: `${props.group}.MixedInstancesPolicy`, IsPresent: true, Next: `${props.name}Mixed` },
      ],
      Default: `${props.name}Plain`,
    },
    [`${props.name}Plain`]: update(configuration.plain),
    [`${props.name}Mixed`]: update(configuration.mixed),
  };
}
