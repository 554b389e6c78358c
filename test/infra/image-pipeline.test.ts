import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { CONCOURSE_VERSION_PATTERN_SOURCE } from '../../functions/lib/concourse-version';
import { parseConfig } from '../../infra/config';
import { WorkerImagePipeline } from '../../infra/image-pipeline';
import { featureFlags, synth } from '../support/stack';

const { template, stack } = synth();

const one = (type: string) => {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as { Properties: Record<string, unknown> };
};
const pipelineArn = { 'Fn::GetAtt': [expect.stringMatching(/^ImagePipeline/), 'Arn'] };

describe('the worker image pipeline', () => {
  test('has no schedule of its own, is enabled and tests its images', () => {
    const { Properties } = one('AWS::ImageBuilder::ImagePipeline');
    expect(Properties.Schedule).toBeUndefined();
    expect(Properties).toMatchObject({
      Name: 'external-worker-prod-worker',
      Status: 'ENABLED',
      ImageTestsConfiguration: { ImageTestsEnabled: true },
    });
    expect(template.toJSON().Outputs.ImagePipelineArn).toMatchObject({ Value: pipelineArn });
  });

  test('builds on Debian 12 amd64 resolved at deploy time, with an encrypted gp3 root', () => {
    const { Properties } = one('AWS::ImageBuilder::ImageRecipe');
    // A dynamic reference: CloudFormation resolves it, synth never looks it up.
    expect(Properties.ParentImage).toBe('{{resolve:ssm:/aws/service/debian/release/12/latest/amd64}}');
    expect(Properties.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/xvda',
        Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
      },
    ]);
    const parameters = (
      Properties.Components as Array<{ Parameters: Array<{ Name: string; Value: unknown[] }> }>
    )[0]?.Parameters;
    expect(Object.fromEntries((parameters ?? []).map((p) => [p.Name, p.Value[0]]))).toMatchObject({
      AnsibleVersion: '2.17.7',
      BuildVersionParameter: '/external-worker/prod/build-version',
      PinnedVersion: 'none',
      SchedulerApiAddress: 'https://scheduler.cycloid.io',
      PlaybookS3Uri: { 'Fn::Sub': expect.stringMatching(/^s3:\/\/cdk-.*\.zip$/) },
    });
  });

  test('the build is given the stack’s version grammar', () => {
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      Components: [
        {
          Parameters: Match.arrayWith([
            { Name: 'VersionPattern', Value: [CONCOURSE_VERSION_PATTERN_SOURCE] },
          ]),
        },
      ],
    });
  });

  test('a pinned version is given to the build', () => {
    const pinned = synth({ workerVersion: '7.11.2' }).template;
    pinned.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      Components: [{ Parameters: Match.arrayWith([{ Name: 'PinnedVersion', Value: ['7.11.2'] }]) }],
    });
    pinned.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WORKER_VERSION: '7.11.2' }) },
    });
  });

  test('the component reads the version at build time, runs the playbook and validates the result', () => {
    const { Properties } = one('AWS::ImageBuilder::Component');
    const document = Properties.Data as string;
    expect(document).toMatch(/^schemaVersion: 1\.0$/m);
    // Phases are the top-level items of `phases:`, two spaces in.
    const phases = Object.fromEntries(
      document
        .slice(document.indexOf('\nphases:\n'))
        .split(/\n {2}- name: /)
        .slice(1)
        .map((chunk) => [chunk.slice(0, chunk.indexOf('\n')), chunk]),
    );
    expect(Object.keys(phases)).toEqual(['build', 'validate', 'test']);
    const script = (name: string) => phases[name] ?? '';

    const build = script('build');
    expect(build).toMatch(/action: S3Download\n\s+inputs:\n\s+- source: ["']\{\{ PlaybookS3Uri \}\}["']/);
    expect(build).toContain('{{ AnsibleVersion }}');
    expect(build).toContain('ansible-core==${ansible_version}');
    expect(build).toContain('aws ssm get-parameter');
    expect(build).toContain('{{ BuildVersionParameter }}');
    expect(build).toContain('{{ SchedulerApiAddress }}');
    expect(build).toContain('"$address/api/v1/info"');
    // Every parameter pasted into a command sits alone on a heredoc line, never inside code.
    for (const line of build.split('\n').filter((l) => /\{\{ \w+ \}\}/.test(l))) {
      expect(line.trim()).toMatch(/^(\{\{ \w+ \}\}|- source: "\{\{ PlaybookS3Uri \}\}")$/);
    }
    expect(build).toMatch(/ansible-playbook -c local .*-i localhost, build.yml -e .*concourse_version=/s);

    for (const checks of [script('validate'), script('test')]) {
      expect(checks).toContain('/usr/local/concourse/bin/concourse');
      expect(checks).toContain('--version');
      expect(checks).toContain('systemctl is-enabled');
      for (const unit of ['concourse-worker', 'fluentd', 'telegraf', 'amazon-ssm-agent']) {
        expect(checks).toContain(unit);
      }
    }
  });

  test('builds on a small instance in the fleet subnet, egress only, terminated on failure', () => {
    const { Properties } = one('AWS::ImageBuilder::InfrastructureConfiguration');
    expect(Properties).toMatchObject({
      InstanceTypes: ['t3.medium'],
      SubnetId: { 'Fn::Select': [0, { Ref: 'SubnetIds' }] },
      TerminateInstanceOnFailure: true,
      InstanceMetadataOptions: { HttpTokens: 'required' },
    });
    const [groupRef] = Properties.SecurityGroupIds as Array<{ 'Fn::GetAtt': [string, string] }>;
    const group = template.toJSON().Resources[groupRef?.['Fn::GetAtt'][0] ?? ''];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    expect(group.Properties.VpcId).toEqual({ Ref: 'VpcId' });
  });

  test('with subnets in the configuration, builds in the first of them', () => {
    const configured = synth({
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
    }).template;
    configured.hasResourceProperties('AWS::ImageBuilder::InfrastructureConfiguration', {
      SubnetId: 'subnet-0123456789abcdef0',
    });
    configured.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('image builds'),
      VpcId: 'vpc-0123456789abcdef0',
    });
  });

  test('keeps the build logs with the configured retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/imagebuilder/external-worker-prod-worker',
      RetentionInDays: 30,
    });
  });

  test('names AMIs as the original and tags them with the stack and the build', () => {
    const { Properties } = one('AWS::ImageBuilder::DistributionConfiguration');
    expect(Properties.Distributions).toEqual([
      {
        Region: { Ref: 'AWS::Region' },
        AmiDistributionConfiguration: expect.objectContaining({
          Name: 'external-worker_worker_prod_{{imagebuilder:buildDate}}',
          AmiTags: expect.objectContaining({
            'external-worker:stack': 'external-worker-prod',
            'external-worker:build': '{{imagebuilder:buildVersion}}',
          }),
        }),
      },
    ]);
  });

  test('the build instance reads the playbook and the build version only', () => {
    const role = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) =>
      id.startsWith('ImageBuildRole'),
    );
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes(role?.[0] ?? '?'),
    );
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'ssm:GetParameter',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:aws:ssm:eu-west-1:',
              { Ref: 'AWS::AccountId' },
              ':parameter/external-worker/prod/build-version',
            ],
          ],
        },
      }),
    );
    for (const statement of statements) expect(statement.Resource).not.toBe('*');
  });
});

