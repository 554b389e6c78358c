import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import { type InstanceRequirements, purchase } from './capacity-options';
import type { WorkerConfig } from './config';

/**
 * How the group buys its instances. A group with any Spot instance, several types, or types chosen
 * by attributes launches through a mixed instances policy: the launch template then names no type
 * (attribute-based selection refuses one that does) and no market, the policy's overrides and
 * instances distribution do. A single on-demand type stays a plain launch template.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/create-mixed-instances-group-attribute-based-instance-type-selection.html
 */
export function usesMixedInstancesPolicy(config: WorkerConfig): boolean {
  return purchase(config).spot || config.instanceRequirements !== undefined || config.instanceType.length > 1;
}

type LaunchTemplateSpecification = autoscaling.CfnAutoScalingGroup.LaunchTemplateSpecificationProperty;

export function mixedInstancesPolicy(
  config: WorkerConfig,
  launchTemplateSpecification: LaunchTemplateSpecification,
): autoscaling.CfnAutoScalingGroup.MixedInstancesPolicyProperty {
  const p = purchase(config);
  return {
    launchTemplate: {
      launchTemplateSpecification,
      overrides: config.instanceRequirements
        ? [{ instanceRequirements: instanceRequirements(config.instanceRequirements) }]
        : config.instanceType.map((instanceType) => ({ instanceType })),
    },
    instancesDistribution: {
      onDemandBaseCapacity: p.onDemandBase,
      onDemandPercentageAboveBaseCapacity: p.onDemandPercentage,
      // Pools with the most spare capacity first, then the lowest price among them: the strategy
      // AWS recommends, and the fewest interruptions for long builds.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/allocation-strategies.html
      ...(p.spot
        ? { spotAllocationStrategy: 'price-capacity-optimized', spotMaxPrice: config.spotMaxPrice }
        : {}),
    },
  };
}

/** The configuration's attributes in the group's InstanceRequirements. */
function instanceRequirements(
  r: InstanceRequirements,
): autoscaling.CfnAutoScalingGroup.InstanceRequirementsProperty {
  return {
    vCpuCount: r.vCpu,
    memoryMiB: r.memoryMiB,
    memoryGiBPerVCpu: r.memoryGiBPerVCpu,
    cpuManufacturers: r.cpuManufacturers,
    instanceGenerations: r.instanceGenerations,
    burstablePerformance: r.burstablePerformance,
    localStorage: r.localStorage,
    localStorageTypes: r.localStorageTypes,
    bareMetal: r.bareMetal,
    allowedInstanceTypes: r.allowedInstanceTypes,
    excludedInstanceTypes: r.excludedInstanceTypes,
  };
}
