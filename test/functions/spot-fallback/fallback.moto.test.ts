import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { launchUnsuccessfulEvent } from '../../../functions/spot-fallback/events';
import { handleCheck, handleLaunchFailure } from '../../../functions/spot-fallback/fallback';
import { type Moto, startMoto } from '../../support/moto';
import { createGroup } from '../../support/moto-fleet';
import { GROUP, launchFailure, minutes, SETTINGS } from './world';

// Auto Scaling, SSM and SNS in moto, under the stack's names: the group's mixed instances policy
// as the fleet creates it, its share raised and restored by the fallback's own calls, every one of
// them proven against the function's synthesized role (test/support/iam).

let moto: Moto;
let autoscaling: AutoScalingClient;
let ssm: SSMClient;
let sns: SNSClient;

beforeAll(async () => {
  moto = await startMoto();
  autoscaling = new AutoScalingClient({});
  ssm = new SSMClient({});
  sns = new SNSClient({});
});
afterAll(async () => moto.stop());

async function distribution() {
  const { AutoScalingGroups = [] } = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
  );
  const policy = AutoScalingGroups[0]?.MixedInstancesPolicy;
  return {
    share: policy?.InstancesDistribution?.OnDemandPercentageAboveBaseCapacity,
    overrides: policy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType),
    template: policy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateName,
  };
}

test('an episode against Auto Scaling: raised on a Spot failure, restored after the cool-down, the policy otherwise kept', async () => {
  await moto.reset();
  await createGroup({
    groupName: GROUP,
    templateName: 'external-worker-prod-worker',
    instanceTypes: ['t3.micro', 't3a.micro'],
  });
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'external-worker-prod-notifications' }));
  expect(TopicArn).toBe(SETTINGS.topicArn);
  const clients = { autoscaling, ssm, sns };
  const failure = launchUnsuccessfulEvent.parse(launchFailure('e1', minutes(0)));

  expect((await handleLaunchFailure(clients, SETTINGS, failure, minutes(0))).outcome).toBe('raised');
  expect(await distribution()).toEqual({
    share: 100,
    overrides: ['t3.micro', 't3a.micro'],
    template: 'external-worker-prod-worker',
  });
  expect((await handleLaunchFailure(clients, SETTINGS, failure, minutes(1))).outcome).toBe('duplicate');
  expect((await handleCheck(clients, SETTINGS, minutes(31))).outcome).toBe('restored');
  expect((await distribution()).share).toBe(0);
  expect((await handleCheck(clients, SETTINGS, minutes(62))).outcome).toBe('ended');
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: SETTINGS.parameterName }));
  expect(JSON.parse(Parameter?.Value ?? '{}')).toMatchObject({ phase: 'normal', failures: 1, raises: 1 });
});
