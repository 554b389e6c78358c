import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { ARCHITECTURES } from '../../infra/architecture';
import { emulated } from './iam/aws-sends';

const motoSend = SSMClient.prototype.send as (this: SSMClient, command: unknown) => Promise<unknown>;

const STOCK_PARAMETERS: string[] = Object.values(ARCHITECTURES).map((facts) => facts.stockAmiParameter);

/**
 * The public parameters of the stock AMIs (one per architecture), which AWS publishes under /aws/
 * and moto refuses to hold: answered here with `value(name)` (none: missing), as SSM would, the read
 * proven as if it had gone out; every other call reaches moto. Restore with jest.restoreAllMocks().
 */
export function answerStockAmiParameter(value: (name: string) => string | undefined): void {
  jest.spyOn(SSMClient.prototype, 'send').mockImplementation(async function (
    this: SSMClient,
    command: unknown,
  ) {
    const name = command instanceof GetParameterCommand ? command.input.Name : undefined;
    if (command instanceof GetParameterCommand && name !== undefined && STOCK_PARAMETERS.includes(name)) {
      await emulated.sendsInstead(this, command);
      const ami = value(name);
      if (!ami) throw new ParameterNotFound({ message: `${name} not found`, $metadata: {} });
      return { Parameter: { Name: name, Value: ami, Type: 'String' } };
    }
    return motoSend.call(this, command);
  } as never);
}
