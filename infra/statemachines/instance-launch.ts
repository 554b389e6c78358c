import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../../functions/lib/metric-names';
import { type Definition, sdkTask } from './asl';
import { clearBootRecord, stormGuard } from './boot-storm';
import { BOOT_STATUS_SCRIPT, COLD_PACE, READS_OF_A_COMMAND, WARM_PACE } from './launch-checks';
import {
  commandAnswer,
  completeLifecycleAction,
  computeDeadline,
  instanceRunning,
  leftToDefault,
  lifecycleEventCheck,
  lifecycleInit,
  notify,
  pollUntilDeadline,
  runShell,
} from './pieces';
import { catchAll, catchFirst, retry } from './retry';

const KEPT_HINT =
  'It is out of the group and tagged external-worker:kept. Inspect it with aws ssm start-session --target <instance id>; end it with aws ec2 terminate-instances --instance-ids <instance id>.';

/**
 * Which launch this is, from the event's Origin and Destination: into the warm pool (the boot
 * prepares the instance, which the group then stops), out of it into service (the prepared
 * instance starts its worker), or straight into service. Warm pool lifecycle:
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pool-instance-lifecycle.html
 */
const transition = (kind: string, wants: string, pace: typeof COLD_PACE) => ({
  Type: 'Pass',
  Result: { kind, wants, ...pace },
  ResultPath: '$.transition',
  Next: 'Init',
});
const detailIs = (field: string, value: string) => ({
  And: [
    { Variable: `$.detail.${field}`, IsPresent: true },
    { Variable: `$.detail.${field}`, StringEquals: value },
  ],
});
const transitionIs = (kind: string) => ({ Variable: '$.transition.kind', StringEquals: kind });
const bootIs = (status: string) => ({ Variable: '$.boot.value.status', StringEquals: status });

