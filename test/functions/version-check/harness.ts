import { EC2Client } from '@aws-sdk/client-ec2';
import {
  GetImageCommand,
  ImagebuilderClient,
  ListImagePipelineImagesCommand,
  StartImagePipelineExecutionCommand,
} from '@aws-sdk/client-imagebuilder';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { VersionCheckOptions } from '../../../functions/version-check/check';
import type { VersionState } from '../../../functions/version-check/state';

export const PIPELINE_ARN = 'arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/external-worker-prod';
export const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:external-worker-prod-notifications';
export const STATE_PARAMETER = '/external-worker/prod/version-state';
export const BUILD_VERSION_PARAMETER = '/external-worker/prod/build-version';
export const CURRENT_AMI_PARAMETER = '/external-worker/prod/current-ami';

/** Image Builder and SNS mocked at the client; SSM is the real client pointed at moto. */
export function createClients() {
  const ssm = new SSMClient({});
  // EC2 is moto's: the fleet's AMI and its image tag are real there.
  const ec2 = new EC2Client({});
  const imagebuilder = new ImagebuilderClient({});
  const sns = new SNSClient({});
  const ib = mockClient(imagebuilder);
  const topic = mockClient(sns);
  /** Build status per image ARN, as GetImage reports it. */
  const statuses = new Map<string, { status: string; created: string }>();
  let builds = 0;
  const byToken = new Map<string, string>();
  const reset = () => {
    ib.reset();
    topic.reset();
    statuses.clear();
    byToken.clear();
    builds = 0;
    // Image Builder's idempotency: the same client token gives back the same build.
    ib.on(StartImagePipelineExecutionCommand).callsFake(async (input: { clientToken: string }) => {
      let arn = byToken.get(input.clientToken);
      if (!arn) {
        builds++;
        arn = `arn:aws:imagebuilder:eu-west-1:123456789012:image/external-worker-prod-worker/1.0.0/${builds}`;
        byToken.set(input.clientToken, arn);
        statuses.set(arn, {
          status: 'BUILDING',
          created: new Date(Date.UTC(2026, 0, 1, 0, builds)).toISOString(),
        });
      }
      return { imageBuildVersionArn: arn, clientToken: input.clientToken };
    });
    ib.on(GetImageCommand).callsFake(async (input: { imageBuildVersionArn: string }) => {
      const known = statuses.get(input.imageBuildVersionArn);
      return {
        image: {
          arn: input.imageBuildVersionArn,
          state: { status: known?.status ?? 'BUILDING' },
          dateCreated: known?.created,
        },
      };
    });
    ib.on(ListImagePipelineImagesCommand).resolves({ imageSummaryList: [] });
    topic.on(PublishCommand).resolves({ MessageId: 'm-1' });
  };
  reset();
  return { ssm, imagebuilder, sns, ec2, ib, topic, statuses, reset };
}

export function options(address: string, extra: Partial<VersionCheckOptions> = {}): VersionCheckOptions {
  return {
    schedulerApiAddress: address,
    stateParameter: STATE_PARAMETER,
    buildVersionParameter: BUILD_VERSION_PARAMETER,
    currentAmiParameter: CURRENT_AMI_PARAMETER,
    imagePipelineArn: PIPELINE_ARN,
    topicArn: TOPIC_ARN,
    // The local scheduler answers at once; the limit only matters to a loaded machine.
    limits: { timeoutMs: 60_000 },
    ...extra,
  };
}

/** The parameter's value and SSM version (which moves on every write); undefined when absent. */
export async function readParameter(ssm: SSMClient, name: string) {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return { value: Parameter?.Value ?? '', version: Parameter?.Version ?? 0 };
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

export async function readStateParameter(ssm: SSMClient): Promise<VersionState | undefined> {
  const raw = await readParameter(ssm, STATE_PARAMETER);
  return raw ? (JSON.parse(raw.value) as VersionState) : undefined;
}

export async function seedState(ssm: SSMClient, state: VersionState): Promise<void> {
  await ssm.send(
    new PutParameterCommand({
      Name: STATE_PARAMETER,
      Value: JSON.stringify(state),
      Type: 'String',
      Overwrite: true,
    }),
  );
}
