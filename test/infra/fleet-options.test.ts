import { ConfigError, parseConfig } from '../../infra/config';
import { encodedWorkerEnvironment, STACK_WORKER_ENVIRONMENT } from '../../infra/fleet-options';
import { synth } from '../support/stack';

function problems(context: Record<string, unknown>): string[] {
  try {
    parseConfig(context);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('configuration was accepted');
}
const lines = (context: Record<string, unknown>) => problems(context).join('\n');

describe('securityGroupIds', () => {
  test('none by default; a list, a comma-separated -c value or JSON', () => {
    expect(parseConfig({}).securityGroupIds).toBeUndefined();
    expect(parseConfig({ securityGroupIds: ['sg-0123456789abcdef0'] }).securityGroupIds).toEqual([
      'sg-0123456789abcdef0',
    ]);
    expect(parseConfig({ securityGroupIds: 'sg-0123abcd, sg-4567ef01' }).securityGroupIds).toEqual([
      'sg-0123abcd',
      'sg-4567ef01',
    ]);
    expect(parseConfig({ securityGroupIds: '["sg-0123abcd"]' }).securityGroupIds).toEqual(['sg-0123abcd']);
  });

  test('refuses what is not a list of security group ids, naming the key', () => {
    expect(lines({ securityGroupIds: 'sg-xyz' })).toContain(
      'securityGroupIds: expected security group ids such as sg-0123456789abcdef0, given "sg-xyz"',
    );
    expect(lines({ securityGroupIds: 'sg-0123abcd,sg-0123abcd' })).toContain(
      'securityGroupIds: expected security group ids without repeats',
    );
    expect(lines({ securityGroupIds: { a: 1 } })).toContain('securityGroupIds: expected a list of');
  });

  test('at most 15, the workers own group making 16 on the interface', () => {
    const ids = Array.from({ length: 16 }, (_, i) => `sg-${(0x10000000 + i).toString(16)}`);
    expect(lines({ securityGroupIds: ids })).toContain(
      "securityGroupIds: expected at most 15 security groups (16 per network interface, the workers' own included)",
    );
    expect(parseConfig({ securityGroupIds: ids.slice(0, 15) }).securityGroupIds).toHaveLength(15);
  });
});

describe('associatePublicIp', () => {
  test('unset by default (the subnet decides); true or false, also as -c strings', () => {
    expect(parseConfig({}).associatePublicIp).toBeUndefined();
    expect(parseConfig({ associatePublicIp: 'true' }).associatePublicIp).toBe(true);
    expect(parseConfig({ associatePublicIp: false }).associatePublicIp).toBe(false);
    expect(lines({ associatePublicIp: 'yes' })).toContain(
      'associatePublicIp: expected true or false, given "yes"',
    );
  });
});

describe('workerEnvironment', () => {
  test('empty by default; a map, also as a JSON -c value', () => {
    expect(parseConfig({}).workerEnvironment).toEqual({});
    expect(
      parseConfig({ workerEnvironment: '{"CONCOURSE_CONTAINERD_MAX_CONTAINERS":"250"}' }).workerEnvironment,
    ).toEqual({ CONCOURSE_CONTAINERD_MAX_CONTAINERS: '250' });
  });

  test('names are Concourse worker settings', () => {
    for (const name of ['PATH', 'LD_PRELOAD', 'concourse_x', 'CONCOURSE_', 'CONCOURSE_A-B']) {
      expect(lines({ workerEnvironment: { [name]: '1' } })).toContain(
        `workerEnvironment: expected names of Concourse worker settings (CONCOURSE_ and upper-case letters, digits, _) instead of ${JSON.stringify(name)}`,
      );
    }
  });

  test('values are data: no space, quote, shell or template character', () => {
    for (const value of [
      '',
      'a b',
      'a"b',
      "a'b",
      '$HOME',
      '`id`',
      '{{ x }}',
      '%{x}',
      'a;b',
      'a#b',
      'a\\b',
      'a\nb',
    ]) {
      expect(lines({ workerEnvironment: { CONCOURSE_X: value } })).toMatch(
        /^workerEnvironment\.CONCOURSE_X: expected values of 1-1024 letters, digits and _ \. , : \/ = \+ @ -/m,
      );
    }
    expect(lines({ workerEnvironment: { CONCOURSE_X: 250 } })).toContain(
      'workerEnvironment.CONCOURSE_X: expected string values',
    );
    const accepted = parseConfig({
      workerEnvironment: { CONCOURSE_X: 'https://proxy.example.com:3128/a,b=c+d@e_f.g-h' },
    });
    expect(accepted.workerEnvironment.CONCOURSE_X).toBe('https://proxy.example.com:3128/a,b=c+d@e_f.g-h');
  });

  test.each(Object.entries(STACK_WORKER_ENVIRONMENT))(
    'the stack sets %s itself (%s): refused, with the key to use',
    (name, instead) => {
      expect(lines({ workerEnvironment: { [name]: 'x' } })).toContain(
        `workerEnvironment: expected no setting the stack writes itself, given ${name} (${instead})`,
      );
    },
  );

  test('at most 64 settings', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`CONCOURSE_X${i}`, '1']));
    expect(lines({ workerEnvironment: many })).toContain(
      'workerEnvironment: expected at most 64 worker settings',
    );
  });

  test('reaches the user data as sorted NAME=value words', () => {
    expect(encodedWorkerEnvironment({ CONCOURSE_B: '2', CONCOURSE_A: '1' })).toBe(
      'CONCOURSE_A=1 CONCOURSE_B=2',
    );
    expect(encodedWorkerEnvironment({})).toBe('');
  });
});

