import { AMD64_INSTANCE_TYPE_PATTERN, architectureOf, groupArchitecture } from '../../infra/architecture';
import { parseConfig } from '../../infra/config';
import { problems } from '../support/config-problems';

const GRAVITON = [
  'c7g.2xlarge',
  'm6gd.xlarge',
  't4g.small',
  'c6gn.16xlarge',
  'is4gen.large',
  'im4gn.large',
  'x2gd.medium',
  'g5g.xlarge',
  'hpc7g.16xlarge',
  'r8g.large',
  'c8gd.metal-24xl',
  'a1.large',
];

const AMD64 = [
  'c5d.2xlarge',
  'm5.large',
  'g5.xlarge',
  'g4dn.xlarge',
  'g4ad.xlarge',
  'm7i-flex.large',
  'x2iedn.xlarge',
  'c6in.large',
  'm5zn.large',
  'hpc6a.48xlarge',
  'u-6tb1.metal',
  'u7in-16tb.224xlarge',
  'dl2q.24xlarge',
];

describe('the workers’ architecture follows their instance types', () => {
  // https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
  test.each(GRAVITON)('%s is Graviton: arm64', (type) => {
    expect(architectureOf(type)).toBe('arm64');
  });

  test.each(AMD64)('%s is amd64', (type) => {
    expect(architectureOf(type)).toBe('amd64');
  });

  test('the one-click template admits the amd64 types only, by the same rule', () => {
    const pattern = new RegExp(AMD64_INSTANCE_TYPE_PATTERN);
    expect(AMD64.filter((type) => !pattern.test(type))).toEqual([]);
    expect(GRAVITON.filter((type) => pattern.test(type))).toEqual([]);
  });

  test('a configuration of Graviton types is an arm64 one, the default an amd64 one', () => {
    expect(parseConfig({}).architecture).toBe('amd64');
    expect(parseConfig({ instanceType: 'c7g.2xlarge,m6gd.xlarge,t4g.xlarge' }).architecture).toBe('arm64');
    expect(parseConfig({ instanceType: ['m5.large', 'c5d.2xlarge'] }).architecture).toBe('amd64');
  });

  test('a group never mixes architectures: one line naming the types of each', () => {
    expect(problems({ instanceType: 'c5d.2xlarge,c7g.2xlarge,m5.large,m6gd.xlarge' })).toEqual([
      'instanceType: expected instance types of one architecture (one AMI serves the whole group), given amd64: c5d.2xlarge, m5.large; arm64: c7g.2xlarge, m6gd.xlarge',
    ]);
    expect(groupArchitecture(['t4g.large', 't3.large'])).toEqual({
      problem: expect.stringContaining('arm64: t4g.large; amd64: t3.large'),
    });
  });

  test('guardian on arm64 is refused: Concourse publishes no guardian runtime for linux/arm64', () => {
    expect(problems({ instanceType: 'c7g.2xlarge', workerRuntime: 'guardian' })).toEqual([
      'workerRuntime: expected containerd or houdini with arm64 instance types (Concourse publishes no guardian runtime for linux/arm64), given "guardian"',
    ]);
    for (const workerRuntime of ['containerd', 'houdini']) {
      expect(parseConfig({ instanceType: 'c7g.2xlarge', workerRuntime }).workerRuntime).toBe(workerRuntime);
    }
    expect(parseConfig({ instanceType: 'c5d.2xlarge', workerRuntime: 'guardian' }).workerRuntime).toBe(
      'guardian',
    );
  });

  test('the architecture problems come with those of the other keys, each on its line', () => {
    const found = problems({ instanceType: 'c5.large,c7g.large', minSize: 'x' });
    expect(found).toHaveLength(2);
    expect(found.join('\n')).toMatch(/^minSize: /m);
    expect(found.join('\n')).toMatch(/^instanceType: expected instance types of one architecture/m);
  });
});

describe('types chosen by attributes take the architecture of their processors', () => {
  const sized = { vCpu: { min: 8 }, memoryMiB: { min: 16384 } };

  test('Intel and AMD unless told otherwise: amd64', () => {
    expect(parseConfig({ instanceRequirements: sized }).architecture).toBe('amd64');
  });

  test('AWS Graviton alone: arm64, and no guardian with it', () => {
    const graviton = { ...sized, cpuManufacturers: ['amazon-web-services'] };
    expect(parseConfig({ instanceRequirements: graviton, workerRuntime: 'containerd' }).architecture).toBe(
      'arm64',
    );
    expect(problems({ instanceRequirements: graviton, workerRuntime: 'guardian' })).toEqual([
      'workerRuntime: expected containerd or houdini with arm64 instance types (Concourse publishes no guardian runtime for linux/arm64), given "guardian"',
    ]);
  });

  test('processors of both architectures, or Mac ones, are refused', () => {
    expect(
      problems({ instanceRequirements: { ...sized, cpuManufacturers: ['amazon-web-services', 'intel'] } }),
    ).toEqual([
      'instanceRequirements.cpuManufacturers: expected processors of one architecture (one AMI serves the whole group): amazon-web-services (arm64) alone, or intel and amd (amd64), given ["amazon-web-services","intel"]',
    ]);
    expect(problems({ instanceRequirements: { ...sized, cpuManufacturers: ['apple'] } })).toEqual([
      'instanceRequirements.cpuManufacturers: expected intel, amd or amazon-web-services (Mac instances run on dedicated hosts only), given ["apple"]',
    ]);
  });
});
