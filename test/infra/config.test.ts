import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseConfig } from '../../infra/config';
import { problems } from '../support/config-problems';

describe('configuration', () => {
  test('defaults follow the original stack', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      project: 'external-worker',
      env: 'prod',
      region: 'eu-west-1',
      desiredCapacity: 1,
      minSize: 1,
      maxSize: 6,
      instanceType: ['c5d.2xlarge'],
      capacity: 'spot',
      spotMaxPrice: '0.3',
      rootVolumeSize: 20,
      dataVolumeSize: 130,
      ebsOptimized: true,
      fsVolumeType: 'btrfs',
      useLocalDevice: false,
      varLibDevice: '/dev/xvdf',
      workerRuntime: 'containerd',
      keepRunningOnBootFailure: false,
      amiRetention: 3,
      bootTimeout: 900,
      drainTimeout: 1800,
      versionCheckInterval: 300,
      rolloutCanaryPercentage: 10,
      rolloutBakeTime: 600,
      bootFailureLimit: 3,
      stackName: 'external-worker-prod',
      workerKeyParameter: '/external-worker/prod/worker-key',
    });
    expect(config.schedule).toEqual({});
    expect(config.extraTags).toEqual({});
  });

  test('-c values arrive as strings and are coerced', () => {
    const config = parseConfig({
      minSize: '0',
      maxSize: '10',
      desiredCapacity: '2',
      ebsOptimized: 'false',
      instanceType: 'c5d.2xlarge, m5d.2xlarge',
      subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
      vpcId: 'vpc-0123456789abcdef0',
      extraTags: '{"team":"ci"}',
      'schedule.start': '0 7 * * MON-FRI',
      'schedule.stop': '0 20 * * *',
      bootTimeout: '20m',
      drainTimeout: '1h30m',
      spotMaxPrice: '0.45',
      rolloutCanaryPercentage: '25',
      rolloutBakeTime: '1h',
      bootFailureLimit: '5',
    });
    expect(config).toMatchObject({
      minSize: 0,
      maxSize: 10,
      desiredCapacity: 2,
      ebsOptimized: false,
      instanceType: ['c5d.2xlarge', 'm5d.2xlarge'],
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      extraTags: { team: 'ci' },
      schedule: { start: '0 7 * * MON-FRI', stop: '0 20 * * *' },
      bootTimeout: 1200,
      drainTimeout: 5400,
      spotMaxPrice: '0.45',
      rolloutCanaryPercentage: 25,
      rolloutBakeTime: 3600,
      bootFailureLimit: 5,
    });
  });

  test('CDK feature flags and internal keys are not configuration', () => {
    expect(() =>
      parseConfig({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:bundling-stacks': [] }),
    ).not.toThrow();
  });

  test.each([
    [{ minSize: 7, maxSize: 6, desiredCapacity: 6 }, 'minSize: expected at most maxSize (6), given 7'],
    [{ desiredCapacity: 9 }, 'desiredCapacity: expected between minSize (1) and maxSize (6), given 9'],
    [{ capacity: 'reserved' }, 'capacity: expected spot or ondemand, given "reserved"'],
    [
      { spotMaxPrice: '-0.2' },
      'spotMaxPrice: expected a positive decimal price in USD per hour, e.g. 0.3, given "-0.2"',
    ],
    [{ spotMaxPrice: 'cheap' }, 'spotMaxPrice: expected a positive decimal price'],
    [{ instanceType: 'c5d-2xlarge' }, 'instanceType: expected an EC2 instance type such as c5d.2xlarge'],
    [
      { subnetIds: '', vpcId: 'vpc-0123456789abcdef0' },
      'subnetIds: expected subnet ids such as subnet-0123456789abcdef0, given ""',
    ],
    [
      { subnetIds: [], vpcId: 'vpc-0123456789abcdef0' },
      'subnetIds: expected a non-empty list of subnet ids, given []',
    ],
    [{ subnetIds: 'subnet-xyz', vpcId: 'vpc-0123456789abcdef0' }, 'subnetIds: expected subnet ids such as'],
    [
      { bastionSecurityGroupId: 'sg-nothex!' },
      'bastionSecurityGroupId: expected a security group id such as sg-',
    ],
    [{ metricsSecurityGroupId: '0123' }, 'metricsSecurityGroupId: expected a security group id'],
    [{ vpcId: 'vpc_123' }, 'vpcId: expected a VPC id such as vpc-'],
    [{ 'schedule.start': '0 25 * * *' }, 'schedule.start: expected a cron expression of 5 fields'],
    [{ schedule: { stop: 'every day' } }, 'schedule.stop: expected a cron expression of 5 fields'],
    [{ rootVolumeSize: '0' }, 'rootVolumeSize: expected a positive integer (GiB), given "0"'],
    [{ dataVolumeSize: 12.5 }, 'dataVolumeSize: expected'],
    [{ maxSize: 'six' }, 'maxSize: expected a positive integer'],
    [{ bootTimeout: '3d' }, 'bootTimeout: expected a duration from 2m to 2h'],
    [
      { rolloutCanaryPercentage: 100 },
      'rolloutCanaryPercentage: expected a percentage of the group from 1 to 99, such as 10, given 100',
    ],
    [
      { rolloutCanaryPercentage: '0' },
      'rolloutCanaryPercentage: expected a percentage of the group from 1 to 99',
    ],
    [
      { rolloutCanaryPercentage: 'one' },
      'rolloutCanaryPercentage: expected a percentage of the group from 1 to 99',
    ],
    [
      { rolloutBakeTime: '13h' },
      'rolloutBakeTime: expected a duration from 1m to 12h, such as 10m, given "13h"',
    ],
    [{ rolloutBakeTime: '30s' }, 'rolloutBakeTime: expected a duration from 1m to 12h'],
    [
      { bootFailureLimit: 0 },
      'bootFailureLimit: expected a number of failed boots from 1 to 10, such as 3, given 0',
    ],
    [{ bootFailureLimit: '11' }, 'bootFailureLimit: expected a number of failed boots from 1 to 10'],
    [{ bootFailureLimit: 2.5 }, 'bootFailureLimit: expected a number of failed boots from 1 to 10'],
    [{ notificationEmail: 'ops' }, 'notificationEmail: expected an e-mail address'],
    [{ workerAmiId: 'ami-123' }, 'workerAmiId: expected an AMI id'],
    [{ extraTags: '{"aws:x":"y"}' }, 'extraTags.aws:x'],
    [
      { extraTags: '{"cost center":"y"}' },
      'extraTags.cost center: expected a map of tag names (letters, digits',
    ],
    [{ minSzie: 2 }, 'minSzie: unknown key (given 2)'],
    [{ schedule: { begin: '0 7 * * *' } }, 'schedule.begin: unknown key'],
    [
      { subnetIds: 'subnet-0123456789abcdef0' },
      'vpcId: expected a VPC id (required when subnetIds is given)',
    ],
  ])('rejects %j', (context, expected) => {
    expect(problems(context).join('\n')).toContain(expected);
  });

  test('reports every problem at once, one line each', () => {
    const found = problems({ capacity: 'x', vpcId: 'y', typo: true });
    expect(found).toHaveLength(3);
    expect(found.map((line) => line.split(':')[0]).sort()).toEqual(['capacity', 'typo', 'vpcId']);
  });

  test('cdk synth exits non-zero with one line per problem and writes no template', () => {
    const root = path.join(__dirname, '..', '..');
    const result = spawnSync(
      path.join(root, 'node_modules', '.bin', 'cdk'),
      [
        'synth',
        '-q',
        '-o',
        path.join(require('node:os').tmpdir(), `ew-bad-${process.pid}`),
        '-c',
        'minSize=9',
        '-c',
        'capacity=reserved',
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('minSize: expected at most maxSize (6), given "9"');
    expect(result.stderr).toContain('capacity: expected spot or ondemand, given "reserved"');
  });
});

describe('configuration errors that explain', () => {
  const lines = (context: Record<string, unknown>) => problems(context).join('\n');

  test('a Spot price with on-demand capacity is an error, not ignored', () => {
    expect(lines({ capacity: 'ondemand', spotMaxPrice: '0.5' })).toContain(
      'spotMaxPrice: expected nothing with capacity=ondemand',
    );
    expect(parseConfig({ capacity: 'ondemand' }).capacity).toBe('ondemand');
  });

  test('DNS servers are IPv4 addresses, one or a list', () => {
    expect(parseConfig({ workerDnsServer: '10.0.0.2' }).workerDnsServer).toEqual(['10.0.0.2']);
    expect(parseConfig({ workerDnsServer: '10.0.0.2, 10.0.0.3' }).workerDnsServer).toEqual([
      '10.0.0.2',
      '10.0.0.3',
    ]);
    expect(parseConfig({ workerDnsServer: ['1.1.1.1'] }).workerDnsServer).toEqual(['1.1.1.1']);
    expect(lines({ workerDnsServer: '10.0.0.256' })).toContain('workerDnsServer: expected');
    expect(lines({ workerDnsServer: '10.0.0' })).toContain('workerDnsServer: expected');
    expect(lines({ workerDnsServer: [] })).toContain('workerDnsServer: expected a non-empty list');
  });

  test('too many instance types names the limit', () => {
    const types = Array.from({ length: 41 }, (_, i) => `c${i + 5}.large`);
    expect(lines({ instanceType: types })).toContain(
      'instanceType: expected at most 40 instance types (the limit of an Auto Scaling group)',
    );
    expect(parseConfig({ instanceType: types.slice(0, 40) }).instanceType).toHaveLength(40);
  });

  test.each(['keeprunning', 'external-worker:stack', 'external-worker:kept', 'Name', 'project'])(
    'extraTags cannot set the reserved key %s',
    (key) => {
      expect(lines({ extraTags: { [key]: 'x' } })).toContain(`extraTags: expected no reserved tag key`);
    },
  );

  test('the scheduler over plain http only behind schedulerAllowHttp', () => {
    expect(lines({ schedulerApiAddress: 'http://scheduler.internal' })).toContain(
      'schedulerApiAddress: expected an https URL (http only with schedulerAllowHttp=true)',
    );
    expect(
      parseConfig({ schedulerApiAddress: 'http://scheduler.internal:8080', schedulerAllowHttp: 'true' })
        .schedulerApiAddress,
    ).toBe('http://scheduler.internal:8080');
    expect(lines({ schedulerApiAddress: 'https://user@scheduler.example.com' })).toContain(
      'schedulerApiAddress: expected an https URL',
    );
    expect(lines({ schedulerApiAddress: 'https://scheduler.example.com/?x=1' })).toContain(
      'schedulerApiAddress: expected',
    );
    expect(lines({ schedulerApiAddress: 'ftp://scheduler.example.com' })).toContain(
      'schedulerApiAddress: expected',
    );
  });

  test('the TSA key is an OpenSSH public key whose blob is of the type it names', () => {
    expect(parseConfig({}).tsaPublicKey).toMatch(/^ssh-rsa AAAA/);
    const ed25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIBx3pq/LR5K/9QfCnOmpFEf2gnY+YrjH1rVZ71xTzcdx';
    expect(parseConfig({ tsaPublicKey: `ssh-ed25519 ${ed25519} tsa@host` }).tsaPublicKey).toContain(ed25519);
    expect(lines({ tsaPublicKey: `ssh-rsa ${ed25519}` })).toContain('tsaPublicKey: expected an OpenSSH');
    expect(lines({ tsaPublicKey: 'ssh-rsa AAAAnotbase64!' })).toContain('tsaPublicKey: expected');
  });

  test('Concourse versions are release versions, as everywhere else', () => {
    expect(parseConfig({ workerVersion: '7.11.2' }).workerVersion).toBe('7.11.2');
    expect(lines({ workerVersion: '7.11.2-rc.1' })).toContain(
      'workerVersion: expected a Concourse release version MAJOR.MINOR.PATCH',
    );
  });
});
