import { type Json, type SdkService, type State, sdkTask } from '../asl';
import { itemResult } from '../choices';
import { catchAll, retry, type Service } from '../retry';

interface Switch {
  /** `Schedule` or `Rule`: names the Map's states. */
  noun: string;
  comment: string;
  itemsPath: string;
  resultPath: string;
  service: SdkService & Service;
  /** `readInto` holds the schedule or rule as read, for the choice and the update. */
  read: { state: string; action: string; parameters: Json; readInto: string };
  disable: { action: string; parameters: Json; comment?: string };
  /** The error of a schedule or rule that no longer exists: "absent", not a failure. */
  notFound: string;
  scope: string;
  next: string;
}

/**
 * One Map that disables each schedule or rule, reading it first: an already disabled one is left
 * as it is, a missing one is reported absent, a dry run only says what would be disabled. Any
 * other error fails the Map, whose Catch reports it.
 */
function disableEach(props: Switch): State {
  const { noun } = props;
  const absent = `${noun}Absent`;
  const notFound = [{ ErrorEquals: [props.notFound], ResultPath: null, Next: absent }];
  const current = props.read.readInto;
  return {
    Type: 'Map',
    Comment: props.comment,
    ItemsPath: props.itemsPath,
    ItemSelector: { 'name.$': '$$.Map.Item.Value', 'dryRun.$': '$.dryRun' },
    MaxConcurrency: 1,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: props.read.state,
      States: {
        [props.read.state]: sdkTask(props.service, props.read.action, {
          Parameters: props.read.parameters,
          ResultPath: current,
          Retry: retry(props.service),
          Catch: notFound,
          Next: `${noun}Enabled?`,
          scope: props.scope,
        }),
        [`${noun}Enabled?`]: {
          Type: 'Choice',
          Choices: [
            { Variable: `${current}.State`, StringEquals: 'DISABLED', Next: `${noun}AlreadyDisabled` },
            { Variable: '$.dryRun', BooleanEquals: true, Next: `${noun}WouldBeDisabled` },
          ],
          Default: `Disable${noun}`,
        },
        [`Disable${noun}`]: sdkTask(props.service, props.disable.action, {
          Comment: props.disable.comment,
          Parameters: props.disable.parameters,
          ResultPath: null,
          Retry: retry(props.service),
          Catch: notFound,
          Next: `${noun}Disabled`,
          scope: props.scope,
        }),
        [`${noun}Disabled`]: itemResult('name', 'disabled'),
        [`${noun}AlreadyDisabled`]: itemResult('name', 'already disabled'),
        [`${noun}WouldBeDisabled`]: itemResult('name', 'would be disabled'),
        [absent]: itemResult('name', 'absent'),
      },
    },
    ResultPath: props.resultPath,
    Catch: catchAll('NotifyFailure'),
    Next: props.next,
  };
}

/** Stop new work before anything is removed: the schedules, then the rules that start flows. */
export function stopNewWork(next: string): Record<string, State> {
  return {
    DisableSchedules: disableEach({
      noun: 'Schedule',
      comment:
        'Stop new work: the schedules that start builds. Any error but a missing schedule fails the Map, whose Catch reports it.',
      itemsPath: '$.scheduleNames',
      resultPath: '$.schedules',
      service: 'scheduler',
      read: {
        state: 'GetSchedule',
        action: 'getSchedule',
        parameters: { 'Name.$': '$.name' },
        readInto: '$.schedule',
      },
      disable: {
        action: 'updateSchedule',
        comment:
          'UpdateSchedule replaces the whole definition: the fields every schedule has are given back as they were.',
        parameters: {
          'Name.$': '$.schedule.Name',
          'GroupName.$': '$.schedule.GroupName',
          'ScheduleExpression.$': '$.schedule.ScheduleExpression',
          'FlexibleTimeWindow.$': '$.schedule.FlexibleTimeWindow',
          'Target.$': '$.schedule.Target',
          State: 'DISABLED',
        },
      },
      notFound: 'Scheduler.ResourceNotFoundException',
      scope: 'disableSchedules',
      next: 'DisableRules',
    }),
    DisableRules: disableEach({
      noun: 'Rule',
      comment: 'Stop new work: the EventBridge rules that start builds and rollouts.',
      itemsPath: '$.ruleNames',
      resultPath: '$.rules',
      service: 'eventbridge',
      read: {
        state: 'DescribeRule',
        action: 'describeRule',
        parameters: { 'Name.$': '$.name' },
        readInto: '$.rule',
      },
      disable: { action: 'disableRule', parameters: { 'Name.$': '$.name' } },
      notFound: 'EventBridge.ResourceNotFoundException',
      scope: 'disableRules',
      next,
    }),
  };
}