export function instanceLaunch(): Definition {
  return {
    Comment:
      'Launch gate of a worker: polls its boot status through SSM until ok (prepared, for the warm pool), failed or the deadline, then CONTINUE, keeps it for debugging (keeprunning) or ABANDONs it.',
    StartAt: 'CheckEvent',
    States: {
      ...lifecycleEventCheck('${LaunchHookName}', 'Transition?', 'launch'),
      'Transition?': {
        Type: 'Choice',
        Choices: [
          { ...detailIs('Destination', 'WarmPool'), Next: 'IntoWarmPool' },
          { ...detailIs('Origin', 'WarmPool'), Next: 'OutOfWarmPool' },
        ],
        Default: 'IntoService',
      },
      IntoWarmPool: transition('prepare', 'prepared', COLD_PACE),
      OutOfWarmPool: transition('enter-service', 'ok', WARM_PACE),
      IntoService: transition('launch', 'ok', COLD_PACE),
      ...lifecycleInit(
        {
          boot: {
            value: {
              status: 'unknown',
              step: '',
              message: 'no answer from the instance yet',
              keeprunning: false,
              written: '1970-01-01T00:00:00Z',
            },
          },
          'transition.$': '$.transition',
          verdict: { reason: '' },
          failures: { count: 'not counted' },
          guard: { 'limit.$': "States.StringToJson('${BootFailureLimit}')" },
        },
        'ComputeDeadline',
      ),
      ...computeDeadline('${BootTimeoutSeconds}', 'LetItBoot'),
      LetItBoot: {
        Type: 'Wait',
        Comment:
          'A first boot needs about a minute before its SSM agent can even answer, a warm start half a minute before it can be ready: polls before then only cost transitions.',
        SecondsPath: '$.transition.firstSeconds',
        Next: 'SendCheck',
      },
      SendCheck: runShell({
        comment: 'Reads the boot status file and looks for the keeprunning file.',
        commands: BOOT_STATUS_SCRIPT,
        next: 'WaitForAnswer',
        catch: catchFirst(['Ssm.InvalidInstanceIdException'], 'InstanceRunning', 'CountPoll'),
        carry: { reads: 1 },
      }),
      WaitForAnswer: { Type: 'Wait', SecondsPath: '$.transition.answerSeconds', Next: 'GetAnswer' },
      GetAnswer: commandAnswer('Answered?'),
      'Answered?': {
        Type: 'Choice',
        Comment:
          "A command not done yet is read again, a few times; one that could not run, or is still not done then, is 'not yet'.",
        Choices: [
          { Variable: '$.invocation.status', StringEquals: 'Success', Next: 'ReadBootStatus' },
          {
            And: [
              {
                Or: ['Pending', 'InProgress', 'Delayed'].map((status) => ({
                  Variable: '$.invocation.status',
                  StringEquals: status,
                })),
              },
              { Variable: '$.command.reads', NumericLessThan: READS_OF_A_COMMAND },
            ],
            Next: 'ReadAgain',
          },
        ],
        Default: 'CountPoll',
      },
      ReadAgain: {
        Type: 'Pass',
        Parameters: {
          'commandId.$': '$.command.commandId',
          'reads.$': 'States.MathAdd($.command.reads, 1)',
        },
        ResultPath: '$.command',
        Next: 'WaitForAnswer',
      },
      ReadBootStatus: {
        Type: 'Pass',
        Parameters: { 'value.$': 'States.StringToJson($.invocation.output)' },
        ResultPath: '$.boot',
        Next: 'BootStatus?',
      },
      'BootStatus?': {
        Type: 'Choice',
        Choices: [
          {
            Comment:
              'Out of the warm pool, the status may still be that of the preparation, or of an earlier service: not an answer yet.',
            And: [
              transitionIs('enter-service'),
              { Not: { Variable: '$.boot.value.written', TimestampGreaterThanEqualsPath: '$.eventTime' } },
            ],
            Next: 'CountPoll',
          },
          { And: [bootIs('ok'), { Variable: '$.transition.wants', StringEquals: 'ok' }], Next: 'Healthy' },
          { And: [bootIs('prepared'), transitionIs('prepare')], Next: 'Prepared' },
          { And: [bootIs('ok'), transitionIs('prepare')], Next: 'RegisteredInPool' },
          { ...bootIs('failed'), Next: 'BootFailed' },
        ],
        Default: 'CountPoll',
      },
      InstanceRunning: instanceRunning('StillThere?', 'CountPoll'),
      'StillThere?': {
        Type: 'Choice',
        Comment: 'Running without an agent: not registered yet. Gone: its action ends with it.',
        Choices: [{ Variable: '$.instance.reservations[0]', IsPresent: true, Next: 'CountPoll' }],
        Default: 'Vanished',
      },
      Vanished: {
        Type: 'Pass',
        Comment: 'The lifecycle action is left to its default result (ABANDON), which it no longer needs.',
        Parameters: { 'instanceId.$': '$.instanceId', outcome: 'vanished', summary: 'the instance is gone' },
        End: true,
      },
      ...pollUntilDeadline('WaitToPoll', 'TooLate'),
      WaitToPoll: { Type: 'Wait', SecondsPath: '$.transition.pollSeconds', Next: 'SendCheck' },
      Healthy: {
        Type: 'Pass',
        Result: { result: 'CONTINUE', outcome: 'healthy', summary: 'healthy' },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      Prepared: {
        Type: 'Pass',
        Comment: 'Ready to be stopped: the group stops (or hibernates) it once the action is complete.',
        Result: { result: 'CONTINUE', outcome: 'prepared', summary: 'prepared for the warm pool' },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      RegisteredInPool: {
        Type: 'Pass',
        Comment:
          'A pool instance whose worker registered would be stopped under it: a stalled worker in the scheduler.',
        Result: { reason: 'the worker registered while it was to be prepared for the warm pool' },
        ResultPath: '$.verdict',
        Next: 'ReadImage',
      },
      BootFailed: {
        Type: 'Pass',
        Result: { reason: 'the boot failed' },
        ResultPath: '$.verdict',
        Next: 'ReadImage',
      },
      TooLate: {
        Type: 'Pass',
        Result: { reason: 'the boot did not finish before the deadline' },
        ResultPath: '$.verdict',
        Next: 'ReadImage',
      },
      ...stormGuard('Keepable?'),
      'Keepable?': {
        Type: 'Choice',
        Comment:
          'Keeprunning is for debugging a worker that failed to start: a failed preparation, which never ran builds, is replaced.',
        Choices: [{ ...transitionIs('prepare'), Next: 'Abandon' }],
        Default: 'KeeprunningFile?',
      },
      'KeeprunningFile?': {
        Type: 'Choice',
        Comment: 'The file /var/tmp/keeprunning, as the last answer of the instance reported it.',
        Choices: [{ Variable: '$.boot.value.keeprunning', BooleanEquals: true, Next: 'Keep' }],
        Default: 'KeeprunningTag',
      },
      KeeprunningTag: sdkTask('ec2', 'describeTags', {
        Comment: 'The tag keeprunning=true, on the instance itself or propagated from the group.',
        Parameters: {
          Filters: [
            { Name: 'resource-id', 'Values.$': 'States.Array($.instanceId)' },
            { Name: 'key', Values: ['keeprunning'] },
            { Name: 'value', Values: ['true'] },
          ],
        },
        ResultSelector: { 'tags.$': '$.Tags' },
        ResultPath: '$.keeprunning',
        Retry: retry('ec2'),
        Catch: catchAll('Abandon'),
        Next: 'KeeprunningTag?',
        scope: 'anyResource',
      }),
      'KeeprunningTag?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.keeprunning.tags[0]', IsPresent: true, Next: 'Keep' }],
        Default: 'Abandon',
      },
      Keep: {
        Type: 'Pass',
        Result: { result: 'CONTINUE', outcome: 'kept', summary: 'kept for debugging', hint: KEPT_HINT },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      Abandon: {
        Type: 'Pass',
        Result: {
          result: 'ABANDON',
          outcome: 'abandoned',
          summary: 'abandoned and replaced',
          hint: 'The group terminates it and launches a replacement.',
        },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      ...completeLifecycleAction('Completed'),
      Completed: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.decision.outcome', StringEquals: 'healthy', Next: 'ReadHealthyImage' },
          // Prepared is no proof of the AMI: its worker has not registered yet.
          { Variable: '$.decision.outcome', StringEquals: 'prepared', Next: 'Done' },
          { Variable: '$.decision.outcome', StringEquals: 'kept', Next: 'TagKept' },
          { Variable: '$.decision.outcome', StringEquals: 'abandoned', Next: 'CountAbandoned' },
        ],
        Default: 'Notify',
      },
      CountAbandoned: sdkTask('cloudwatch', 'putMetricData', {
        Comment: 'What the rollout alarm on abandoned launches counts: a refresh rolls back on it.',
        Parameters: {
          Namespace: METRICS_NAMESPACE,
          MetricData: [
            {
              MetricName: METRIC.launchesAbandoned,
              Dimensions: [
                { Name: 'service', Value: METRICS_SERVICE },
                { Name: 'Stack', Value: '${StackName}' },
              ],
              Value: 1,
              Unit: 'Count',
            },
          ],
        },
        ResultPath: null,
        Retry: retry('cloudwatch'),
        Catch: catchAll('Notify', '$.metricError'),
        Next: 'Notify',
        scope: 'launchMetrics',
      }),
      TagKept: sdkTask('ec2', 'createTags', {
        Comment: 'Says why and since when, so that a kept instance is found and ended later.',
        Parameters: {
          'Resources.$': 'States.Array($.instanceId)',
          Tags: [
            { Key: 'external-worker:kept', 'Value.$': '$.verdict.reason' },
            { Key: 'external-worker:kept-since', 'Value.$': '$$.State.EnteredTime' },
          ],
        },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('Detach'),
        Next: 'Detach',
        scope: 'tagThisStacksInstances',
      }),
      Detach: sdkTask('autoscaling', 'detachInstances', {
        Comment:
          'Out of the group without lowering the desired capacity: a replacement starts at once, and no rollout waits for it. Right after CONTINUE the instance may not be InService yet: retried.',
        Parameters: {
          'AutoScalingGroupName.$': '$.groupName',
          'InstanceIds.$': 'States.Array($.instanceId)',
          ShouldDecrementDesiredCapacity: false,
        },
        ResultPath: null,
        Retry: retry('autoscaling'),
        Catch: catchAll('DetachFailed'),
        Next: 'Notify',
        scope: 'lifecycleActions',
      }),
      DetachFailed: {
        Type: 'Pass',
        Result: {
          result: 'CONTINUE',
          outcome: 'kept',
          summary: 'kept for debugging, but still in the group: detach it by hand',
          hint: 'It is tagged external-worker:kept but still counts in the group. Detach it with aws autoscaling detach-instances --instance-ids <instance id> --auto-scaling-group-name <group> --no-should-decrement-desired-capacity; inspect it with aws ssm start-session --target <instance id>; end it with aws ec2 terminate-instances --instance-ids <instance id>.',
        },
        ResultPath: '$.decision',
        Next: 'Notify',
      },
      Notify: notify({
        subject: {
          'Subject.$': "States.Format('external-worker: worker {} {}', $.instanceId, $.decision.outcome)",
        },
        message: {
          'Message.$':
            "States.Format('Worker instance {} of group {} did not pass the launch gate ({}): {}. Outcome: {}. Boot status: {} (step: {}). Message: {}. {} Failed boots of its AMI in a row: {}.', $.instanceId, $.groupName, $.transition.kind, $.verdict.reason, $.decision.summary, $.boot.value.status, $.boot.value.step, $.boot.value.message, $.decision.hint, $.failures.count)",
        },
        catch: catchAll('NotifyFailed'),
        next: 'Done',
      }),
      ...clearBootRecord('Done'),
      Done: {
        Type: 'Pass',
        Parameters: {
          'instanceId.$': '$.instanceId',
          'outcome.$': '$.decision.outcome',
          'summary.$': '$.decision.summary',
          'transition.$': '$.transition.kind',
          'boot.$': '$.boot.value',
        },
        End: true,
      },
      ...leftToDefault('launch gate'),
    },
  };
}
