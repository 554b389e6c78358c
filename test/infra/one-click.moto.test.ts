import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../../infra/config';
import { PublishError, publishOneClick } from '../../infra/one-click/publish';
import { type OneClick, synthesizeOneClick } from '../../infra/one-click/template';
import { zipDirectory } from '../../infra/one-click/zip';
import { type Moto, startMoto } from '../support/moto';
import { featureFlags } from '../support/stack';

/**
 * The one-click template: synthesized with its assets in buckets `<prefix>-<region>`, checked for
 * what a launch from the CloudFormation console needs (no CDK bootstrap, the original's choices as
 * parameters), then published to moto's S3 as an operator would, twice.
 */
const PREFIX = 'acme-ci-templates';
const ASSET_BUCKET = { 'Fn::Sub': `${PREFIX}-\${AWS::Region}` };

let oneClick: OneClick;
let text: string;
let moto: Moto;
let outdir: string;

beforeAll(async () => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'one-click-'));
  // Bundles skipped: the functions' folders are their assets, published as the bundles would be.
  oneClick = synthesizeOneClick({
    bucketPrefix: PREFIX,
    context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] },
    outdir,
  });
  text = JSON.stringify(oneClick.template);
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.stop();
  fs.rmSync(outdir, { recursive: true, force: true });
});

const resources = (type: string) =>
  Object.entries(oneClick.template.Resources).filter(([, resource]) => resource.Type === type);
const s3 = (region: string) => new S3Client({ region, forcePathStyle: true });

