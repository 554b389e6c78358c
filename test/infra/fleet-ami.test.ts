import { synth } from '../support/stack';

type Resource = { Type: string; Properties: Record<string, unknown>; UpdatePolicy?: Record<string, unknown> };

const base = synth();
const ids = (s: typeof base) => ({
  template: s.stack.getLogicalId(s.stack.fleet.launchTemplate),
  group: s.stack.getLogicalId(s.stack.fleet.group),
});
const resource = (s: typeof base, id: string) => s.template.toJSON().Resources[id] as Resource;
const currentAmi = (s: typeof base) =>
  Object.entries(s.template.toJSON().Resources as Record<string, Resource>).find(
    ([, r]) => r.Type === 'Custom::WorkerAmi',
  ) as [string, Resource];
const fingerprint = (s: typeof base) => JSON.stringify(currentAmi(s)[1].Properties.Fingerprint);

describe('a deploy never moves the fleet back to an older AMI', () => {
  test('the group follows the latest launch template version, explicitly', () => {
    const { template, group } = ids(base);
    // A Spot group by default: its mixed instances policy names the template version.
    const policy = resource(base, group).Properties.MixedInstancesPolicy as {
      LaunchTemplate: { LaunchTemplateSpecification: Record<string, unknown> };
    };
    expect(policy.LaunchTemplate.LaunchTemplateSpecification.Version).toEqual({
      'Fn::GetAtt': [template, 'LatestVersionNumber'],
    });
  });

  test('the launch template AMI is the one the last rollout recorded, resolved at deploy time', () => {
    const [amiId, ami] = currentAmi(base);
    expect(ami.Properties).toMatchObject({
      CurrentAmiParameter: '/external-worker/prod/current-ami',
      StockAmiParameter: '/aws/service/debian/release/12/latest/amd64',
      Architecture: 'x86_64',
    });
    const data = resource(base, ids(base).template).Properties.LaunchTemplateData as Record<string, unknown>;
    expect(data.ImageId).toEqual({ 'Fn::GetAtt': [amiId, 'ImageId'] });
  });

  test('Graviton types: the resolver looks for an arm64 AMI, the arm64 stock AMI first', () => {
    const graviton = synth({ instanceType: 'c7g.2xlarge,m6gd.xlarge' });
    expect(currentAmi(graviton)[1].Properties).toMatchObject({
      StockAmiParameter: '/aws/service/debian/release/12/latest/arm64',
      Architecture: 'arm64',
    });
  });

  test('CloudFormation never replaces instances itself: no rolling or replacing update policy', () => {
    const policy = resource(base, ids(base).group).UpdatePolicy ?? {};
    expect(policy).not.toHaveProperty('AutoScalingRollingUpdate');
    expect(policy).not.toHaveProperty('AutoScalingReplacingUpdate');
    for (const r of Object.values(base.template.toJSON().Resources as Record<string, Resource>)) {
      expect(JSON.stringify(r.UpdatePolicy ?? {})).not.toMatch(/AutoScaling(Rolling|Replacing)Update/);
    }
  });

  test('the resolver runs again whenever the configuration changes, and only then', () => {
    expect(fingerprint(synth({}, { fresh: true }))).toBe(fingerprint(base));
    for (const context of [{ maxSize: 7 }, { instanceType: 'c5d.4xlarge' }, { dataVolumeSize: 200 }]) {
      expect({ context, changed: fingerprint(synth(context)) !== fingerprint(base) }).toEqual({
        context,
        changed: true,
      });
    }
  });
});