describe('the image of Graviton workers', () => {
  const graviton = synth({ instanceType: 'c7g.2xlarge,m6gd.xlarge,t4g.large' }).template;
  const only = (type: string) => {
    const found = Object.values(graviton.findResources(type));
    expect(found).toHaveLength(1);
    return found[0] as { Properties: Record<string, unknown> };
  };
  const variables = (recipe: { Properties: Record<string, unknown> }) => {
    const parameters = (
      recipe.Properties.Components as Array<{ Parameters: Array<{ Name: string; Value: string[] }> }>
    )[0]?.Parameters;
    const encoded = parameters?.find((p) => p.Name === 'BuildVariables')?.Value[0] ?? '';
    return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  };

  test('builds on the arm64 Debian 12 AMI, on an arm64 build instance', () => {
    expect(only('AWS::ImageBuilder::ImageRecipe').Properties.ParentImage).toBe(
      '{{resolve:ssm:/aws/service/debian/release/12/latest/arm64}}',
    );
    expect(only('AWS::ImageBuilder::InfrastructureConfiguration').Properties.InstanceTypes).toEqual([
      't4g.medium',
    ]);
  });

  test('tells the build the architecture, which refuses a host of another one', () => {
    expect(variables(only('AWS::ImageBuilder::ImageRecipe'))).toEqual({ worker_architecture: 'arm64' });
    expect(variables(one('AWS::ImageBuilder::ImageRecipe'))).toEqual({ worker_architecture: 'amd64' });
  });

  test('a deploy that switches the architecture starts a build: the rebuild token names it', () => {
    const token = (t: typeof graviton) =>
      /\\"clientToken\\":\\"([^\\]+)\\"/.exec(
        JSON.stringify(Object.values(t.findResources('Custom::PlaybookRebuild'))[0]?.Properties.Update),
      )?.[1];
    expect(token(graviton)).toMatch(/^arm64-[0-9a-f]{30}$/);
    expect(token(graviton)?.slice(6)).toBe(token(template)?.slice(0, 30));
  });

  test('is a recipe version of its own: switching architectures never reuses an amd64 recipe', () => {
    expect(only('AWS::ImageBuilder::ImageRecipe').Properties.Version).not.toEqual(
      one('AWS::ImageBuilder::ImageRecipe').Properties.Version,
    );
  });
});

