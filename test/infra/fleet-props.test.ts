import { App, CfnParameter, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ConfigError, parseConfig } from '../../infra/config';
import { resolveFleetProps, WorkerCapacity } from '../../infra/fleet-props';
import { fleetPropsFromConfig } from '../../infra/fleet-props-from-config';

const newStack = (name = 'external-worker-prod') =>
  new Stack(new App({ builtinCloudFormationValidation: false }), name, { env: { region: 'eu-west-1' } });

/** The configuration keys as cdk.json gives them, and what the construct makes of them. */
const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  defaults: {},
  full: {
    customer: 'acme',
    teamId: 'ci',
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
    bastionSecurityGroupId: 'sg-0123456789abcdef0',
    metricsSecurityGroupId: 'sg-0fedcba9876543210',
    keyPairName: 'ops',
    instanceType: 'c5d.2xlarge,m5d.2xlarge',
    spotMaxPrice: '0.30',
    'schedule.start': '0 7 * * MON-FRI',
    'schedule.stop': '0 20 * * *',
    workerDnsServer: '10.0.0.2',
    workerVersion: '7.11.2',
    workerTag: 'build',
    keepRunningOnBootFailure: 'true',
    bootTimeout: '20m',
    keptInstanceTtl: '2h',
    extraTags: '{"team":"ci"}',
    artifactMirrors: '{"concourse":"https://mirror.example.com/concourse"}',
    notificationEmail: 'ops@example.com',
    logRetentionDays: 90,
    securityGroupIds: 'sg-0aaaaaaaaaaaaaaaa,sg-0bbbbbbbbbbbbbbbb',
    associatePublicIp: 'true',
    workerEnvironment: '{"CONCOURSE_CONTAINERD_MAX_CONTAINERS":"250"}',
    rolloutCanaryPercentage: '25',
    rolloutBakeTime: '5m',
    bootFailureLimit: '5',
  },
  ondemand: { capacity: 'ondemand', minSize: 0, desiredCapacity: 0, maxSize: 2 },
  mixedSpot: { onDemandBase: '1', onDemandPercentage: '20', spotFallbackCooldown: '1h' },
  byAttributes: {
    instanceRequirements:
      '{"vCpu":{"min":8,"max":16},"memoryMiB":{"min":16384},"excludedInstanceTypes":["t*"]}',
  },
  // The subnets left to the SubnetIds parameter.
  vpcOnly: { vpcId: 'vpc-0123456789abcdef0' },
  warmPool: {
    capacity: 'ondemand',
    instanceType: 'm5.large',
    rootVolumeSize: 30,
    warmPool: '{"minSize":2,"maxPreparedCapacity":8,"poolState":"Hibernated","reuseOnScaleIn":true}',
  },
};

describe('the construct properties of a configuration', () => {
  test.each(Object.keys(CONFIGURATIONS))(
    '%s: the construct rebuilds exactly the configuration the app parsed',
    (name) => {
      const config = parseConfig(CONFIGURATIONS[name] ?? {});
      const stack = newStack(config.stackName);
      const resolved = resolveFleetProps(stack, fleetPropsFromConfig(stack, config));
      expect(resolved.config).toEqual(config);
      expect(resolved.references).toEqual({});
      expect(resolved.ingressReferences).toEqual([]);
      // The imports by id are quiet: CDK's warnings about what they lack do not apply.
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    },
  );
});

describe('typed properties', () => {
  test('durations, sizes, instance types and schedules become the configuration keys', () => {
    const { config } = resolveFleetProps(newStack(), {
      instanceTypes: [ec2.InstanceType.of(ec2.InstanceClass.M7I, ec2.InstanceSize.XLARGE2)],
      capacity: WorkerCapacity.ON_DEMAND,
      bootTimeout: Duration.minutes(20),
      drainTimeout: Duration.hours(2),
      dataVolumeSize: Size.gibibytes(200),
      schedule: { start: autoscaling.Schedule.cron({ minute: '0', hour: '7', weekDay: 'MON-FRI' }) },
    });
    expect(config).toMatchObject({
      instanceType: ['m7i.2xlarge'],
      capacity: 'ondemand',
      bootTimeout: 1200,
      drainTimeout: 7200,
      dataVolumeSize: 200,
      schedule: { start: '0 7 * * MON-FRI' },
    });
  });

  test('the stack holding the fleet names it', () => {
    const { config } = resolveFleetProps(newStack('ci-workers'), {});
    expect(config.stackName).toBe('ci-workers');
    expect(config.workerKeyParameter).toBe('/external-worker/prod/worker-key');
  });

  test('bad values fail with the parser message of each key, all at once', () => {
    let error: unknown;
    try {
      resolveFleetProps(newStack(), {
        minCapacity: 5,
        maxCapacity: 2,
        bootTimeout: Duration.seconds(30),
        instanceTypes: [new ec2.InstanceType('not a type')],
        rootVolumeSize: Size.gibibytes(0),
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'instanceType: expected an EC2 instance type such as c5d.2xlarge, given ["not a type"]',
      'rootVolumeSize: expected a positive integer (GiB), given 0',
      'bootTimeout: expected a duration from 2m to 2h, such as 15m, given "30s"',
      'minSize: expected at most maxSize (2), given 5',
    ]);
  });

  test('a VPC created in the same app is a reference: no VpcId or SubnetIds parameter, nothing for the parser', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Network', { maxAzs: 2 });
    const bastion = new ec2.SecurityGroup(stack, 'Bastion', { vpc });
    const team = new CfnParameter(stack, 'Team').valueAsString;
    const resolved = resolveFleetProps(stack, { vpc, bastionSecurityGroup: bastion, teamId: team });
    expect(resolved.config.vpcId).toBeUndefined();
    expect(resolved.config.teamId).toBeUndefined();
    expect(resolved.references).toEqual({
      vpcId: vpc.vpcId,
      subnetIds: vpc.selectSubnets().subnetIds,
      teamId: team,
    });
    expect(resolved.ingressReferences).toEqual([
      { securityGroup: bastion, port: 22, description: 'SSH from the bastion' },
    ]);
  });

  test('subnets without their VPC are refused', () => {
    const stack = newStack();
    const subnet = ec2.Subnet.fromSubnetId(stack, 'Subnet', 'subnet-0123456789abcdef0');
    expect(() => resolveFleetProps(stack, { vpcSubnets: { subnets: [subnet] } })).toThrow(
      'vpcSubnets selects subnets of a vpc; give the vpc too',
    );
  });
});
