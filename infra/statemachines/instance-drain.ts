import { type Definition, sdkTask } from './asl';
import { present } from './choices';
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

const kindOf = (kind: string, next = 'Init') => ({
  Type: 'Pass',
  Result: kind,
  ResultPath: '$.kind',
  Next: next,
});

export function instanceDrain(): Definition {
  return {
    Comment:
      'Drain of a worker leaving the group: retire it through SSM, wait until it exited or the drain deadline, then CONTINUE.',
    StartAt: 'CheckEvent',
    States: {
      ...lifecycleEventCheck('${TerminateHookName}', 'Kind?', 'terminate'),
      'Kind?': {
        Type: 'Choice',
        Comment:
          'Not every terminate action ends the instance: a root volume replacement reboots it, a warm pool keeps it. The worker retires in each case.',
        Choices: [
          {
            Comment:
              'Terminated out of the warm pool: prepared, stopped, never started its worker. Nothing to retire.',
            And: present('$.detail.Origin', { StringEquals: 'WarmPool' }),
            Next: 'FromWarmPool',
          },
          {
            And: present('$.detail.Action', { StringEquals: 'ReplaceRootVolume' }),
            Next: 'RootVolumeReplacement',
          },
          { And: present('$.detail.Destination', { StringEquals: 'WarmPool' }), Next: 'ToWarmPool' },
        ],
        Default: 'Termination',
      },
      Termination: kindOf('termination'),
      RootVolumeReplacement: kindOf('root-volume-replacement'),
      ToWarmPool: kindOf('warm-pool'),
      FromWarmPool: kindOf('from-warm-pool'),
      ...lifecycleInit(
        {
          'kind.$': '$.kind',
          decision: { result: 'CONTINUE', outcome: 'draining', summary: 'draining' },
        },
        'InPool?',
      ),
      'InPool?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.kind', StringEquals: 'from-warm-pool', Next: 'NothingToRetire' }],
        Default: 'ComputeDeadline',
      },
      NothingToRetire: {
        Type: 'Pass',
        Comment: 'A pool instance never registered a worker (the boot stops before starting it).',
        Result: {
          result: 'CONTINUE',
          outcome: 'nothingToRetire',
          summary: 'a warm pool instance: no worker ever started',
        },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      ...computeDeadline('${DrainTimeoutSeconds}', 'InstanceRunning'),
      InstanceRunning: instanceRunning('Running?', 'AgentOnline'),
      'Running?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.instance.reservations[0]', IsPresent: true, Next: 'AgentOnline' }],
        Default: 'Gone',
      },
      AgentOnline: sdkTask('ssm', 'describeInstanceInformation', {
        Parameters: {
          Filters: [
            { Key: 'InstanceIds', 'Values.$': 'States.Array($.instanceId)' },
            { Key: 'PingStatus', Values: ['Online'] },
          ],
        },
        ResultSelector: { 'list.$': '$.InstanceInformationList' },
        ResultPath: '$.agent',
        Retry: retry('ssm'),
        Catch: catchAll('SendRetire'),
        Next: 'Online?',
        scope: 'anyResource',
      }),
      'Online?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.agent.list[0]', IsPresent: true, Next: 'SendRetire' }],
        Default: 'Unreachable',
      },
      SendRetire: runShell({
        comment: 'SIGUSR2 to the worker: it stops taking builds, finishes the running ones and unregisters.',
        commands: ['/usr/local/sbin/external-worker-retire'],
        next: 'WaitToCheck',
        catch: catchAll('Unreachable'),
      }),
      WaitToCheck: { Type: 'Wait', Seconds: 20, Next: 'SendCheck' },
      SendCheck: runShell({
        comment: 'Has the worker exited?',
        commands: [
          'if systemctl is-active --quiet concourse-worker; then printf running; else printf exited; fi',
        ],
        next: 'WaitForAnswer',
        catch: catchFirst(['Ssm.InvalidInstanceIdException'], 'Unreachable', 'CountPoll'),
      }),
      WaitForAnswer: { Type: 'Wait', Seconds: 3, Next: 'GetAnswer' },
      GetAnswer: commandAnswer('Exited?'),
      'Exited?': {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.invocation.status', StringEquals: 'Success' },
              {
                Or: [
                  { Variable: '$.invocation.output', StringEquals: 'exited' },
                  { Variable: '$.invocation.output', StringEquals: 'exited\n' },
                ],
              },
            ],
            Next: 'Drained',
          },
        ],
        Default: 'CountPoll',
      },
      ...pollUntilDeadline('WaitToCheck', 'DrainTimedOut'),
      Drained: {
        Type: 'Pass',
        Result: { result: 'CONTINUE', outcome: 'retired', summary: 'the worker retired and exited' },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      Gone: {
        Type: 'Pass',
        Result: { result: 'CONTINUE', outcome: 'gone', summary: 'instance already gone or stopped' },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      Unreachable: {
        Type: 'Pass',
        Result: { result: 'CONTINUE', outcome: 'gone', summary: 'worker unreachable: no SSM agent online' },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      DrainTimedOut: {
        Type: 'Pass',
        Result: {
          result: 'CONTINUE',
          outcome: 'timedOut',
          summary: 'drain timeout: builds still running were cut',
        },
        ResultPath: '$.decision',
        Next: 'Complete',
      },
      ...completeLifecycleAction('Completed'),
      Completed: {
        Type: 'Choice',
        Choices: [{ Variable: '$.decision.outcome', StringEquals: 'timedOut', Next: 'Notify' }],
        Default: 'Done',
      },
      Notify: notify({
        subject: { 'Subject.$': "States.Format('external-worker: drain timeout on {}', $.instanceId)" },
        message: {
          'Message.$':
            "States.Format('The worker on instance {} (group {}; {}) was still running builds when its drain deadline passed: the instance went on without waiting longer.', $.instanceId, $.groupName, $.kind)",
        },
        catch: catchAll('NotifyFailed'),
        next: 'Done',
      }),
      Done: {
        Type: 'Pass',
        Parameters: {
          'instanceId.$': '$.instanceId',
          'kind.$': '$.kind',
          'outcome.$': '$.decision.outcome',
          'summary.$': '$.decision.summary',
        },
        End: true,
      },
      ...leftToDefault('drain'),
    },
  };
}
