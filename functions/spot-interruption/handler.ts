import type { Context } from 'aws-lambda';
import { autoscaling } from '../lib/aws/autoscaling';
import { ec2 } from '../lib/aws/ec2';
import { ssm } from '../lib/aws/ssm';
import { envVar, readEnv } from '../lib/env';
import { lambdaHandler } from '../lib/handler';
import { parseInput } from '../lib/parse';
import { handleSpotEvent, SPOT_EVENT_FORM, spotEvent } from './interruption';

const env = readEnv({ GROUP_NAME: envVar.text(), LAUNCH_HOOK_NAME: envVar.text() });

/** EventBridge: Spot interruption warnings and rebalance recommendations (see interruption.ts). */
export const handler = lambdaHandler(async (rawEvent: unknown, _context: Context) =>
  handleSpotEvent(
    { autoscaling, ec2, ssm },
    { groupName: env.GROUP_NAME, launchHookName: env.LAUNCH_HOOK_NAME },
    parseInput(spotEvent, rawEvent, 'EC2 event', SPOT_EVENT_FORM),
  ),
);
