import * as z from 'zod/mini';
import { SPOT_LAUNCH_FAILURE } from '../lib/contract';
import { eventBridgeEvent } from '../lib/eventbridge';

export const LAUNCH_UNSUCCESSFUL = SPOT_LAUNCH_FAILURE.detailType;

/**
 * A failed launch of the group, as Auto Scaling sends it to EventBridge: `StatusMessage` holds
 * EC2's answer to the launch. Fields other than these may come and go, so they are kept, not read.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 */
export const launchUnsuccessfulEvent = eventBridgeEvent({
  detailType: z.literal(LAUNCH_UNSUCCESSFUL),
  source: z.literal('aws.autoscaling'),
  detail: z.looseObject({
    AutoScalingGroupName: z.string().check(z.minLength(1)),
    StatusCode: z.optional(z.string()),
    StatusMessage: z.optional(z.string()),
    Cause: z.optional(z.string()),
  }),
});
export type LaunchUnsuccessfulEvent = z.infer<typeof launchUnsuccessfulEvent>;

/** What the fallback's schedule sends (a rule's constant input). */
export const checkEvent = z.strictObject({ source: z.literal('schedule') });

export const FALLBACK_EVENT_FORM =
  'an EventBridge event of source aws.autoscaling, detail-type "EC2 Instance Launch Unsuccessful", detail {"AutoScalingGroupName", "StatusMessage", …}, or {"source": "schedule"}';

/**
 * Why a launch failed for want of Spot capacity, from EC2's message (or error code) in the event:
 * no Spot capacity in the pools, a maximum price below the Spot price, the account's Spot limit.
 * A failure that names no Spot (a bad AMI, a missing role, an on-demand quota) is not one: more
 * on-demand would not help it.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ts-as-capacity.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 */
const SPOT_FAILURES: Array<[string, RegExp]> = [
  ['NoSpotCapacity', /There is no Spot capacity available/i],
  [
    'InsufficientInstanceCapacity',
    /InsufficientInstanceCapacity.*\bSpot\b|\bSpot\b.*InsufficientInstanceCapacity/i,
  ],
  ['UnfulfillableCapacity', /UnfulfillableCapacity/],
  [
    'SpotMaxPriceTooLow',
    /SpotMaxPriceTooLow|Spot request price of .* is lower than the minimum required Spot/i,
  ],
  ['MaxSpotInstanceCountExceeded', /MaxSpotInstanceCountExceeded|Max spot instance count exceeded/i],
];

export type SpotFailure = { reason: string; message: string };

export function spotFailure(event: LaunchUnsuccessfulEvent): SpotFailure | undefined {
  const message = [event.detail.StatusMessage, event.detail.Cause].filter(Boolean).join(' ');
  const match = SPOT_FAILURES.find(([, pattern]) => pattern.test(message));
  return match ? { reason: match[0], message: event.detail.StatusMessage ?? message } : undefined;
}