describe('the launch template', () => {
  type Json = Record<string, unknown>;
  const launchTemplateData = (context: Record<string, unknown>) => {
    const resources = Object.values(synth(context).template.findResources('AWS::EC2::LaunchTemplate'));
    expect(resources).toHaveLength(1);
    return (resources[0] as { Properties: { LaunchTemplateData: Json } }).Properties.LaunchTemplateData;
  };
  const OWN_GROUP = { 'Fn::GetAtt': [expect.stringMatching(/^FleetSecurityGroup/), 'GroupId'] };

  test('by default: the workers group only, no network interface, the public IP left to the subnet', () => {
    const data = launchTemplateData({});
    expect(data.SecurityGroupIds).toEqual([OWN_GROUP]);
    expect(data.NetworkInterfaces).toBeUndefined();
  });

  test('securityGroupIds are attached beside the workers own group', () => {
    const data = launchTemplateData({ securityGroupIds: 'sg-0123456789abcdef0,sg-0fedcba9876543210' });
    expect(data.SecurityGroupIds).toEqual([OWN_GROUP, 'sg-0123456789abcdef0', 'sg-0fedcba9876543210']);
  });

  test('the bastion and metrics groups stay ingress sources whether or not they are attached too', () => {
    const { template } = synth({
      bastionSecurityGroupId: 'sg-0123456789abcdef0',
      securityGroupIds: 'sg-0123456789abcdef0',
    });
    const groups = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: 'Concourse workers of external-worker-prod' },
    });
    const [own] = Object.values(groups) as Array<{ Properties: Json }>;
    expect(own?.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ FromPort: 22, SourceSecurityGroupId: 'sg-0123456789abcdef0' }),
    ]);
  });

  test.each([true, false])(
    'associatePublicIp=%s: one interface that carries the choice and every group',
    (associatePublicIp) => {
      const data = launchTemplateData({ associatePublicIp, securityGroupIds: 'sg-0123456789abcdef0' });
      // EC2 refuses security groups outside the interface once one is given.
      expect(data.SecurityGroupIds).toBeUndefined();
      expect(data.NetworkInterfaces).toEqual([
        {
          DeviceIndex: 0,
          AssociatePublicIpAddress: associatePublicIp,
          Groups: [OWN_GROUP, 'sg-0123456789abcdef0'],
          DeleteOnTermination: true,
        },
      ]);
    },
  );

  test('the public IP with several instance types too (the mixed policy uses the same template)', () => {
    const data = launchTemplateData({ associatePublicIp: true, instanceType: 'c5d.2xlarge,m5d.2xlarge' });
    expect(data.NetworkInterfaces).toEqual([expect.objectContaining({ AssociatePublicIpAddress: true })]);
  });

  test('workerEnvironment reaches the user data as one quoted setting', () => {
    const data = launchTemplateData({
      workerEnvironment: { CONCOURSE_LOG_LEVEL: 'debug', CONCOURSE_CONTAINERD_MAX_CONTAINERS: '250' },
    });
    const text = JSON.stringify(data.UserData);
    expect(text).toContain(
      "EW_WORKER_ENVIRONMENT='CONCOURSE_CONTAINERD_MAX_CONTAINERS=250 CONCOURSE_LOG_LEVEL=debug'",
    );
    expect(JSON.stringify(launchTemplateData({}).UserData)).toContain("EW_WORKER_ENVIRONMENT=''");
  });
});
