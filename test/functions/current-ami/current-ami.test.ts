import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CopyImageCommand, CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { ARCHITECTURES } from '../../../infra/architecture';
import { type Moto, startMoto } from '../../support/moto';
import { answerStockAmiParameter } from '../../support/public-parameters';

let moto: Moto;
let ssm: SSMClient;
let ec2: EC2Client;
let server: http.Server;
let responses: Array<Record<string, unknown>>;
let responseUrl: string;

const context = { awsRequestId: 'r', functionName: 'current-ami' } as Context;
const STOCK = ARCHITECTURES.amd64.stockAmiParameter;
/** The stock AMI the public parameter names in this region, or none (it is missing). */
let stockAmi: string | undefined;
const CURRENT = '/external-worker/prod/current-ami';

beforeAll(async () => {
  moto = await startMoto();
  ssm = new SSMClient({});
  ec2 = new EC2Client({});
  responses = [];
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      responses.push({ method: request.method, ...JSON.parse(body) });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
});
afterAll(async () => {
  server.close();
  await moto.stop();
});
afterEach(() => jest.restoreAllMocks());
beforeEach(async () => {
  await moto.reset();
  responses.length = 0;
  stockAmi = 'ami-0000000000000aaaa';
  answerStockAmiParameter(() => stockAmi);
});

async function handler() {
  // Imported after moto is up: the module's clients read the endpoint when created.
  return (await import('../../../functions/current-ami/handler')).handler;
}

function request(type: 'Create' | 'Update' | 'Delete', extra: Record<string, unknown> = {}) {
  return {
    RequestType: type,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/external-worker-prod/1',
    RequestId: `req-${type}`,
    LogicalResourceId: 'FleetCurrentAmi',
    ResourceType: 'Custom::WorkerAmi',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x',
    ResourceProperties: {
      CurrentAmiParameter: CURRENT,
      StockAmiParameter: STOCK,
      Architecture: 'x86_64',
      Fingerprint: 'f',
    },
    ...extra,
  };
}

async function registerImage(tags: Record<string, string> = {}) {
  // Moto gives a registered AMI no architecture: a copy of the public Debian 12 amd64 AMI has one.
  const { ImageId } = await ec2.send(
    new CopyImageCommand({
      Name: `worker-${Math.random()}`,
      SourceImageId: 'ami-12c6146b',
      SourceRegion: 'eu-west-1',
    }),
  );
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  if (Tags.length) await ec2.send(new CreateTagsCommand({ Resources: [ImageId as string], Tags }));
  return ImageId as string;
}

describe('current-ami custom resource', () => {
  test('first deploy: nothing recorded, the stock Debian AMI', async () => {
    await (await handler())(request('Create'), context);
    expect(responses).toEqual([
      expect.objectContaining({
        method: 'PUT',
        Status: 'SUCCESS',
        Data: { ImageId: 'ami-0000000000000aaaa', Source: 'stock' },
        RequestId: 'req-Create',
      }),
    ]);
  });

  test('after a rollout: the AMI it recorded, so a deploy never goes back', async () => {
    const baked = await registerImage();
    await ssm.send(new PutParameterCommand({ Name: CURRENT, Value: baked, Type: 'String' }));
    await (await handler())(
      request('Update', { PhysicalResourceId: 'FleetCurrentAmi-current-ami' }),
      context,
    );
    expect(responses[0]).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'FleetCurrentAmi-current-ami',
      Data: { ImageId: baked, Source: 'rollout' },
    });
  });

  test('a recorded AMI marked bad, or gone, falls back to the stock AMI', async () => {
    const bad = await registerImage({ 'external-worker:bad': 'true' });
    await ssm.send(new PutParameterCommand({ Name: CURRENT, Value: bad, Type: 'String' }));
    await (await handler())(request('Update'), context);
    expect(responses[0]).toMatchObject({ Data: { Source: 'stock' } });

    await ssm.send(
      new PutParameterCommand({
        Name: CURRENT,
        Value: 'ami-0123456789abcdef0',
        Type: 'String',
        Overwrite: true,
      }),
    );
    await (await handler())(request('Update'), context);
    expect(responses[1]).toMatchObject({ Data: { Source: 'stock' } });
  });

  test('delete changes nothing and succeeds', async () => {
    await (await handler())(request('Delete', { PhysicalResourceId: 'p' }), context);
    expect(responses[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'p' });
  });

  test('a failure is reported to CloudFormation, not left to time out', async () => {
    stockAmi = undefined;
    await (await handler())(
      request('Create', {
        ResourceProperties: {
          CurrentAmiParameter: CURRENT,
          StockAmiParameter: STOCK,
          Architecture: 'x86_64',
        },
      }),
      context,
    );
    expect(responses[0]).toMatchObject({ Status: 'FAILED' });
    expect(String(responses[0]?.Reason)).toContain(STOCK);
  });

  test('a property the stack does not give is answered FAILED, naming it', async () => {
    const props = {
      CurrentAmiParameter: CURRENT,
      StockAmiParameter: STOCK,
      Architecture: 'x86_64',
      Fingerprint: 'f',
      AmiId: 'ami-1',
    };
    await expect(
      (await handler())(request('Create', { ResourceProperties: props }), context),
    ).rejects.toThrow(/ResourceProperties: unknown key "AmiId"/);
    expect(responses[0]).toMatchObject({ Status: 'FAILED' });
  });

  test('a malformed request is answered FAILED and rejected with what is wrong', async () => {
    await expect((await handler())(request('Create', { ResourceProperties: {} }), context)).rejects.toThrow(
      /invalid custom resource event: ResourceProperties.CurrentAmiParameter/,
    );
    expect(responses[0]).toMatchObject({ Status: 'FAILED' });
  });
});