describe('the one-click template', () => {
  test("the original's launch-time choices are parameters, with the original's defaults", () => {
    const parameters = oneClick.template.Parameters;
    expect(Object.keys(parameters)).toEqual([
      'VpcId',
      'SubnetIds',
      'TeamId',
      'Customer',
      'WorkerKeyParameter',
      'WorkerCount',
      'MinWorkers',
      'MaxWorkers',
      'InstanceType',
      'Capacity',
      'SpotMaxPrice',
      'ScheduledStart',
      'ScheduledStop',
      'DebugMode',
      'WorkerVersion',
    ]);
    expect(parameters).toMatchObject({
      WorkerKeyParameter: { Default: '/external-worker/prod/worker-key' },
      WorkerCount: { Type: 'Number', Default: 1 },
      MinWorkers: { Type: 'Number', Default: 1 },
      MaxWorkers: { Type: 'Number', Default: 6 },
      InstanceType: { Default: 'c5d.2xlarge' },
      Capacity: { Default: 'spot', AllowedValues: ['spot', 'ondemand'] },
      SpotMaxPrice: { Default: '0.3' },
      ScheduledStart: { Default: '' },
      ScheduledStop: { Default: '' },
      DebugMode: { Default: 'false', AllowedValues: ['true', 'false'] },
      WorkerVersion: { Default: '' },
    });
    // Values that reach the user data's shell settings are held to grammars without quotes or spaces.
    for (const name of ['WorkerKeyParameter', 'InstanceType', 'SpotMaxPrice', 'WorkerVersion']) {
      const allowed = new RegExp(String(parameters[name]?.AllowedPattern));
      for (const hostile of ["7.11.2'; id; '", '1 2', '$(id)', '`id`', '"x"', '0.3\n']) {
        expect({ name, hostile, allowed: allowed.test(hostile) }).toEqual({ name, hostile, allowed: false });
      }
    }
  });

  test('its image is amd64: the InstanceType parameter refuses Graviton types', () => {
    const allowed = new RegExp(String(oneClick.template.Parameters.InstanceType?.AllowedPattern));
    expect(['c5d.2xlarge', 'm5.large', 'm7i-flex.large'].filter((type) => !allowed.test(type))).toEqual([]);
    expect(
      ['c7g.2xlarge', 'm6gd.xlarge', 't4g.medium', 'a1.large'].filter((type) => allowed.test(type)),
    ).toEqual([]);
  });

  test('every parameter is used by the resources', () => {
    const used = JSON.stringify([oneClick.template.Resources, oneClick.template.Conditions]);
    for (const name of Object.keys(oneClick.template.Parameters)) {
      expect({ name, used: used.includes(JSON.stringify({ Ref: name })) }).toEqual({ name, used: true });
    }
  });

  test('no CDK bootstrap: no bootstrap bucket, version parameter or rule, and no region of its own', () => {
    expect(text).not.toMatch(/cdk-hnb659fds|BootstrapVersion|CheckBootstrapVersion/);
    expect(oneClick.template.Rules).toBeUndefined();
    expect(text).not.toMatch(
      /(us|eu|ap|sa|ca|me|af)-(east|west|north|south|central|northeast|southeast)-[0-9]/,
    );
  });

  test('every asset is in the named bucket of the launch region', () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(oneClick.assemblyDir, oneClick.assetManifest), 'utf8'),
    );
    const destinations = Object.values(
      manifest.files as Record<string, { destinations: Record<string, { bucketName: string }> }>,
    ).flatMap((asset) => Object.values(asset.destinations));
    expect(destinations.length).toBeGreaterThanOrEqual(9);
    for (const destination of destinations) expect(destination.bucketName).toBe(`${PREFIX}-\${AWS::Region}`);
    for (const [, fn] of resources('AWS::Lambda::Function')) {
      expect((fn.Properties?.Code as { S3Bucket?: unknown } | undefined)?.S3Bucket).toEqual(ASSET_BUCKET);
    }
    // Any other bucket named in the template (the playbook's URL, the role's read) is that one.
    const buckets = [...text.matchAll(/"Fn::Sub":"([^"]*)"/g)].map((match) => match[1]);
    expect(buckets.length).toBeGreaterThan(0);
    for (const sub of buckets)
      expect(sub).toMatch(new RegExp(`^(s3://)?${PREFIX}-\\$\\{AWS::Region\\}(/[0-9a-f]{64}\\.zip)?$`));
  });

  test('the group and its schedules take their sizes, type and market from the parameters', () => {
    const [, group] = resources('AWS::AutoScaling::AutoScalingGroup')[0] ?? [];
    expect(group?.Properties).toMatchObject({
      MinSize: { Ref: 'MinWorkers' },
      MaxSize: { Ref: 'MaxWorkers' },
      DesiredCapacity: { Ref: 'WorkerCount' },
      CapacityRebalance: { 'Fn::If': ['IsSpot', true, false] },
    });
    expect(group?.Properties?.Tags).toContainEqual({
      Key: 'keeprunning',
      Value: { Ref: 'DebugMode' },
      PropagateAtLaunch: true,
    });
    // One type, Spot or on-demand: the group's mixed instances policy, its share from Capacity.
    expect(group?.Properties?.MixedInstancesPolicy).toMatchObject({
      LaunchTemplate: { Overrides: [{ InstanceType: { Ref: 'InstanceType' } }] },
      InstancesDistribution: {
        OnDemandBaseCapacity: 0,
        OnDemandPercentageAboveBaseCapacity: { 'Fn::If': ['IsSpot', 0, 100] },
        SpotAllocationStrategy: 'price-capacity-optimized',
        SpotMaxPrice: { 'Fn::If': ['IsSpot', { Ref: 'SpotMaxPrice' }, { Ref: 'AWS::NoValue' }] },
      },
    });
    const [, launchTemplate] = resources('AWS::EC2::LaunchTemplate')[0] ?? [];
    const data = launchTemplate?.Properties?.LaunchTemplateData as Record<string, unknown>;
    expect(data.InstanceType).toBeUndefined();
    expect(data.InstanceMarketOptions).toBeUndefined();
    // The fallback restores the share the launch chose.
    const [, fallback] =
      resources('AWS::Lambda::Function').find(([id]) => id.startsWith('SpotFallback')) ?? [];
    const environment = fallback?.Properties?.Environment as
      | { Variables?: Record<string, unknown> }
      | undefined;
    expect(environment?.Variables?.ON_DEMAND_PERCENTAGE).toEqual({ 'Fn::If': ['IsSpot', '0', '100'] });
    const schedules = resources('AWS::AutoScaling::ScheduledAction').map(([, action]) => action);
    expect(schedules).toEqual([
      expect.objectContaining({
        Condition: 'HasScheduledStart',
        Properties: expect.objectContaining({
          Recurrence: { Ref: 'ScheduledStart' },
          DesiredCapacity: { Ref: 'WorkerCount' },
        }),
      }),
      expect.objectContaining({
        Condition: 'HasScheduledStop',
        Properties: expect.objectContaining({ Recurrence: { Ref: 'ScheduledStop' }, DesiredCapacity: 0 }),
      }),
    ]);
    expect(oneClick.template.Conditions).toMatchObject({
      IsSpot: { 'Fn::Equals': [{ Ref: 'Capacity' }, 'spot'] },
      HasScheduledStart: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ScheduledStart' }, ''] }] },
    });
  });

  test('a launch with other choices resolves the current AMI again before the launch template changes', () => {
    const [, resolution] = resources('Custom::WorkerAmi')[0] ?? [];
    const parts = JSON.stringify(resolution?.Properties?.Fingerprint);
    for (const name of [
      'InstanceType',
      'Capacity',
      'SpotMaxPrice',
      'WorkerKeyParameter',
      'DebugMode',
      'WorkerVersion',
    ]) {
      expect(parts).toContain(JSON.stringify({ Ref: name }));
    }
  });

  test('the worker key, debug mode and version reach the user data settings as parameters', () => {
    const [, launchTemplate] = resources('AWS::EC2::LaunchTemplate')[0] ?? [];
    const userData = JSON.stringify(
      (launchTemplate?.Properties?.LaunchTemplateData as { UserData?: unknown } | undefined)?.UserData,
    );
    for (const [setting, parameter] of [
      ['EW_WORKER_KEY_PARAMETER', 'WorkerKeyParameter'],
      ['EW_KEEPRUNNING_DEFAULT', 'DebugMode'],
      ['EW_WORKER_VERSION', 'WorkerVersion'],
    ]) {
      expect(userData).toContain(`${setting}='",{"Ref":"${parameter}"},"'`);
    }
    const [, instanceRole] =
      resources('AWS::IAM::Role').find(([id]) => id.startsWith('FleetInstanceRole')) ?? [];
    expect(JSON.stringify(instanceRole)).toContain('":parameter",{"Ref":"WorkerKeyParameter"}');
    const [, versionCheck] =
      resources('AWS::Lambda::Function').find(([id]) => id.startsWith('VersionCheckFunction')) ?? [];
    expect(
      (versionCheck?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables?.WORKER_VERSION,
    ).toEqual({
      'Fn::If': ['IsVersionPinned', { Ref: 'WorkerVersion' }, { Ref: 'AWS::NoValue' }],
    });
  });

  test('fits the size CloudFormation accepts from S3', () => {
    expect(text.length).toBeLessThan(1_000_000);
  });

  test('the launch-time choices cannot be fixed at synth: one line per key given', () => {
    expect(() =>
      synthesizeOneClick({
        bucketPrefix: PREFIX,
        context: { instanceType: 'm5.large', 'schedule.start': '0 7 * * *' },
      }),
    ).toThrow(
      new ConfigError([
        'instanceType: expected nothing: the one-click template asks for it at launch, given a value',
        'schedule.start: expected nothing: the one-click template asks for it at launch, given a value',
      ]),
    );
    expect(() =>
      synthesizeOneClick({ bucketPrefix: PREFIX, context: { onDemandPercentage: 20, onDemandBase: 1 } }),
    ).toThrow(
      new ConfigError(
        ['onDemandPercentage', 'onDemandBase'].map(
          (key) =>
            `${key}: expected nothing: the one-click template launches one instance type, Spot or on-demand as its Capacity parameter says, given a value`,
        ),
      ),
    );
    expect(() => synthesizeOneClick({ bucketPrefix: 'Not A Bucket', context: {} })).toThrow(ConfigError);
  });
});

