import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { isAwsError } from './errors';

/** A parameter's value, or undefined when it does not exist (yet). */
export async function readParameter(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return Parameter?.Value;
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) return undefined;
    throw error;
  }
}
