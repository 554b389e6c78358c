import { App, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synth } from '../support/stack';

type Json = Record<string, unknown>;

function only(template: Template, type: string, properties?: Json): Json {
  const resources = Object.values(
    template.findResources(type, properties ? { Properties: properties } : undefined),
  );
  expect(resources).toHaveLength(1);
  return (resources[0] as { Properties: Json }).Properties;
}

const launchTemplateData = (template: Template) =>
  only(template, 'AWS::EC2::LaunchTemplate').LaunchTemplateData as Json;
const group = (template: Template) => only(template, 'AWS::AutoScaling::AutoScalingGroup');

/** The user data as text: the literal parts of its Fn::Join, tokens shown as <Ref>. */
function userData(template: Template): string {
  const data = launchTemplateData(template).UserData as { 'Fn::Base64': unknown };
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object' && 'Fn::Join' in value) {
      const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      return parts.map(render).join(separator);
    }
    return `<${JSON.stringify(value)}>`;
  };
  return render(data['Fn::Base64']);
}

const defaults = synth();
/**
 * One synthesis for the options whose assertions below do not overlap: each test reads only what its
 * own options decide, so they share it (a synthesis per option would cost as much again).
 */
const optioned = () =>
  synth({
    bastionSecurityGroupId: 'sg-0123456789abcdef0',
    metricsSecurityGroupId: 'sg-0fedcba9876543210',
    rootVolumeSize: 30,
    dataVolumeSize: 200,
    keyPairName: 'ops',
    extraTags: { team: 'ci' },
    workerTag: 'fast',
    workerDnsServer: '10.0.0.2',
    workerVersion: '7.11.2',
    fsVolumeType: 'ext4',
    useLocalDevice: true,
    varLibDevice: '/dev/xvdf',
    keepRunningOnBootFailure: true,
    teamId: 'acme',
    minSize: 2,
    maxSize: 9,
    desiredCapacity: 3,
    logRetentionDays: 90,
  });
/** Every deploy input in the configuration, so none left to CloudFormation parameters. */
const givenDeployInputs = () =>
  synth({
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: 'subnet-0123456789abcdef0',
    teamId: 'acme',
    customer: 'acme',
  });
/** On-demand, not EBS-optimized, a pinned AMI: one synthesis as well. */
const onDemandPinned = () =>
  synth({ capacity: 'ondemand', ebsOptimized: false, workerAmiId: 'ami-0123456789abcdef0' });
const WORKERS_SG = { GroupDescription: 'Concourse workers of external-worker-prod' };

describe('security group', () => {
  test('all egress, no ingress by default', () => {
    const sg = only(defaults.template, 'AWS::EC2::SecurityGroup', WORKERS_SG);
    expect(sg.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: '-1', CidrIp: '0.0.0.0/0' }),
    ]);
    expect(sg.SecurityGroupIngress).toBeUndefined();
    defaults.template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('tcp/22 from the bastion and tcp/9100 from the metrics group only when given', () => {
    const { template } = optioned();
    const sg = only(template, 'AWS::EC2::SecurityGroup', WORKERS_SG);
    expect(sg.SecurityGroupIngress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        SourceSecurityGroupId: 'sg-0123456789abcdef0',
      }),
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 9100,
        ToPort: 9100,
        SourceSecurityGroupId: 'sg-0fedcba9876543210',
      }),
    ]);
    expect(JSON.stringify(sg.SecurityGroupIngress)).not.toContain('0.0.0.0/0');
    const onlyMetrics = only(
      synth({ metricsSecurityGroupId: 'sg-0fedcba9876543210' }).template,
      'AWS::EC2::SecurityGroup',
      WORKERS_SG,
    );
    expect(onlyMetrics.SecurityGroupIngress).toEqual([expect.objectContaining({ FromPort: 9100 })]);
  });
});

