import type { z } from 'zod';
import { groupArchitecture, requirementsArchitecture } from '../architecture';
import { capacityOptionProblems } from '../capacity-options';
import type { configSchema } from '../config';
import { fleetOptionProblems } from '../fleet-options';
import { lagAlarmProblems } from '../version-lag';
import { warmPoolProblems } from '../warm-pool';
import { describe } from './problems';

type Shape = (typeof configSchema)['shape'];

/** Tag keys the stack sets itself, or that change what the control plane does with an instance. */
const RESERVED_TAG = /^(keeprunning|external-worker:.*|Name|customer|project|env|role|cycloid\.io)$/;

/**
 * Rules between keys, checked on the keys that are valid on their own, so that they are reported
 * together with the problems of the other keys.
 */
export function crossKeyProblems(raw: Record<string, unknown>, shape: Shape): string[] {
  const field = <K extends keyof Shape>(key: K) => {
    const parsed = shape[key].safeParse(raw[key]);
    return parsed.success ? (parsed.data as z.output<Shape[K]>) : undefined;
  };
  const [min, max, desired] = [field('minSize'), field('maxSize'), field('desiredCapacity')];
  const problems: string[] = [];
  if (min !== undefined && max !== undefined && min > max) {
    problems.push(`minSize: expected at most maxSize (${max}), given ${describe(raw.minSize ?? min)}`);
  }
  if (
    min !== undefined &&
    max !== undefined &&
    desired !== undefined &&
    min <= max &&
    (desired < min || desired > max)
  ) {
    problems.push(
      `desiredCapacity: expected between minSize (${min}) and maxSize (${max}), given ${describe(raw.desiredCapacity ?? desired)}`,
    );
  }
  const [interval, tolerance] = [field('versionCheckInterval'), field('versionLagTolerance')];
  if (interval !== undefined && tolerance !== undefined)
    problems.push(...lagAlarmProblems(interval, tolerance));
  const [address, allowHttp] = [field('schedulerApiAddress'), field('schedulerAllowHttp')];
  if (address?.startsWith('http://') && allowHttp !== true) {
    problems.push(
      `schedulerApiAddress: expected an https URL (http only with schedulerAllowHttp=true), given ${describe(address)}`,
    );
  }
  if (raw.spotMaxPrice !== undefined && field('capacity') === 'ondemand') {
    problems.push(
      `spotMaxPrice: expected nothing with capacity=ondemand (a maximum Spot price applies to Spot capacity only), given ${describe(raw.spotMaxPrice)}`,
    );
  }
  const tags = field('extraTags');
  const reserved = Object.keys(tags ?? {}).filter((key) => RESERVED_TAG.test(key));
  if (reserved.length > 0) {
    problems.push(
      `extraTags: expected no reserved tag key (keeprunning, external-worker:*, and the tags the stack sets: Name, customer, project, env, role, cycloid.io), given ${reserved.map((k) => JSON.stringify(k)).join(', ')}`,
    );
  }
  problems.push(
    ...architectureProblems(
      raw,
      field('instanceType'),
      field('instanceRequirements'),
      field('workerRuntime'),
    ),
  );
  problems.push(...fleetOptionProblems({ workerEnvironment: field('workerEnvironment') }));
  problems.push(
    ...capacityOptionProblems({
      capacity: field('capacity'),
      onDemandBase: field('onDemandBase'),
      onDemandPercentage: field('onDemandPercentage'),
      instanceRequirements: field('instanceRequirements'),
      given: {
        instanceType: raw.instanceType !== undefined,
        spotFallbackCooldown: raw.spotFallbackCooldown !== undefined,
      },
    }),
  );
  problems.push(
    ...warmPoolProblems({
      warmPool: field('warmPool'),
      capacity: field('capacity'),
      instanceType: field('instanceType'),
      instanceRequirements: field('instanceRequirements'),
      rootVolumeSize: field('rootVolumeSize'),
    }),
  );
  if (raw.subnetIds !== undefined && raw.vpcId === undefined) {
    problems.push('vpcId: expected a VPC id (required when subnetIds is given), given nothing');
  }
  return problems;
}

/** One architecture per group, and a runtime Concourse publishes for it. */
function architectureProblems(
  raw: Record<string, unknown>,
  instanceTypes: string[] | undefined,
  requirements: { cpuManufacturers: string[] } | undefined,
  runtime: string | undefined,
): string[] {
  const group = requirements
    ? requirementsArchitecture(requirements.cpuManufacturers)
    : instanceTypes && groupArchitecture(instanceTypes);
  if (!group) return [];
  if ('problem' in group) return [requirements ? group.problem : `instanceType: ${group.problem}`];
  // Guardian ships no working linux/arm64 build: Concourse's arm64 worker offers containerd and
  // houdini only. https://github.com/concourse/concourse/pull/9235
  if (group.architecture === 'arm64' && runtime === 'guardian') {
    return [
      `workerRuntime: expected containerd or houdini with arm64 instance types (Concourse publishes no guardian runtime for linux/arm64), given ${describe(raw.workerRuntime)}`,
    ];
  }
  return [];
}
