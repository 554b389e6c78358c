import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OUTPUT } from '../../functions/lib/contract';
import { featureFlags, synth } from '../support/stack';

/**
 * The package as another CDK app gets it: `npm pack` (which builds lib/), the tarball unpacked into
 * a new app's node_modules as npm installs it, next to the two peer dependencies it declares
 * (linked from this project: no network), imported by its name from a TypeScript app that is
 * type-checked against the package's declarations, then run and synthesized.
 */
const ROOT = path.join(__dirname, '..', '..');

interface Template {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
}

const APP = `import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ExternalWorkerFleet, WorkerCapacity } from 'external-worker';

const app = new App({ context: JSON.parse(process.env.FEATURE_FLAGS ?? '{}') });
const stack = new Stack(app, 'ci-workers', { env: { account: '123456789012', region: 'eu-west-1' } });
const vpc = new ec2.Vpc(stack, 'Network', { maxAzs: 2 });
const bastion = new ec2.SecurityGroup(stack, 'Bastion', { vpc });
const fleet = new ExternalWorkerFleet(stack, 'Workers', {
  vpc,
  vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  teamId: 'platform',
  customer: 'acme',
  instanceTypes: [ec2.InstanceType.of(ec2.InstanceClass.M7I, ec2.InstanceSize.XLARGE2)],
  capacity: WorkerCapacity.ON_DEMAND,
  minCapacity: 0,
  desiredCapacity: 2,
  maxCapacity: 4,
  bootTimeout: Duration.minutes(20),
  bastionSecurityGroup: bastion,
});
const monitoring = new ec2.SecurityGroup(stack, 'Monitoring', { vpc });
fleet.connections.allowFrom(monitoring, ec2.Port.tcp(9100), 'Prometheus');
new s3.Bucket(stack, 'Caches').grantRead(fleet);
app.synth();
`;

let template: Template;
let packed: string[];
let appDir: string;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

beforeAll(() => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'external-worker-package-'));
  const [pack] = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work, '--loglevel', 'error'], ROOT),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!pack) throw new Error('npm pack packed nothing');
  packed = pack.files.map((file) => file.path);

  appDir = path.join(work, 'app');
  const modules = path.join(appDir, 'node_modules');
  fs.mkdirSync(path.join(modules, 'external-worker'), { recursive: true });
  run(
    'tar',
    [
      '-xzf',
      path.join(work, pack.filename),
      '-C',
      path.join(modules, 'external-worker'),
      '--strip-components=1',
    ],
    work,
  );
  for (const peer of ['aws-cdk-lib', 'constructs']) {
    fs.symlinkSync(path.join(ROOT, 'node_modules', peer), path.join(modules, peer), 'dir');
  }
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'ci-platform', private: true }));
  fs.writeFileSync(path.join(appDir, 'app.ts'), APP);
  fs.writeFileSync(
    path.join(appDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        module: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      files: ['app.ts'],
    }),
  );

  run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', appDir], appDir);
  const outdir = path.join(appDir, 'cdk.out');
  // Node runs the TypeScript app as it is (type stripping): what `cdk synth` runs in such an app.
  run(process.execPath, ['app.ts'], appDir, {
    ...process.env,
    CDK_OUTDIR: outdir,
    FEATURE_FLAGS: JSON.stringify(featureFlags),
  });
  template = JSON.parse(fs.readFileSync(path.join(outdir, 'ci-workers.template.json'), 'utf8')) as Template;
});

afterAll(() => {
  if (appDir) fs.rmSync(path.dirname(appDir), { recursive: true, force: true });
});

const ofType = (type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

describe('the packed construct in another app', () => {
  test('the package holds the compiled construct, its declarations, the function bundles and the playbook', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'lib/index.js',
        'lib/cli.js',
        'bin/external-worker.js',
        'lib/types/infra/index.d.ts',
        'lib/functions/version-check/index.js',
        'lib/userdata/bootstrap.sh',
        'lib/image/worker-component.yml',
        'ansible/build.yml',
      ]),
    );
    // No sources, tests or local state: the functions ship bundled.
    expect(
      packed.filter((file) => /^(test|infra|functions|bench|cdk\.out|ansible\/tests)\//.test(file)),
    ).toEqual([]);
  });

  test('the packaged operator CLI runs without the sources or tsx', () => {
    const help = spawnSync(
      process.execPath,
      [path.join(appDir, 'node_modules', 'external-worker', 'bin', 'external-worker.js'), '--help'],
      { cwd: appDir, encoding: 'utf8' },
    );
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^usage: external-worker <command> --stack <name>/);
    expect(help.status).toBe(0);
  });

  test('the fleet takes its VPC, subnets and security groups from the app: no deploy parameter', () => {
    expect(
      Object.keys(template.Parameters ?? {}).filter((name) => !name.startsWith('BootstrapVersion')),
    ).toEqual([]);
    const [, group] = ofType('AWS::AutoScaling::AutoScalingGroup')[0] ?? [];
    expect(group?.Properties).toMatchObject({
      AutoScalingGroupName: 'ci-workers-workers',
      MinSize: '0',
      DesiredCapacity: '2',
      MaxSize: '4',
      VPCZoneIdentifier: [
        { Ref: expect.stringMatching(/^NetworkPrivateSubnet1Subnet/) },
        { Ref: expect.stringMatching(/^NetworkPrivateSubnet2Subnet/) },
      ],
    });
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties);
    expect(ingress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          FromPort: 22,
          SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^Bastion/), 'GroupId'] },
        }),
        expect.objectContaining({
          FromPort: 9100,
          SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^Monitoring/), 'GroupId'] },
        }),
      ]),
    );
  });

  test('grants to the fleet go to the worker instance role', () => {
    const policies = ofType('AWS::IAM::Policy').map(([, policy]) => JSON.stringify(policy.Properties));
    expect(policies.some((policy) => policy.includes('s3:GetObject*') && policy.includes('Caches'))).toBe(
      true,
    );
  });

  test('the outputs the CLI reads keep their names inside another stack', () => {
    expect(Object.keys(template.Outputs ?? {})).toEqual(expect.arrayContaining(Object.values(OUTPUT)));
  });

  test('the typed properties reach the resources', () => {
    const [, launchTemplate] = ofType('AWS::EC2::LaunchTemplate')[0] ?? [];
    const data = launchTemplate?.Properties?.LaunchTemplateData as Record<string, unknown> | undefined;
    expect(data).toMatchObject({ InstanceType: 'm7i.2xlarge' });
    // On-demand: no Spot market options.
    expect(data).not.toHaveProperty('InstanceMarketOptions');
  });

  test("the packaged function bundles are the ones this project's synthesis builds (same asset hashes)", () => {
    const codeKeys = (resources: Template['Resources']) =>
      Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::Lambda::Function')
        .map((resource) =>
          JSON.stringify((resource.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key),
        );
    // The app's fleet is on-demand (no Spot fallback function): the same purchase here.
    const local = synth({ capacity: 'ondemand' }, { bundle: true }).template.toJSON() as Template;
    // The app's own VPC adds CDK's functions; every one of the fleet's is there, with the same hash.
    expect(codeKeys(template.Resources)).toEqual(expect.arrayContaining(codeKeys(local.Resources)));
  });
});