describe('launch template', () => {
  test('no type nor market by default (the Spot group names them), the type with on-demand', () => {
    expect(launchTemplateData(defaults.template).InstanceMarketOptions).toBeUndefined();
    expect(launchTemplateData(defaults.template).InstanceType).toBeUndefined();
    expect(group(defaults.template).MixedInstancesPolicy).toMatchObject({
      LaunchTemplate: { Overrides: [{ InstanceType: 'c5d.2xlarge' }] },
      InstancesDistribution: {
        OnDemandBaseCapacity: 0,
        OnDemandPercentageAboveBaseCapacity: 0,
        SpotAllocationStrategy: 'price-capacity-optimized',
        SpotMaxPrice: '0.3',
      },
    });
    const ondemand = onDemandPinned().template;
    expect(launchTemplateData(ondemand).InstanceMarketOptions).toBeUndefined();
    expect(launchTemplateData(ondemand).InstanceType).toBe('c5d.2xlarge');
    expect(group(ondemand).MixedInstancesPolicy).toBeUndefined();
  });

  test('IMDSv2 required, hop limit 1, encrypted gp3 root and data volumes, instance stores', () => {
    const data = launchTemplateData(optioned().template);
    expect(data.MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'enabled',
      HttpProtocolIpv6: 'disabled',
      InstanceMetadataTags: 'enabled',
    });
    const mappings = data.BlockDeviceMappings as Json[];
    expect(mappings[0]).toEqual({
      DeviceName: '/dev/xvda',
      Ebs: { VolumeSize: 30, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
    });
    expect(mappings[1]).toEqual({
      DeviceName: '/dev/xvdf',
      Ebs: { VolumeSize: 200, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
    });
    expect(mappings.slice(2).map((m) => m.VirtualName)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `ephemeral${i}`),
    );
    expect(data.EbsOptimized).toBe(true);
    expect(launchTemplateData(onDemandPinned().template).EbsOptimized).toBe(false);
  });

  test('builds reach the metadata service (hop limit 2) only with buildsUseInstanceRole', () => {
    const data = launchTemplateData(synth({ buildsUseInstanceRole: 'true' }).template);
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    expect(userData(synth({ buildsUseInstanceRole: true }).template)).toContain(
      "EW_BUILDS_USE_INSTANCE_ROLE='true'",
    );
    expect(userData(defaults.template)).toContain("EW_BUILDS_USE_INSTANCE_ROLE='false'");
  });

  test('a key pair only when keyPairName is set', () => {
    expect(launchTemplateData(defaults.template).KeyName).toBeUndefined();
    expect(launchTemplateData(optioned().template).KeyName).toBe('ops');
  });

  test('instances, volumes and network interfaces are tagged', () => {
    const specs = launchTemplateData(optioned().template).TagSpecifications as Json[];
    expect(specs.map((s) => s.ResourceType)).toEqual(['instance', 'volume', 'network-interface']);
    for (const spec of specs) {
      expect(spec.Tags).toEqual(
        expect.arrayContaining([
          { Key: 'project', Value: 'external-worker' },
          { Key: 'env', Value: 'prod' },
          { Key: 'role', Value: 'worker' },
          { Key: 'cycloid.io', Value: 'true' },
          { Key: 'team', Value: 'ci' },
          { Key: 'external-worker:stack', Value: 'external-worker-prod' },
          { Key: 'customer', Value: { Ref: 'Customer' } },
        ]),
      );
    }
  });

  test('user data hands the boot its settings and never a secret', () => {
    const text = userData(optioned().template);
    for (const line of [
      "EW_SCHEDULER_HOST='scheduler.cycloid.io'",
      "EW_SCHEDULER_PORT='32223'",
      "EW_SCHEDULER_API_ADDRESS='https://scheduler.cycloid.io'",
      "EW_TEAM_ID='acme'",
      "EW_WORKER_TAG='fast'",
      "EW_WORKER_RUNTIME='containerd'",
      "EW_WORKER_DNS_SERVER='10.0.0.2'",
      "EW_CONCOURSE_VERSION_PATTERN='^[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}$'",
      "EW_WORKER_VERSION='7.11.2'",
      "EW_WORKER_KEY_PARAMETER='/external-worker/prod/worker-key'",
      "EW_FS_VOLUME_TYPE='ext4'",
      "EW_USE_LOCAL_DEVICE='true'",
      "EW_VAR_LIB_DEVICE='/dev/xvdf'",
      "EW_KEEPRUNNING_DEFAULT='true'",
      "EW_TSA_PUBLIC_KEY='ssh-rsa AAAA",
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/EW_LOG_GROUP='<\{"Ref":"FleetWorkerLogs[0-9A-F]+"\}>'/);
    expect(text).toContain('exec /usr/local/sbin/external-worker-bootstrap');
    expect(text).not.toMatch(/PRIVATE KEY|AKIA[0-9A-Z]{16}|aws_secret|with-decryption/i);
  });
});

describe('which AMI', () => {
  test('by default the AMI the last rollout recorded, or the stock Debian 12 AMI, resolved at deploy time', () => {
    expect(launchTemplateData(defaults.template).ImageId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^FleetCurrentAmi/), 'ImageId'],
    });
    const resolver = only(defaults.template, 'Custom::WorkerAmi');
    expect(resolver).toMatchObject({
      CurrentAmiParameter: '/external-worker/prod/current-ami',
      StockAmiParameter: '/aws/service/debian/release/12/latest/amd64',
    });
  });

  test('a pinned AMI is used as it is, with no resolver', () => {
    const { template } = onDemandPinned();
    expect(launchTemplateData(template).ImageId).toBe('ami-0123456789abcdef0');
    template.resourceCountIs('Custom::WorkerAmi', 0);
  });

  test('the resolver runs again whenever the launch template or the group changes', () => {
    const fingerprint = (context: Record<string, unknown>, fresh = false) =>
      JSON.stringify(
        (only(synth(context, { fresh }).template, 'Custom::WorkerAmi') as { Fingerprint: unknown })
          .Fingerprint,
      );
    const base = fingerprint({});
    expect(fingerprint({}, true)).toBe(base);
    expect(fingerprint({ instanceType: 'm5d.2xlarge' })).not.toBe(base);
    expect(fingerprint({ maxSize: 8 })).not.toBe(base);
    expect(base).toContain('{"Ref":"TeamId"}');
  });

  test('the group points at an explicit launch template version and CloudFormation never replaces instances', () => {
    const asg = defaults.template.findResources('AWS::AutoScaling::AutoScalingGroup');
    const [resource] = Object.values(asg) as Array<{ Properties: Json; UpdatePolicy?: Json }>;
    // A Spot group by default: its mixed instances policy names the template.
    const policy = resource?.Properties.MixedInstancesPolicy as { LaunchTemplate: Json } | undefined;
    expect(policy?.LaunchTemplate.LaunchTemplateSpecification).toEqual({
      LaunchTemplateId: { Ref: expect.stringMatching(/^FleetLaunchTemplate/) },
      Version: { 'Fn::GetAtt': [expect.stringMatching(/^FleetLaunchTemplate/), 'LatestVersionNumber'] },
    });
    expect(resource?.UpdatePolicy).toEqual({
      AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true },
    });
  });
});