describe('publishing', () => {
  const publish = (regions: string[]) =>
    publishOneClick({
      assemblyDir: oneClick.assemblyDir,
      assetManifest: oneClick.assetManifest,
      template: text,
      stackName: oneClick.config.stackName,
      bucketPrefix: PREFIX,
      regions,
      s3,
    });

  test('uploads every asset and the template to <prefix>-<region>, then nothing that is there already', async () => {
    await s3('eu-west-1').send(
      new CreateBucketCommand({
        Bucket: `${PREFIX}-eu-west-1`,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    const manifest = JSON.parse(
      fs.readFileSync(path.join(oneClick.assemblyDir, oneClick.assetManifest), 'utf8'),
    );
    const assetCount = Object.keys(manifest.files).length;

    const [first] = await publish(['eu-west-1']);
    expect(first).toMatchObject({
      region: 'eu-west-1',
      bucket: `${PREFIX}-eu-west-1`,
      uploaded: assetCount + 1,
      alreadyThere: 0,
    });
    expect(first?.launchUrl).toMatch(
      /^https:\/\/console\.aws\.amazon\.com\/cloudformation\/home\?region=eu-west-1#\/stacks\/create\/review\?templateURL=https%3A%2F%2Facme-ci-templates-eu-west-1\.s3\.eu-west-1\.amazonaws\.com%2Ftemplates%2Fexternal-worker-prod-[0-9a-f]{16}\.template\.json&stackName=external-worker-prod$/,
    );
    const listed = await s3('eu-west-1').send(new ListObjectsV2Command({ Bucket: `${PREFIX}-eu-west-1` }));
    const keys = (listed.Contents ?? []).map((object) => object.Key);
    for (const asset of Object.values(
      manifest.files as Record<string, { destinations: Record<string, { objectKey: string }> }>,
    )) {
      expect(keys).toContain(Object.values(asset.destinations)[0]?.objectKey);
    }
    const templateKey = keys.find((key) => key?.startsWith('templates/'));
    const published = await s3('eu-west-1').send(
      new GetObjectCommand({ Bucket: `${PREFIX}-eu-west-1`, Key: templateKey }),
    );
    expect(await published.Body?.transformToString()).toBe(text);

    const [again] = await publish(['eu-west-1']);
    expect(again).toMatchObject({ uploaded: 0, alreadyThere: assetCount + 1 });
  });

  test('a region without its bucket is one clear error', async () => {
    await expect(publish(['us-east-2'])).rejects.toThrow(
      new PublishError(`bucket ${PREFIX}-us-east-2 does not exist in us-east-2: create it there first`),
    );
  });
});

describe('directory assets as zip archives', () => {
  test('an archive another tool reads back whole, with the modes of its files, the same bytes every time', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    fs.mkdirSync(path.join(dir, 'roles', 'worker'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'build.yml'), '- hosts: all\n');
    fs.writeFileSync(path.join(dir, 'roles', 'worker', 'run.sh'), '#!/bin/sh\necho ok\n', { mode: 0o755 });
    const archive = path.join(dir, '..', `${path.basename(dir)}.zip`);
    fs.writeFileSync(archive, zipDirectory(dir));
    expect(zipDirectory(dir).equals(fs.readFileSync(archive))).toBe(true);
    const check = spawnSync(
      'python3',
      [
        '-c',
        'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(" ".join(f"{i.filename}:{oct(i.external_attr>>16&0o777)}:{z.read(i).decode()[:6]}" for i in z.infolist()))',
        archive,
      ],
      { encoding: 'utf8' },
    );
    expect(check.stderr).toBe('');
    expect(check.stdout.trim()).toBe('build.yml:0o644:- host roles/worker/run.sh:0o755:#!/bin');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(archive, { force: true });
  });
});
