import { REQUIRED_OUTPUTS } from '../../cli/stack';
import { OUTPUT, TAG } from '../../functions/lib/contract';
import { synth } from '../support/stack';

describe('stack outputs', () => {
  const { template } = synth();
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;

  test('hold every output the operator CLI finds the fleet by', () => {
    expect(REQUIRED_OUTPUTS.filter((key) => !(key in outputs))).toEqual([]);
  });

  test('name the run-time parameters, the scheduler and the kept-instance tag as the control plane uses them', () => {
    expect(outputs[OUTPUT.currentAmiParameter]?.Value).toBe('/external-worker/prod/current-ami');
    expect(outputs[OUTPUT.versionStateParameter]?.Value).toBe('/external-worker/prod/version-state');
    expect(outputs[OUTPUT.schedulerApiAddress]?.Value).toBe('https://scheduler.cycloid.io');
    expect(outputs[OUTPUT.keptInstanceTag]?.Value).toBe(TAG.kept);
  });

  test('refer to the resources themselves: group, launch template, retention function, state machines', () => {
    const ref = (key: string) => JSON.stringify(outputs[key]?.Value);
    const typeOf = (key: string) => {
      const id = ref(key).match(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/)?.[1] ?? '';
      return resources[id]?.Type;
    };
    expect(typeOf(OUTPUT.launchTemplateId)).toBe('AWS::EC2::LaunchTemplate');
    expect(typeOf(OUTPUT.retentionFunctionName)).toBe('AWS::Lambda::Function');
    for (const key of [
      OUTPUT.rolloutStateMachineArn,
      OUTPUT.launchStateMachineArn,
      OUTPUT.drainStateMachineArn,
      OUTPUT.destroyStateMachineArn,
    ])
      expect(typeOf(key)).toBe('AWS::StepFunctions::StateMachine');
  });

  test('list every alarm of the stack, so that status shows the ones firing', () => {
    const alarms = Object.entries(resources)
      .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => ({ Ref: id }))
      .sort((a, b) => a.Ref.localeCompare(b.Ref));
    const joined = outputs[OUTPUT.alarmNames]?.Value as { 'Fn::Join': [string, Array<{ Ref: string }>] };
    expect(joined['Fn::Join'][0]).toBe(',');
    expect([...joined['Fn::Join'][1]].sort((a, b) => a.Ref.localeCompare(b.Ref))).toEqual(alarms);
    expect(alarms.length).toBeGreaterThan(5);
  });
});