describe('auto scaling group', () => {
  test('sizes, termination policies, rebalancing with Spot, group metrics', () => {
    expect(group(optioned().template)).toMatchObject({
      AutoScalingGroupName: 'external-worker-prod-workers',
      MinSize: '2',
      MaxSize: '9',
      DesiredCapacity: '3',
      VPCZoneIdentifier: { Ref: 'SubnetIds' },
      TerminationPolicies: ['OldestLaunchTemplate', 'NewestInstance'],
      CapacityRebalance: true,
      MetricsCollection: [{ Granularity: '1Minute' }],
    });
    expect(group(onDemandPinned().template).CapacityRebalance).toBe(false);
  });

  test('subnets from the configuration when given', () => {
    const { template } = givenDeployInputs();
    expect(group(template).VPCZoneIdentifier).toEqual(['subnet-0123456789abcdef0']);
    expect(template.toJSON().Parameters?.SubnetIds).toBeUndefined();
    expect(template.toJSON().Parameters?.VpcId).toBeUndefined();
  });

  test('lifecycle hooks are declared on the group itself', () => {
    const hooks = group(
      synth({ bootTimeout: '20m', drainTimeout: '3h' }).template,
    ).LifecycleHookSpecificationList;
    expect(hooks).toEqual([
      {
        LifecycleHookName: 'external-worker-prod-launch',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        DefaultResult: 'ABANDON',
        HeartbeatTimeout: 1320,
      },
      {
        LifecycleHookName: 'external-worker-prod-terminate',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        DefaultResult: 'CONTINUE',
        HeartbeatTimeout: 7200,
      },
    ]);
  });

  test('tags propagate to instances', () => {
    const tags = group(optioned().template).Tags;
    expect(tags).toEqual(
      expect.arrayContaining(
        [
          ['customer', { Ref: 'Customer' }],
          ['project', 'external-worker'],
          ['env', 'prod'],
          ['role', 'worker'],
          ['cycloid.io', 'true'],
          ['team', 'ci'],
          ['keeprunning', 'true'],
        ].map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
      ),
    );
    const plain = group(defaults.template).Tags as Json[];
    expect(plain.find((t) => t.Key === 'keeprunning')).toBeUndefined();
  });

  test('several instance types make a mixed instances group without market options in the template', () => {
    const { template } = synth({ instanceType: 'c5d.2xlarge,m5d.2xlarge' });
    const asg = group(template);
    expect(asg.LaunchTemplate).toBeUndefined();
    expect(asg.MixedInstancesPolicy).toMatchObject({
      LaunchTemplate: {
        LaunchTemplateSpecification: {
          Version: { 'Fn::GetAtt': [expect.any(String), 'LatestVersionNumber'] },
        },
        Overrides: [{ InstanceType: 'c5d.2xlarge' }, { InstanceType: 'm5d.2xlarge' }],
      },
      InstancesDistribution: { OnDemandPercentageAboveBaseCapacity: 0, SpotMaxPrice: '0.3' },
    });
    expect(launchTemplateData(template).InstanceMarketOptions).toBeUndefined();
    expect(launchTemplateData(template).InstanceType).toBeUndefined();
  });

  test('scheduled start and stop only when configured', () => {
    defaults.template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
    const { template } = synth({
      schedule: { start: '0 7 * * 1-5', stop: '0 20 * * 1-5' },
      desiredCapacity: 2,
    });
    const actions = Object.values(template.findResources('AWS::AutoScaling::ScheduledAction')).map(
      (r) => (r as { Properties: Json }).Properties,
    );
    expect(actions).toEqual([
      expect.objectContaining({ Recurrence: '0 7 * * 1-5', DesiredCapacity: 2, MinSize: 1 }),
      expect.objectContaining({ Recurrence: '0 20 * * 1-5', DesiredCapacity: 0, MinSize: 0 }),
    ]);
    synth({ 'schedule.stop': '0 20 * * *' }).template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 1);
  });
});

describe('logs and outputs', () => {
  test('worker log group with the configured retention', () => {
    const { template } = optioned();
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/external-worker/prod/workers',
      RetentionInDays: 90,
    });
  });

  test('outputs: security group, group name, log group', () => {
    const outputs = defaults.template.toJSON().Outputs as Json;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['WorkersSecurityGroupId', 'AutoScalingGroupName', 'WorkerLogGroup']),
    );
  });

  test('deploy inputs the configuration lacks are CloudFormation parameters', () => {
    expect(Object.keys(defaults.template.toJSON().Parameters)).toEqual(
      expect.arrayContaining(['VpcId', 'SubnetIds', 'TeamId', 'Customer']),
    );
    const given = givenDeployInputs().template.toJSON().Parameters as Json;
    expect(Object.keys(given).filter((name) => name !== 'BootstrapVersion')).toEqual([]);
  });
});

describe('AwsSolutions checks', () => {
  test('the stack synthesizes with every bundle built and no unacknowledged finding', () => {
    expect(() => synth({}, { bundle: true })).not.toThrow();
  });

  test('an unacknowledged finding fails synthesis', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    new s3.Bucket(stack, 'Bucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
