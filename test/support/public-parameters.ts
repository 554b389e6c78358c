import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { STOCK_AMI_PARAMETER } from '../../infra/names';
import { emulated } from './iam/aws-sends';

const motoSend = SSMClient.prototype.send as (this: SSMClient, command: unknown) => Promise<unknown>;

/**
 * The public parameter of the stock AMI, which AWS publishes under /aws/ and moto refuses to hold:
 * answered here with `value()` (none: missing), as SSM would, the read proven as if it had gone out;
 * every other call reaches moto. Restore with jest.restoreAllMocks().
 */
export function answerStockAmiParameter(value: () => string | undefined): void {
  jest.spyOn(SSMClient.prototype, 'send').mockImplementation(async function (
    this: SSMClient,
    command: unknown,
  ) {
    if (command instanceof GetParameterCommand && command.input.Name === STOCK_AMI_PARAMETER) {
      await emulated.sendsInstead(this, command);
      const ami = value();
      if (!ami) throw new ParameterNotFound({ message: `${STOCK_AMI_PARAMETER} not found`, $metadata: {} });
      return { Parameter: { Name: STOCK_AMI_PARAMETER, Value: ami, Type: 'String' } };
    }
    return motoSend.call(this, command);
  } as never);
}
