import type { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../infra/config';
import { problems } from '../support/config-problems';
import { synth } from '../support/stack';

type Json = Record<string, unknown>;
const ON_DEMAND = { capacity: 'ondemand', instanceType: 'm5.large' };

function only(template: Template, type: string): Json {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return (resources[0] as { Properties: Json }).Properties;
}

describe('warmPool configuration', () => {
  test('absent by default; given, its defaults are a stopped pool that terminates on scale-in', () => {
    expect(parseConfig({}).warmPool).toBeUndefined();
    expect(parseConfig({ ...ON_DEMAND, warmPool: '{}' }).warmPool).toEqual({
      minSize: 0,
      poolState: 'Stopped',
      reuseOnScaleIn: false,
    });
    expect(
      parseConfig({ ...ON_DEMAND, 'warmPool.minSize': '2', 'warmPool.reuseOnScaleIn': 'true' }).warmPool,
    ).toEqual({ minSize: 2, poolState: 'Stopped', reuseOnScaleIn: true });
  });

  test('unknown keys and bad values are named', () => {
    const lines = problems({ ...ON_DEMAND, warmPool: '{"minSize":-1,"poolState":"Running","size":3}' });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^warmPool\.size: unknown key/),
        expect.stringMatching(/^warmPool\.minSize: expected a non-negative integer/),
        expect.stringMatching(/^warmPool\.poolState: expected Stopped or Hibernated/),
      ]),
    );
    expect(problems({ ...ON_DEMAND, warmPool: 'yes' })[0]).toMatch(/^warmPool: expected an object/);
  });

  test('Auto Scaling refuses a warm pool for Spot and for several instance types', () => {
    expect(problems({ warmPool: '{}' })).toEqual([
      'warmPool: expected capacity=ondemand (Auto Scaling refuses a warm pool for Spot Instances), given capacity=spot',
    ]);
    expect(problems({ capacity: 'ondemand', instanceType: 'm5.large,m6i.large', warmPool: '{}' })).toEqual([
      'warmPool: expected a single instanceType (Auto Scaling refuses a warm pool with a mixed instances policy), given 2 types',
    ]);
  });

  test('maxPreparedCapacity holds at least the pool minimum', () => {
    expect(problems({ ...ON_DEMAND, warmPool: '{"minSize":3,"maxPreparedCapacity":2}' })).toEqual([
      'warmPool.maxPreparedCapacity: expected at least warmPool.minSize (3), given 2',
    ]);
    expect(
      parseConfig({ ...ON_DEMAND, warmPool: '{"minSize":3,"maxPreparedCapacity":3}' }).warmPool,
    ).toMatchObject({ maxPreparedCapacity: 3 });
  });

  test('Hibernated needs a type that hibernates, of at most 150 GiB, and a root volume for its memory', () => {
    const hibernated = '{"poolState":"Hibernated"}';
    expect(problems({ capacity: 'ondemand', instanceType: 'a1.large', warmPool: hibernated })).toEqual([
      'warmPool.poolState: expected an instanceType that supports hibernation with Hibernated (EC2 does not hibernate a1.large), given "Hibernated"',
    ]);
    expect(
      problems({ capacity: 'ondemand', instanceType: 'm7i-flex.16xlarge', warmPool: hibernated })[0],
    ).toContain('at most 150 GiB of memory with Hibernated (m7i-flex.16xlarge has 256 GiB)');
    // c5d.2xlarge: 16 GiB of memory, and the default root volume of 20 GiB
    expect(problems({ capacity: 'ondemand', warmPool: hibernated })).toEqual([
      expect.stringMatching(/^rootVolumeSize: expected at least 24 GiB with warmPool\.poolState=Hibernated/),
    ]);
    expect(
      parseConfig({ capacity: 'ondemand', rootVolumeSize: 24, warmPool: hibernated }).warmPool?.poolState,
    ).toBe('Hibernated');
  });
});

describe('warm pool template', () => {
  test('none by default, and no hibernation', () => {
    const { template } = synth({});
    template.resourceCountIs('AWS::AutoScaling::WarmPool', 0);
    expect((only(template, 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Json).HibernationOptions).toBe(
      undefined,
    );
  });

  test('a stopped pool on the group, its reuse policy always stated, no hibernation', () => {
    const { template } = synth({ ...ON_DEMAND, warmPool: '{"minSize":1,"maxPreparedCapacity":4}' });
    const pool = only(template, 'AWS::AutoScaling::WarmPool');
    expect(pool).toEqual({
      AutoScalingGroupName: { Ref: expect.stringMatching(/Group/) },
      MinSize: 1,
      MaxGroupPreparedCapacity: 4,
      PoolState: 'Stopped',
      InstanceReusePolicy: { ReuseOnScaleIn: false },
    });
    const data = only(template, 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Json;
    expect(data.HibernationOptions).toBeUndefined();
    expect(data.InstanceMarketOptions).toBeUndefined();
  });

  test('a hibernated pool: hibernation configured on the launch template, whose root volume is encrypted', () => {
    const { template } = synth({
      ...ON_DEMAND,
      rootVolumeSize: 30,
      warmPool: '{"poolState":"Hibernated","reuseOnScaleIn":true}',
    });
    expect(only(template, 'AWS::AutoScaling::WarmPool')).toMatchObject({
      PoolState: 'Hibernated',
      InstanceReusePolicy: { ReuseOnScaleIn: true },
    });
    const data = only(template, 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Json;
    expect(data.HibernationOptions).toEqual({ Configured: true });
    const root = (data.BlockDeviceMappings as Array<{ DeviceName: string; Ebs?: Json }>).find(
      (mapping) => mapping.DeviceName === '/dev/xvda',
    );
    expect(root?.Ebs).toMatchObject({ Encrypted: true, VolumeSize: 30 });
  });
});
