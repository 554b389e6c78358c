import { CopyImageCommand, CreateTagsCommand, DeregisterImageCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { resolveCurrentAmi } from '../../../functions/current-ami/resolve';
import { ARCHITECTURES } from '../../../infra/architecture';
import { type Moto, startMoto } from '../../support/moto';
import { answerStockAmiParameter } from '../../support/public-parameters';
import { STACK } from '../../support/stack-names';

const CURRENT = STACK.parameters.currentAmi;
const STOCK = ARCHITECTURES.amd64.stockAmiParameter;
const STOCK_ARM = ARCHITECTURES.arm64.stockAmiParameter;
/** What the stock AMIs' public parameters say (none: missing). */
let stockAmis: Record<string, string> = {};

let moto: Moto;
let ec2: EC2Client;
let ssm: SSMClient;
beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({});
  ssm = new SSMClient({});
});
afterAll(async () => moto.stop());
beforeEach(async () => {
  await moto.reset();
  stockAmis = {};
  answerStockAmiParameter((name) => stockAmis[name]);
});
afterEach(() => jest.restoreAllMocks());

/** Moto gives a registered AMI no architecture: a copy of the public Debian AMI of one has it. */
const DEBIAN = { x86_64: 'ami-12c6146b', arm64: 'ami-12c6146c' };
async function ami(name: string, architecture: 'x86_64' | 'arm64' = 'x86_64'): Promise<string> {
  const { ImageId } = await ec2.send(
    new CopyImageCommand({ Name: name, SourceImageId: DEBIAN[architecture], SourceRegion: 'eu-west-1' }),
  );
  return ImageId as string;
}
const put = async (name: string, value: string) => {
  // The public parameter is AWS's: moto cannot hold it (test/support/public-parameters.ts).
  if (name === STOCK || name === STOCK_ARM) stockAmis[name] = value;
  else await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
};
const resolve = () =>
  resolveCurrentAmi({ ssm, ec2 }, { current: CURRENT, stock: STOCK, architecture: 'x86_64' });
/** As the resolver of a stack of Graviton types: its calls are proven against that stack's template. */
async function resolveArm() {
  process.env.IAM_PROOF_CONTEXT = JSON.stringify({ instanceType: 'c7g.2xlarge' });
  try {
    return await resolveCurrentAmi(
      { ssm, ec2 },
      { current: CURRENT, stock: STOCK_ARM, architecture: 'arm64' },
    );
  } finally {
    delete process.env.IAM_PROOF_CONTEXT;
  }
}

describe('the AMI a deploy puts in the launch template', () => {
  test('the one the last rollout recorded', async () => {
    const [stock, rolledOut] = [await ami('stock'), await ami('rolled-out')];
    await put(STOCK, stock);
    await put(CURRENT, rolledOut);
    await expect(resolve()).resolves.toEqual({ imageId: rolledOut, source: 'rollout' });
  });

  test('the stock AMI on the first deploy, before any rollout', async () => {
    const stock = await ami('stock');
    await put(STOCK, stock);
    await expect(resolve()).resolves.toEqual({ imageId: stock, source: 'stock' });
  });

  test('never an AMI of another architecture: Graviton types get the arm64 stock AMI, then arm64 builds', async () => {
    const [stockArm, amd64Build, arm64Build] = [
      await ami('stock-arm64', 'arm64'),
      await ami('rolled-out-amd64'),
      await ami('rolled-out-arm64', 'arm64'),
    ];
    await put(STOCK, await ami('stock'));
    await put(STOCK_ARM, stockArm);
    await put(CURRENT, amd64Build);
    await expect(resolveArm()).resolves.toEqual({ imageId: stockArm, source: 'stock' });
    await put(CURRENT, arm64Build);
    await expect(resolveArm()).resolves.toEqual({ imageId: arm64Build, source: 'rollout' });
    // And back: the arm64 build never reaches amd64 types.
    await expect(resolve()).resolves.toEqual({ imageId: stockAmis[STOCK], source: 'stock' });
  });

  test('never an AMI marked bad, nor one that is gone', async () => {
    const [stock, bad, gone] = [await ami('stock'), await ami('bad'), await ami('gone')];
    await put(STOCK, stock);
    await ec2.send(
      new CreateTagsCommand({ Resources: [bad], Tags: [{ Key: 'external-worker:bad', Value: 'true' }] }),
    );
    await put(CURRENT, bad);
    await expect(resolve()).resolves.toEqual({ imageId: stock, source: 'stock' });
    await ec2.send(new DeregisterImageCommand({ ImageId: gone }));
    await put(CURRENT, gone);
    await expect(resolve()).resolves.toEqual({ imageId: stock, source: 'stock' });
  });
});
