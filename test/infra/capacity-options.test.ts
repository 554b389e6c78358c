import type { Template } from 'aws-cdk-lib/assertions';
import { purchase } from '../../infra/capacity-options';
import { parseConfig } from '../../infra/config';
import { problems } from '../support/config-problems';
import { synth } from '../support/stack';

type Json = Record<string, unknown>;

const lines = (context: Record<string, unknown>) => problems(context).join('\n');
const only = (template: Template, type: string): Json => {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return (resources[0] as { Properties: Json }).Properties;
};
const group = (template: Template) => only(template, 'AWS::AutoScaling::AutoScalingGroup');
const launchTemplateData = (template: Template) =>
  only(template, 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Json;

describe('purchase options in the configuration', () => {
  test('capacity stays the switch: Spot means no on-demand share, ondemand means 100', () => {
    expect(purchase(parseConfig({}))).toEqual({ onDemandBase: 0, onDemandPercentage: 0, spot: true });
    expect(purchase(parseConfig({ capacity: 'ondemand' }))).toEqual({
      onDemandBase: 0,
      onDemandPercentage: 100,
      spot: false,
    });
    expect(purchase(parseConfig({ onDemandBase: '2', onDemandPercentage: '25' }))).toEqual({
      onDemandBase: 2,
      onDemandPercentage: 25,
      spot: true,
    });
  });

  test('a base and a share shape a Spot group: with capacity=ondemand they are one error', () => {
    expect(problems({ capacity: 'ondemand', onDemandBase: 1, onDemandPercentage: 50 })).toEqual([
      'capacity: expected spot with onDemandBase=1 and onDemandPercentage=50 (capacity=ondemand buys every instance on-demand; a base and a share shape a Spot group), given "ondemand"',
    ]);
    expect(lines({ capacity: 'ondemand', onDemandBase: 2 })).toContain(
      'capacity: expected spot with onDemandBase=2',
    );
    // Saying the same thing twice is no contradiction.
    expect(parseConfig({ capacity: 'ondemand', onDemandPercentage: 100 }).onDemandPercentage).toBe(100);
  });

  test('a Spot group with a share of 100 has no Spot: that is capacity=ondemand', () => {
    expect(problems({ onDemandPercentage: 100 })).toEqual([
      'onDemandPercentage: expected less than 100 with capacity=spot (100 leaves no Spot instance: that is capacity=ondemand), given 100',
    ]);
  });

  test('the share is a percentage, the base a count', () => {
    expect(lines({ onDemandPercentage: 101 })).toContain(
      'onDemandPercentage: expected a percentage 0-100 (on-demand share above onDemandBase), given 101',
    );
    expect(lines({ onDemandPercentage: '12.5' })).toContain('onDemandPercentage: expected');
    expect(lines({ onDemandBase: -1 })).toContain(
      'onDemandBase: expected a non-negative integer (on-demand instances before any Spot instance), given -1',
    );
  });

  test('a Spot price stays a Spot setting', () => {
    expect(lines({ capacity: 'ondemand', spotMaxPrice: '0.5' })).toContain(
      'spotMaxPrice: expected nothing with capacity=ondemand',
    );
    expect(parseConfig({ onDemandBase: 1, spotMaxPrice: '0.5' }).spotMaxPrice).toBe('0.5');
  });

  test('the fallback cool-down: a duration from 5 minutes to a day, for a group with Spot only', () => {
    expect(parseConfig({}).spotFallbackCooldown).toBe(1800);
    expect(parseConfig({ spotFallbackCooldown: '1h' }).spotFallbackCooldown).toBe(3600);
    expect(lines({ spotFallbackCooldown: '1m' })).toContain(
      'spotFallbackCooldown: expected a duration from 5m to 24h, such as 30m, given "1m"',
    );
    expect(problems({ capacity: 'ondemand', spotFallbackCooldown: '10m' })).toEqual([
      'spotFallbackCooldown: expected nothing with capacity=ondemand (the fallback only acts on a group with Spot instances), given a value',
    ]);
  });
});

describe('instance requirements in the configuration', () => {
  const requirements = { vCpu: { min: 8, max: 16 }, memoryMiB: { min: 16384 } };

  test('replace the type list; x86 processors unless told otherwise', () => {
    const config = parseConfig({ instanceRequirements: JSON.stringify(requirements) });
    expect(config.instanceType).toEqual([]);
    expect(config.instanceRequirements).toEqual({ ...requirements, cpuManufacturers: ['intel', 'amd'] });
  });

  test('exactly one of instanceType and instanceRequirements', () => {
    expect(problems({ instanceType: 'c5d.2xlarge', instanceRequirements: requirements })).toEqual([
      'instanceRequirements: expected nothing with instanceType (the group takes either a list of instance types or the attributes AWS chooses them by), given both',
    ]);
  });

  test('each attribute to its grammar, unknown ones refused', () => {
    expect(lines({ instanceRequirements: { memoryMiB: { min: 1024 } } })).toContain(
      'instanceRequirements.vCpu: expected',
    );
    expect(lines({ instanceRequirements: { ...requirements, vCpu: { min: 16, max: 8 } } })).toContain(
      'instanceRequirements.vCpu: expected a max (vCPUs) not below min',
    );
    expect(lines({ instanceRequirements: { ...requirements, gpus: 1 } })).toContain(
      'instanceRequirements.gpus: unknown key',
    );
    expect(
      lines({
        instanceRequirements: {
          ...requirements,
          allowedInstanceTypes: ['c5*'],
          excludedInstanceTypes: ['t*'],
        },
      }),
    ).toContain('instanceRequirements: expected allowedInstanceTypes or excludedInstanceTypes, not both');
    expect(lines({ instanceRequirements: { ...requirements, excludedInstanceTypes: ['c5;rm'] } })).toContain(
      'instanceRequirements.excludedInstanceTypes: expected instance types or families',
    );
  });
});

describe('purchase options in the template', () => {
  test('a base and a share: the Spot group with them, price-capacity-optimized', () => {
    const { template } = synth({ onDemandBase: 1, onDemandPercentage: 25 });
    expect(group(template).MixedInstancesPolicy).toMatchObject({
      InstancesDistribution: {
        OnDemandBaseCapacity: 1,
        OnDemandPercentageAboveBaseCapacity: 25,
        SpotAllocationStrategy: 'price-capacity-optimized',
        SpotMaxPrice: '0.3',
      },
    });
    expect(group(template).CapacityRebalance).toBe(true);
  });

  test('several on-demand types: a mixed group with no Spot settings', () => {
    const { template } = synth({ capacity: 'ondemand', instanceType: 'c5d.2xlarge,m5d.2xlarge' });
    expect(group(template).MixedInstancesPolicy).toMatchObject({
      InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 100 },
    });
    const distribution = (group(template).MixedInstancesPolicy as { InstancesDistribution: Json })
      .InstancesDistribution;
    expect(distribution.SpotMaxPrice).toBeUndefined();
    expect(group(template).CapacityRebalance).toBe(false);
  });

  test('instance requirements: the overrides name the attributes, the launch template no type', () => {
    const { template } = synth({
      instanceRequirements: {
        vCpu: { min: 8, max: 16 },
        memoryMiB: { min: 16384, max: 65536 },
        localStorage: 'required',
        localStorageTypes: ['ssd'],
        excludedInstanceTypes: ['t*'],
      },
    });
    expect(launchTemplateData(template).InstanceType).toBeUndefined();
    expect(group(template).MixedInstancesPolicy).toMatchObject({
      LaunchTemplate: {
        Overrides: [
          {
            InstanceRequirements: {
              VCpuCount: { Min: 8, Max: 16 },
              MemoryMiB: { Min: 16384, Max: 65536 },
              CpuManufacturers: ['intel', 'amd'],
              LocalStorage: 'required',
              LocalStorageTypes: ['ssd'],
              ExcludedInstanceTypes: ['t*'],
            },
          },
        ],
      },
      InstancesDistribution: { SpotAllocationStrategy: 'price-capacity-optimized' },
    });
  });
});
