/**
 * The processor architecture of the workers, which decides the parent AMI, the build instance and
 * every binary the image installs. It follows from the instance types alone: the one place that
 * decides it, whatever else comes to choose instance types.
 */

/** Debian's and Concourse's name of an architecture (`linux-<arch>` tarballs, `debian_<arch>` packages). */
export type Architecture = 'amd64' | 'arm64';

export interface ArchitectureFacts {
  /** EC2's name (an AMI's `Architecture`, DescribeImages' `architecture` filter). */
  readonly ec2: 'x86_64' | 'arm64';
  /** Ansible's `ansible_architecture` on such a host (the kernel's `uname -m`). */
  readonly ansible: 'x86_64' | 'aarch64';
  /** Public parameter of the stock Debian 12 AMI: the image build's parent, the first deploy's AMI. */
  readonly stockAmiParameter: string;
  /** Image Builder's build instance: the playbook installs packages and one binary, nothing heavy. */
  readonly buildInstanceType: string;
}

/**
 * Debian publishes its cloud images' ids under `/aws/service/debian/release/<release>/latest/<arch>`.
 * https://wiki.debian.org/Cloud/AmazonEC2Image/Bookworm
 */
export const ARCHITECTURES: Record<Architecture, ArchitectureFacts> = {
  amd64: {
    ec2: 'x86_64',
    ansible: 'x86_64',
    stockAmiParameter: '/aws/service/debian/release/12/latest/amd64',
    buildInstanceType: 't3.medium',
  },
  arm64: {
    ec2: 'arm64',
    ansible: 'aarch64',
    stockAmiParameter: '/aws/service/debian/release/12/latest/arm64',
    buildInstanceType: 't4g.medium',
  },
};

/** Graviton families whose name carries no processor letter: A1 is the first AWS Graviton. */
const GRAVITON_WITHOUT_LETTER = new Set(['a1']);

/**
 * An instance type's architecture, from its name: `<series><generation><options>.<size>`, where the
 * options name the processor (`a` AMD, `g` AWS Graviton, `i` Intel) and the additional capabilities
 * (`b d e flex n q z` …), none of which is a `g`. So a family is Graviton when the letters after its
 * generation contain a `g` (c7g, m6gd, c6gn, is4gen, x2gd, g5g); a GPU series `g` before the
 * generation (g5) is not. Families outside this form (u-6tb1, the high-memory types) are Intel.
 * https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
 */
export function architectureOf(instanceType: string): Architecture {
  const family = instanceType.split('.')[0] ?? '';
  if (GRAVITON_WITHOUT_LETTER.has(family)) return 'arm64';
  const options = /^[a-z]+[0-9]+([a-z-]*)/.exec(family)?.[1] ?? '';
  return options.split('-')[0]?.includes('g') ? 'arm64' : 'amd64';
}

/** The instance types of each architecture among `instanceTypes`, in their order. */
export function typesByArchitecture(instanceTypes: readonly string[]): Map<Architecture, string[]> {
  const found = new Map<Architecture, string[]>();
  for (const type of instanceTypes) {
    const architecture = architectureOf(type);
    found.set(architecture, [...(found.get(architecture) ?? []), type]);
  }
  return found;
}

/**
 * The one architecture of a group's instance types, or the problem with them: an AMI runs on one
 * architecture, so a group never mixes them.
 */
export function groupArchitecture(
  instanceTypes: readonly string[],
): { architecture: Architecture } | { problem: string } {
  const found = typesByArchitecture(instanceTypes);
  const [first, ...others] = [...found.keys()];
  if (first === undefined) return { architecture: 'amd64' };
  if (others.length === 0) return { architecture: first };
  const listed = [...found.entries()].map(([architecture, types]) => `${architecture}: ${types.join(', ')}`);
  return {
    problem: `expected instance types of one architecture (one AMI serves the whole group), given ${listed.join('; ')}`,
  };
}

/**
 * The one architecture of the processors `instanceRequirements` allows: Graviton
 * (`amazon-web-services`) is arm64, Intel and AMD amd64; Apple's are Mac instances, on dedicated
 * hosts only, which a group cannot launch on.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRequirements.html
 */
export function requirementsArchitecture(
  cpuManufacturers: readonly string[],
): { architecture: Architecture } | { problem: string } {
  const given = `given ${JSON.stringify(cpuManufacturers)}`;
  if (cpuManufacturers.includes('apple')) {
    return {
      problem: `instanceRequirements.cpuManufacturers: expected intel, amd or amazon-web-services (Mac instances run on dedicated hosts only), ${given}`,
    };
  }
  const arm = cpuManufacturers.includes('amazon-web-services');
  if (arm && cpuManufacturers.length > 1) {
    return {
      problem: `instanceRequirements.cpuManufacturers: expected processors of one architecture (one AMI serves the whole group): amazon-web-services (arm64) alone, or intel and amd (amd64), ${given}`,
    };
  }
  return { architecture: arm ? 'arm64' : 'amd64' };
}

/**
 * The amd64 instance types by the rule of architectureOf, as one regular expression (CloudFormation's
 * AllowedPattern, which is Java's grammar): no `g` in the options, not A1. For a template whose
 * instance type is a launch parameter while its image is synthesized for amd64.
 */
export const AMD64_INSTANCE_TYPE_PATTERN =
  '^(?!a1\\.)([a-z]+[0-9]+[a-fh-z]*(-[a-z0-9]+)?|u-[a-z0-9]+)\\.[a-z0-9-]+$';
