import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { bundleFunction } from '../../infra/bundling';
import { GROUP, launchFailure, SETTINGS } from '../functions/spot-fallback/world';
import { startSchedulerServer } from '../functions/version-check/scheduler-server';
import { type ImageBuilderServer, startImageBuilderServer } from '../support/imagebuilder-server';
import { type Moto, startMoto } from '../support/moto';
import { type Built, buildImage, createGroup } from '../support/moto-fleet';

/**
 * The deployed bundles, not the sources: built with the stack's esbuild options (the SDK bundled,
 * its schemas tree-shaken by the plugin), loaded in a fresh Node process as Lambda loads them, and
 * invoked against moto and local stand-ins. Each SDK client the functions use sends at least one
 * command through a bundle, so a schema the tree-shaking dropped wrongly fails here.
 */

const exec = promisify(execFile);
/** Bundling and child processes take seconds each on a loaded machine: no deadline that a slow one misses. */
const GENEROUS = 600_000;
let moto: Moto;
let imagebuilder: ImageBuilderServer;
let dir: string;
const bundles: Record<string, string> = {};

beforeAll(async () => {
  moto = await startMoto();
  imagebuilder = await startImageBuilderServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-bundles-'));
  for (const name of ['ami-retention', 'version-check', 'spot-fallback']) {
    bundles[name] = path.join(dir, name, 'index.js');
    await bundleFunction(name, bundles[name] as string);
  }
}, GENEROUS);
afterAll(async () => {
  await imagebuilder.close();
  await moto.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Invokes the bundle's handler once in a new Node process; returns what the handler returned. */
async function invoke(name: string, env: Record<string, string>, event: unknown): Promise<unknown> {
  const out = path.join(dir, `${name}-${Date.now()}.json`);
  const script = `require(${JSON.stringify(bundles[name])}).handler(${JSON.stringify(event)}, {
    getRemainingTimeInMillis: () => 60000, functionName: ${JSON.stringify(name)}, awsRequestId: 'bundle',
  }).then((r) => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(r ?? null)))`;
  await exec(process.execPath, ['-e', script], {
    env: {
      PATH: process.env.PATH,
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('AWS_'))),
      AWS_ENDPOINT_URL_IMAGEBUILDER: imagebuilder.endpoint,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: name,
      ...env,
    },
  });
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

test(
  'ami-retention: EC2, Auto Scaling, SSM and Image Builder through the bundle, orphans swept on the next run',
  async () => {
    const ec2 = new EC2Client({});
    const stack = 'ew-bundle';
    const built: Built[] = [];
    for (let n = 0; n < 3; n += 1) {
      // moto dates AMIs to the second: the newest is built in a later second.
      if (n === 2) await new Promise((resolve) => setTimeout(resolve, 1100));
      built.push(await buildImage(ec2, stack, n));
    }
    const [current, old, newest] = built as [Built, Built, Built];
    const { LaunchTemplate } = await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: `${stack}-worker`, LaunchTemplateData: {} }),
    );
    await new SSMClient({}).send(
      new PutParameterCommand({ Name: '/ew/bundle/current-ami', Value: current.id, Type: 'String' }),
    );
    const env = {
      STACK_NAME: stack,
      LAUNCH_TEMPLATE_ID: LaunchTemplate?.LaunchTemplateId as string,
      GROUP_NAME: `${stack}-workers`,
      AMI_RETENTION: '1',
      CURRENT_AMI_PARAMETER: '/ew/bundle/current-ami',
    };
    const first = (await invoke('ami-retention', env, {})) as {
      kept: Array<{ imageId: string; reason: string }>;
      deleted: Array<{ imageId: string }>;
      keptVersions: unknown[];
    };
    expect(first.kept).toEqual([
      { imageId: newest.id, reason: 'newest' },
      { imageId: current.id, reason: 'current' },
    ]);
    expect(first.deleted.map((d) => d.imageId)).toEqual([old.id]);
    expect(first.keptVersions).toEqual([{ version: 1, reason: 'default' }]);
    const { Images = [] } = await ec2.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [{ Name: 'tag:external-worker:stack', Values: [stack] }],
      }),
    );
    expect(Images.map((i) => i.ImageId).sort()).toEqual([current.id, newest.id].sort());
    expect(imagebuilder.requests).toContainEqual(
      expect.objectContaining({
        method: 'DELETE',
        path: '/DeleteImage',
        query: { imageBuildVersionArn: old.arn },
      }),
    );

    // moto leaves the snapshots DeleteAssociatedSnapshots asks to delete: the next run sweeps them.
    const second = (await invoke('ami-retention', env, {})) as {
      deleted: unknown[];
      sweptSnapshots: string[];
    };
    expect(second.deleted).toEqual([]);
    expect(second.sweptSnapshots.sort()).toEqual([...old.snapshots].sort());
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const left = new Set(Snapshots.map((s) => s.SnapshotId));
    for (const snapshot of old.snapshots) expect(left.has(snapshot)).toBe(false);
    for (const snapshot of [...current.snapshots, ...newest.snapshots]) expect(left.has(snapshot)).toBe(true);
  },
  GENEROUS,
);

