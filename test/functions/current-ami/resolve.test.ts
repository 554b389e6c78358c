import {
  CreateTagsCommand,
  DeregisterImageCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { resolveCurrentAmi } from '../../../functions/current-ami/resolve';
import { STOCK_AMI_PARAMETER } from '../../../infra/names';
import { type Moto, startMoto } from '../../support/moto';
import { answerStockAmiParameter } from '../../support/public-parameters';
import { STACK } from '../../support/stack-names';

const CURRENT = STACK.parameters.currentAmi;
const STOCK = STOCK_AMI_PARAMETER;
/** What the stock AMI's public parameter says (none: missing). */
let stockAmi: string | undefined;

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
  stockAmi = undefined;
  answerStockAmiParameter(() => stockAmi);
});
afterEach(() => jest.restoreAllMocks());

async function ami(name: string): Promise<string> {
  const { ImageId } = await ec2.send(new RegisterImageCommand({ Name: name, RootDeviceName: '/dev/xvda' }));
  return ImageId as string;
}
const put = async (name: string, value: string) => {
  // The public parameter is AWS's: moto cannot hold it (test/support/public-parameters.ts).
  if (name === STOCK) stockAmi = value;
  else await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
};
const resolve = () => resolveCurrentAmi({ ssm, ec2 }, { current: CURRENT, stock: STOCK });

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