describe('the rebuild on a playbook change', () => {
  const trigger = () => one('Custom::PlaybookRebuild').Properties;

  test('starts the pipeline on update only, with the playbook hash as client token', () => {
    const asset = stack.workers.node.findChild('Playbook') as s3assets.Asset;
    const properties = JSON.stringify(trigger());
    expect(JSON.stringify(trigger().Create)).toContain('GetImagePipeline');
    expect(JSON.stringify(trigger().Update)).toContain('StartImagePipelineExecution');
    expect(JSON.stringify(trigger().Update)).toContain(
      `\\"clientToken\\":\\"${asset.assetHash.slice(0, 36)}\\"`,
    );
    expect(properties).toContain('ImagePipeline');
  });

  test('is allowed to start this pipeline only', () => {
    const policy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) =>
      id.startsWith('ImageRebuildOnPlaybookChange'),
    )?.[1];
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: ['imagebuilder:GetImagePipeline', 'imagebuilder:StartImagePipelineExecution'],
        Resource: pipelineArn,
      }),
    ]);
  });

  test('changes with the content of ansible/, and only with it', () => {
    const build = (content: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'playbook-'));
      fs.writeFileSync(path.join(dir, 'build.yml'), content);
      const app = new App({ context: { ...featureFlags } });
      const scope = new Stack(app, 'Test', { env: { region: 'eu-west-1' } });
      new WorkerImagePipeline(scope, 'Image', {
        config: parseConfig({}),
        playbook: new s3assets.Asset(scope, 'Playbook', { path: dir }),
        subnetId: 'subnet-0123456789abcdef0',
        vpcId: 'vpc-0123456789abcdef0',
        customer: 'acme',
        logRetention: logs.RetentionDays.ONE_MONTH,
      });
      const resources = Template.fromStack(scope);
      const props = (type: string) => Object.values(resources.findResources(type))[0]?.Properties;
      return {
        update: JSON.stringify(props('Custom::PlaybookRebuild').Update),
        create: JSON.stringify(props('Custom::PlaybookRebuild').Create),
        recipe: props('AWS::ImageBuilder::ImageRecipe').Version,
        component: props('AWS::ImageBuilder::Component').Version,
      };
    };
    const first = build('- hosts: all\n');
    const same = build('- hosts: all\n');
    const changed = build('- hosts: all\n  become: true\n');
    expect(same).toEqual(first);
    expect(changed.update).not.toBe(first.update);
    expect(changed.create).toBe(first.create);
    // The recipe is immutable: a new playbook needs a new recipe version.
    expect(changed.recipe).not.toBe(first.recipe);
    expect(changed.component).toBe(first.component);
  });
});
