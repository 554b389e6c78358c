import type { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import type { Context } from 'aws-lambda';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { type Moto, startMoto } from '../../support/moto';
import { output } from '../../support/output';
import { type SchedulerServer, startSchedulerServer } from './scheduler-server';

const VALID_ENV = {
  SCHEDULER_API_ADDRESS: 'https://scheduler.example.com',
  STATE_PARAMETER: '/external-worker/prod/version-state',
  BUILD_VERSION_PARAMETER: '/external-worker/prod/build-version',
  CURRENT_AMI_PARAMETER: '/external-worker/prod/current-ami',
  IMAGE_PIPELINE_ARN: 'arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/external-worker-prod',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:notifications',
};

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** Loads the handler module afresh, as a cold start does, with `env` as its environment. */
function coldStart(env: Record<string, string | undefined>, beforeLoad?: () => void): unknown {
  process.env = { ...saved, ...env };
  let loaded: unknown;
  jest.isolateModules(() => {
    beforeLoad?.();
    loaded = require('../../../functions/version-check/handler');
  });
  return loaded;
}

describe('version-check handler', () => {
  let moto: Moto;
  let server: SchedulerServer;
  beforeAll(async () => {
    moto = await startMoto();
    server = await startSchedulerServer();
    // startMoto configured the SDK through the environment: keep it for every cold start.
    Object.assign(saved, process.env);
  });
  afterAll(async () => {
    await server.close();
    await moto.stop();
  });

  test("an input other than the schedule's is refused before anything is asked", async () => {
    let imagebuilder: AwsClientStub<ImagebuilderClient> | undefined;
    const loaded = coldStart({ ...VALID_ENV, SCHEDULER_API_ADDRESS: server.address }, () => {
      const sdk: typeof import('@aws-sdk/client-imagebuilder') = require('@aws-sdk/client-imagebuilder');
      imagebuilder = mockClient(sdk.ImagebuilderClient);
    });
    const { handler } = loaded as { handler: (event: unknown, context: Context) => Promise<unknown> };
    try {
      const context = { functionName: 'version-check', awsRequestId: 'r-0' } as Context;
      await expect(handler({ source: 'version-check-schedule', force: true }, context)).rejects.toThrow(
        /invalid version check input: \(root\): unknown key "force"; expected \{"source": "version-check-schedule"\} or \{\}/,
      );
      expect(imagebuilder?.calls()).toHaveLength(0);
    } finally {
      imagebuilder?.restore();
    }
  });

  test('an invocation by the schedule checks the version with the configured resources', async () => {
    let imagebuilder: AwsClientStub<ImagebuilderClient> | undefined;
    try {
      const loaded = coldStart({ ...VALID_ENV, SCHEDULER_API_ADDRESS: server.address }, () => {
        // The SDK module of this cold start, not the test file's own copy.
        const sdk: typeof import('@aws-sdk/client-imagebuilder') = require('@aws-sdk/client-imagebuilder');
        imagebuilder = mockClient(sdk.ImagebuilderClient);
        imagebuilder.on(sdk.StartImagePipelineExecutionCommand).resolves({
          imageBuildVersionArn:
            'arn:aws:imagebuilder:eu-west-1:123456789012:image/external-worker-prod-worker/1.0.0/1',
        });
      });
      const { handler } = loaded as { handler: (event: unknown, context: Context) => Promise<unknown> };
      const outcome = await handler({ source: 'version-check-schedule' }, {
        functionName: 'version-check',
        awsRequestId: 'r-1',
      } as Context);
      expect(outcome).toMatchObject({ action: 'started', version: '7.11.2' });
      expect(imagebuilder?.calls()[0]?.args[0].input).toMatchObject({
        imagePipelineArn: VALID_ENV.IMAGE_PIPELINE_ARN,
      });
      // The middleware flushed the metrics of the invocation: the lag the alarm counts.
      expect(output).toHaveEmittedMetric('FleetVersionBehind');
      expect(output).toHaveLogged({ message: 'version checked', scheduler: '7.11.2', built: '7.11.2' });
    } finally {
      imagebuilder?.restore();
    }
  });

  test('starts with a complete environment', () => {
    expect(coldStart(VALID_ENV)).toHaveProperty('handler');
    expect(coldStart({ ...VALID_ENV, WORKER_VERSION: '7.11.2', REQUEST_TIMEOUT_MS: '2000' })).toHaveProperty(
      'handler',
    );
  });

  test.each(Object.keys(VALID_ENV))('a missing %s fails the cold start with its name', (name) => {
    expect(() => coldStart({ ...VALID_ENV, [name]: undefined })).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: expect.stringContaining(`${name} is not set`),
      }),
    );
  });

  test.each([
    ['IMAGE_PIPELINE_ARN', 'not-an-arn'],
    ['STATE_PARAMETER', 'version-state'],
    ['WORKER_VERSION', 'latest'],
    ['REQUEST_TIMEOUT_MS', '5s'],
    ['SCHEDULER_API_ADDRESS', 'scheduler'],
  ])('a malformed %s fails the cold start with its name', (name, value) => {
    expect(() => coldStart({ ...VALID_ENV, [name]: value })).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: expect.stringContaining(`${name} is malformed`),
      }),
    );
  });
});