test(
  'version-check: SSM, Image Builder and SNS through the bundle',
  async () => {
    const scheduler = await startSchedulerServer();
    try {
      const ssm = new SSMClient({});
      const { TopicArn } = await new SNSClient({}).send(new CreateTopicCommand({ Name: 'ew-bundle-notes' }));
      const env = {
        SCHEDULER_API_ADDRESS: scheduler.address,
        STATE_PARAMETER: '/ew/bundle/version-state',
        BUILD_VERSION_PARAMETER: '/ew/bundle/build-version',
        CURRENT_AMI_PARAMETER: '/ew/bundle/current-ami-vc',
        IMAGE_PIPELINE_ARN: 'arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/ew-bundle',
        TOPIC_ARN: TopicArn as string,
      };
      const started = (await invoke('version-check', env, {})) as { action: string; version: string };
      expect(started).toMatchObject({ action: 'started', version: '7.11.2' });
      expect(imagebuilder.requests).toContainEqual(
        expect.objectContaining({
          method: 'PUT',
          path: '/StartImagePipelineExecution',
          body: expect.objectContaining({ imagePipelineArn: env.IMAGE_PIPELINE_ARN }),
        }),
      );
      const read = async (name: string) =>
        (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value as string;
      expect(await read(env.BUILD_VERSION_PARAMETER)).toBe('7.11.2');

      // Retries exhausted: the bundle lists the pipeline's images, then notifies through SNS.
      const state = JSON.parse(await read(env.STATE_PARAMETER)) as Record<string, unknown>;
      await ssm.send(
        new PutParameterCommand({
          Name: env.STATE_PARAMETER,
          Value: JSON.stringify({ ...state, build: 'failed', failures: 3, notified: false }),
          Type: 'String',
          Overwrite: true,
        }),
      );
      expect(await invoke('version-check', env, {})).toMatchObject({ action: 'stopped', version: '7.11.2' });
      expect(imagebuilder.requests).toContainEqual(
        expect.objectContaining({ path: '/ListImagePipelineImages' }),
      );
      expect(JSON.parse(await read(env.STATE_PARAMETER))).toMatchObject({ notified: true });
    } finally {
      await scheduler.close();
    }
  },
  GENEROUS,
);

test(
  'spot-fallback: Auto Scaling, SSM and SNS through the bundle, its state first missing',
  async () => {
    await createGroup({
      groupName: GROUP,
      templateName: 'external-worker-prod-worker',
      instanceTypes: ['t3.micro', 't3a.micro'],
    });
    await new SNSClient({}).send(new CreateTopicCommand({ Name: 'external-worker-prod-notifications' }));
    const env = {
      STACK_NAME: SETTINGS.stackName,
      GROUP_NAME: GROUP,
      TOPIC_ARN: SETTINGS.topicArn,
      STATE_PARAMETER: SETTINGS.parameterName,
      ON_DEMAND_PERCENTAGE: '0',
      COOLDOWN_SECONDS: '1800',
    };
    const share = async () => {
      const { AutoScalingGroups = [] } = await new AutoScalingClient({}).send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
      );
      return AutoScalingGroups[0]?.MixedInstancesPolicy?.InstancesDistribution
        ?.OnDemandPercentageAboveBaseCapacity;
    };
    // No state parameter yet: the bundle must see SSM's ParameterNotFound by its name.
    expect(await invoke('spot-fallback', env, launchFailure('bundle-1', new Date()))).toMatchObject({
      outcome: 'raised',
    });
    expect(await share()).toBe(100);
    expect(await invoke('spot-fallback', env, { source: 'schedule' })).toMatchObject({ outcome: 'waiting' });
    expect(await share()).toBe(100);
  },
  GENEROUS,
);
