import type { Template } from 'aws-cdk-lib/assertions';
import { SPOT_LAUNCH_FAILURE } from '../../functions/lib/contract';
import { launchUnsuccessfulEvent, spotFailure } from '../../functions/spot-fallback/events';
import { launchFailure, minutes } from '../functions/spot-fallback/world';
import { synth } from '../support/stack';

type Json = Record<string, unknown>;

const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type)) as Array<[string, { Properties: Json }]>;
const fallbackFunction = (template: Template) =>
  resources(template, 'AWS::Lambda::Function').filter(
    ([, r]) =>
      (r.Properties.Environment as { Variables?: Json } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME ===
      'spot-fallback',
  );
const variables = (template: Template): Json => {
  const [entry] = fallbackFunction(template);
  return ((entry?.[1].Properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {}) as Json;
};
const rule = (template: Template, description: string) =>
  resources(template, 'AWS::Events::Rule').find(([, r]) =>
    String(r.Properties.Description).startsWith(description),
  )?.[1].Properties;

/** EventBridge's wildcard matching: `*` any characters, the rest literal and case-sensitive. */
const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
const ruleLetsThrough = (message: string) =>
  SPOT_LAUNCH_FAILURE.statusMessageWildcards.some((pattern) => wildcard(pattern).test(message));

describe('the Spot fallback in the template', () => {
  const { template } = synth();

  test('a function with the group, the topic, its state, the share to restore and the cool-down', () => {
    expect(variables(template)).toMatchObject({
      GROUP_NAME: 'external-worker-prod-workers',
      STATE_PARAMETER: '/external-worker/prod/spot-fallback',
      ON_DEMAND_PERCENTAGE: '0',
      COOLDOWN_SECONDS: '1800',
      TOPIC_ARN: { Ref: expect.stringMatching(/^NotificationsTopic/) },
    });
  });

  test("the group's launch failures that name Spot start it, and a check every cool-down", () => {
    expect(rule(template, 'Spot launch failures')?.EventPattern).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance Launch Unsuccessful'],
      detail: {
        AutoScalingGroupName: ['external-worker-prod-workers'],
        StatusMessage: SPOT_LAUNCH_FAILURE.statusMessageWildcards.map((w) => ({ wildcard: w })),
      },
    });
    const check = rule(template, 'Spot fallback check');
    expect(check?.ScheduleExpression).toBe('rate(30 minutes)');
    expect(((check?.Targets ?? []) as Json[])[0]?.Input).toBe('{"source":"schedule"}');
  });

  test('the rule lets through every failure the function acts on, and not the others', () => {
    for (const message of [
      'There is no Spot capacity available that matches your request. Launching EC2 instance failed.',
      'Your Spot request price of 0.015 is lower than the minimum required Spot request fulfillment price of 0.0735. Launching EC2 instance failed.',
      'Max spot instance count exceeded. Launching EC2 instance failed.',
      'UnfulfillableCapacity: unable to fulfill the request',
    ]) {
      expect(
        spotFailure(launchUnsuccessfulEvent.parse(launchFailure('e', minutes(0), message))),
      ).toBeDefined();
      expect([message, ruleLetsThrough(message)]).toEqual([message, true]);
    }
    expect(
      ruleLetsThrough('The image id [ami-0123456789abcdef0] does not exist. Launching EC2 instance failed.'),
    ).toBe(false);
  });

  test('the cool-down and the share come from the configuration', () => {
    const { template: other } = synth({ onDemandPercentage: 25, spotFallbackCooldown: '2h' });
    expect(variables(other)).toMatchObject({
      ON_DEMAND_PERCENTAGE: '25',
      COOLDOWN_SECONDS: '7200',
    });
    expect(rule(other, 'Spot fallback check')?.ScheduleExpression).toBe('rate(1 hour)');
  });

  test('an on-demand group has none', () => {
    const { template: ondemand } = synth({ capacity: 'ondemand' });
    expect(fallbackFunction(ondemand)).toEqual([]);
    expect(rule(ondemand, 'Spot launch failures')).toBeUndefined();
  });

  test('the dashboard shows the Spot launch failures beside the workers, from the rule (no custom metric)', () => {
    const body = JSON.stringify(
      resources(template, 'AWS::CloudWatch::Dashboard')[0]?.[1].Properties.DashboardBody,
    );
    expect(body).toContain('AWS/Events');
    expect(body).toContain('TriggeredRules');
    expect(body).toContain('Spot launch failures');
  });
});
