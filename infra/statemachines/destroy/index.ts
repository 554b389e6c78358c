import { type Definition, sdkTask } from '../asl';
import { failWithCaughtError, ifDryRun } from '../choices';
import { notify } from '../pieces';
import { catchAll, retry } from '../retry';
import { confirmation } from './confirmation';
import { emptyGroup } from './group';
import { deleteImagesAndSnapshots } from './images';
import { stopNewWork } from './stop-new-work';

export function destroy(): Definition {
  return {
    Comment:
      'Destroys the stack ${StackName} on purpose: started by hand with {"confirm": "${StackName}"} (add "dryRun": true to only list). Each step finds what is left before acting, so running it again after a failure finishes the job.',
    StartAt: 'CheckConfirmation',
    States: {
      ...confirmation('Plan'),
      Plan: {
        Type: 'Pass',
        Comment:
          'Every step overwrites its own entry, so the summary holds what was done, or for a dry run what would be.',
        Parameters: {
          'request.$': '$.request',
          stackName: '${StackName}',
          dryRun: false,
          'scheduleNames.$': "States.StringToJson('${ScheduleNames}')",
          'ruleNames.$': "States.StringToJson('${RuleNames}')",
          'parameterNames.$': "States.StringToJson('${RuntimeParameterNames}')",
          'maxDrainPolls.$': "States.StringToJson('${MaxDrainPolls}')",
          schedules: [],
          rules: [],
          instanceRefresh: { result: 'would be cancelled, if one is in progress' },
          group: { name: '${GroupName}', instanceIds: [], endedAtDeadline: [] },
          keptInstances: { instanceIds: [] },
          images: [],
          snapshots: [],
          parameters: { names: [] },
          stack: { name: '${StackName}', result: 'would be deleted' },
        },
        Next: 'DryRunRequested?',
      },
      'DryRunRequested?': {
        Type: 'Choice',
        Choices: [
          { Not: { Variable: '$.request.dryRun', IsPresent: true }, Next: 'DescribeStack' },
          { Variable: '$.request.dryRun', BooleanEquals: true, Next: 'MarkDryRun' },
        ],
        Default: 'DescribeStack',
      },
      MarkDryRun: { Type: 'Pass', Result: true, ResultPath: '$.dryRun', Next: 'DescribeStack' },
      DescribeStack: sdkTask('cloudformation', 'describeStacks', {
        Comment:
          "Read first: the stack's service role decides whether CloudFormation can delete it for this workflow at the end.",
        Parameters: { StackName: '${StackName}' },
        ResultSelector: { 'description.$': '$.Stacks[0]' },
        ResultPath: '$.stackFound',
        Retry: retry('cloudformation'),
        Catch: catchAll('NotifyFailure'),
        Next: 'DisableSchedules',
        scope: 'readAndDeleteThisStack',
      }),
      ...stopNewWork('DescribeGroup'),
      ...emptyGroup('FindKeptInstances'),
      FindKeptInstances: sdkTask('ec2', 'describeInstances', {
        Comment:
          'Instances kept for debugging after a failed boot are out of the group: found by their tags.',
        Parameters: {
          Filters: [
            { Name: 'tag:external-worker:stack', Values: ['${StackName}'] },
            { Name: 'tag-key', Values: ['external-worker:kept'] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        },
        ResultSelector: { 'reservations.$': '$.Reservations' },
        ResultPath: '$.keptFound',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'AnyKeptInstances?',
        scope: 'anyResource',
      }),
      'AnyKeptInstances?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.keptFound.reservations[0]', IsPresent: true, Next: 'ListKeptInstances' }],
        Default: 'FindSnapshots',
      },
      ListKeptInstances: {
        Type: 'Pass',
        InputPath: '$.keptFound.reservations[*].Instances[*].InstanceId',
        ResultPath: '$.keptInstances.instanceIds',
        Next: 'KeptDryRun?',
      },
      'KeptDryRun?': ifDryRun('FindSnapshots', 'EndKeptInstances'),
      EndKeptInstances: sdkTask('ec2', 'terminateInstances', {
        Parameters: { 'InstanceIds.$': '$.keptInstances.instanceIds' },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'FindSnapshots',
        scope: 'endTaggedInstances',
      }),
      FindSnapshots: sdkTask('ec2', 'describeSnapshots', {
        Comment:
          "Snapshots tagged with the stack before any AMI is touched: those of AMIs an earlier run deregistered before it failed. Only these, and the snapshots of this stack's AMIs, are deleted.",
        Parameters: {
          OwnerIds: ['self'],
          Filters: [{ Name: 'tag:external-worker:stack', Values: ['${StackName}'] }],
        },
        ResultSelector: { 'snapshots.$': '$.Snapshots' },
        ResultPath: '$.snapshotsFound',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'FindImages',
        scope: 'anyResource',
      }),
      FindImages: sdkTask('ec2', 'describeImages', {
        Comment:
          'Deprecated and disabled AMIs too: a lifecycle policy may have disabled old ones, they are still billed.',
        Parameters: {
          Owners: ['self'],
          IncludeDeprecated: true,
          IncludeDisabled: true,
          Filters: [{ Name: 'tag:external-worker:stack', Values: ['${StackName}'] }],
        },
        ResultSelector: { 'images.$': '$.Images' },
        ResultPath: '$.imagesFound',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'DeleteImages',
        scope: 'anyResource',
      }),
      ...deleteImagesAndSnapshots('FindRuntimeParameters'),
      FindRuntimeParameters: sdkTask('ssm', 'getParameters', {
        Comment:
          'Only the parameters the control plane writes at run time; the worker key parameter belongs to the operator.',
        Parameters: { 'Names.$': '$.parameterNames' },
        ResultSelector: { 'parameters.$': '$.Parameters' },
        ResultPath: '$.parametersFound',
        Retry: retry('ssm'),
        Catch: catchAll('NotifyFailure'),
        Next: 'AnyRuntimeParameters?',
        scope: 'deleteRuntimeParameters',
      }),
      'AnyRuntimeParameters?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.parametersFound.parameters[0]', IsPresent: true, Next: 'ListRuntimeParameters' },
        ],
        Default: 'StackDryRun?',
      },
      ListRuntimeParameters: {
        Type: 'Pass',
        InputPath: '$.parametersFound.parameters[*].Name',
        ResultPath: '$.parameters.names',
        Next: 'ParametersDryRun?',
      },
      'ParametersDryRun?': ifDryRun('StackDryRun?', 'DeleteRuntimeParameters'),
      DeleteRuntimeParameters: sdkTask('ssm', 'deleteParameters', {
        Parameters: { 'Names.$': '$.parameters.names' },
        ResultPath: null,
        Retry: retry('ssm'),
        Catch: catchAll('NotifyFailure'),
        Next: 'StackDryRun?',
        scope: 'deleteRuntimeParameters',
      }),
      'StackDryRun?': {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.dryRun', BooleanEquals: true },
              { Not: { Variable: '$.stackFound.description.RoleARN', IsPresent: true } },
            ],
            Next: 'StackWouldBeLeft',
          },
          { Variable: '$.dryRun', BooleanEquals: true, Next: 'Outcome?' },
          { Variable: '$.stackFound.description.RoleARN', IsPresent: true, Next: 'Outcome?' },
        ],
        Default: 'StackHasNoServiceRole',
      },
      StackWouldBeLeft: {
        Type: 'Pass',
        Result:
          'would be left: the stack has no CloudFormation service role, delete it with aws cloudformation delete-stack --stack-name ${StackName}',
        ResultPath: '$.stack.result',
        Next: 'Outcome?',
      },
      StackHasNoServiceRole: {
        Type: 'Pass',
        Comment:
          "Without a service role CloudFormation would delete with this workflow's own narrow rights and fail half way.",
        Result: {
          Error: 'StackHasNoServiceRole',
          Cause:
            'Everything but the CloudFormation stack ${StackName} was removed. The stack has no service role, so its deletion must be started by someone allowed to delete its resources: aws cloudformation delete-stack --stack-name ${StackName}',
        },
        ResultPath: '$.error',
        Next: 'NotifyFailure',
      },
      'Outcome?': ifDryRun('OutcomeDryRun', 'OutcomeDestroyed'),
      OutcomeDryRun: { Type: 'Pass', Result: 'dryRun', ResultPath: '$.outcome', Next: 'Summarize' },
      OutcomeDestroyed: { Type: 'Pass', Result: 'destroyed', ResultPath: '$.outcome', Next: 'Summarize' },
      Summarize: {
        Type: 'Pass',
        Parameters: {
          'outcome.$': '$.outcome',
          'stackName.$': '$.stackName',
          'dryRun.$': '$.dryRun',
          'schedules.$': '$.schedules',
          'rules.$': '$.rules',
          'instanceRefresh.$': '$.instanceRefresh',
          'group.$': '$.group',
          'keptInstances.$': '$.keptInstances',
          'images.$': '$.images',
          'snapshots.$': '$.snapshots',
          'parameters.$': '$.parameters',
          'stack.$': '$.stack',
        },
        ResultPath: '$.summary',
        Next: 'DeleteStackNow?',
      },
      'DeleteStackNow?': ifDryRun('Done', 'NotifyStackDeletion'),
      NotifyStackDeletion: notify({
        comment: 'Sent before the stack deletion starts, while the topic still exists.',
        subject: { Subject: '${StackName}: destroy removed workers and images, deleting the stack' },
        message: {
          'Message.$':
            "States.Format('The destroy workflow removed what ${StackName} had outside CloudFormation and now deletes the stack. Execution {}. Summary: {}', $$.Execution.Id, States.JsonToString($.summary))",
        },
        catch: catchAll('DeleteStack', '$.notificationError'),
        next: 'DeleteStack',
      }),
      DeleteStack: sdkTask('cloudformation', 'deleteStack', {
        Comment:
          "Asynchronous: CloudFormation deletes the stack, this state machine included, with the stack's service role, after this execution has ended.",
        Parameters: { StackName: '${StackName}' },
        ResultSelector: { name: '${StackName}', result: 'deletion started' },
        ResultPath: '$.summary.stack',
        Retry: retry('cloudformation'),
        Catch: catchAll('NotifyFailure'),
        Next: 'Done',
        scope: 'readAndDeleteThisStack',
      }),
      Done: { Type: 'Pass', OutputPath: '$.summary', End: true },
      NotifyFailure: notify({
        subject: { Subject: '${StackName}: destroy stopped at an error' },
        message: {
          'Message.$':
            "States.Format('The destroy workflow of ${StackName} stopped: {}: {}. Each step finds what is left before acting: after fixing the cause, start it again with the same input to finish. Execution {}', $.error.Error, $.error.Cause, $$.Execution.Id)",
        },
        catch: catchAll('DestroyFailed', '$.notificationError'),
        next: 'DestroyFailed',
      }),
      DestroyFailed: failWithCaughtError(),
    },
  };
}
