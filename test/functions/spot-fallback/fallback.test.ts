import { LOG_RECORD } from '../../../functions/lib/contract';
import { launchUnsuccessfulEvent, spotFailure } from '../../../functions/spot-fallback/events';
import { handleCheck, handleLaunchFailure } from '../../../functions/spot-fallback/fallback';
import { output } from '../../support/output';
import { launchFailure, minutes, SETTINGS, share, world } from './world';

const event = (...args: Parameters<typeof launchFailure>) =>
  launchUnsuccessfulEvent.parse(launchFailure(...args));
const state = (w: { parameter?: string }) => JSON.parse(w.parameter ?? '{}');

describe('which failed launches are Spot capacity failures', () => {
  test.each([
    [
      'There is no Spot capacity available that matches your request. Launching EC2 instance failed.',
      'NoSpotCapacity',
    ],
    [
      'Your Spot request price of 0.015 is lower than the minimum required Spot request fulfillment price of 0.0735. Launching EC2 instance failed.',
      'SpotMaxPriceTooLow',
    ],
    ['Max spot instance count exceeded. Launching EC2 instance failed.', 'MaxSpotInstanceCountExceeded'],
    ['InsufficientInstanceCapacity: not enough Spot capacity in eu-west-1a', 'InsufficientInstanceCapacity'],
  ])('%s', (message, reason) => {
    expect(spotFailure(event('e', minutes(0), message))?.reason).toBe(reason);
  });

  test('a failure that names no Spot is not one: more on-demand would not help it', () => {
    for (const message of [
      'The image id [ami-0123456789abcdef0] does not exist. Launching EC2 instance failed.',
      'You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to. Launching EC2 instance failed.',
    ]) {
      expect(spotFailure(event('e', minutes(0), message))).toBeUndefined();
    }
  });
});

describe('an episode', () => {
  test('starts at the first Spot failure: share raised to 100, one notice, the state recorded, a log record', async () => {
    const w = world();
    const result = await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    expect(result).toMatchObject({ outcome: 'raised', phase: 'fallback', share: 'changed' });
    expect(share(w)).toBe(100);
    // The rest of the policy is left as it was.
    expect(w.policy.LaunchTemplate?.LaunchTemplateSpecification?.Version).toBe('4');
    expect(w.policy.InstancesDistribution?.SpotAllocationStrategy).toBe('price-capacity-optimized');
    expect(w.published).toHaveLength(1);
    expect(w.published[0]?.Subject).toBe('external-worker-prod: no Spot capacity, workers launch on-demand');
    expect(w.published[0]?.Message).toContain('raised from 0% to 100%');
    expect(state(w)).toMatchObject({ phase: 'fallback', failures: 1, raises: 1, lastEventId: 'e1' });
    expect(state(w).notice).toBeUndefined();
    expect(output).toHaveLogged({ message: LOG_RECORD.spotFallback, outcome: 'raised', fallback: 1 });
  });

  test('more Spot failures during it send no second notice', async () => {
    const w = world();
    await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    for (const [i, at] of [1, 2, 5].entries()) {
      const result = await handleLaunchFailure(
        w.clients,
        SETTINGS,
        event(`e${i + 2}`, minutes(at)),
        minutes(at),
      );
      expect(result).toMatchObject({ outcome: 'extended', share: 'unchanged' });
    }
    expect(w.published).toHaveLength(1);
    expect(w.calls.filter((c) => c === 'UpdateAutoScalingGroup')).toHaveLength(1);
    expect(state(w)).toMatchObject({ failures: 4, lastFailureAt: minutes(5).toISOString() });
  });

  test('the same event twice acts once', async () => {
    const w = world();
    const e = event('e1', minutes(0));
    await handleLaunchFailure(w.clients, SETTINGS, e, minutes(0));
    const again = await handleLaunchFailure(w.clients, SETTINGS, e, minutes(1));
    expect(again.outcome).toBe('duplicate');
    expect(w.published).toHaveLength(1);
    expect(w.calls.filter((c) => c === 'UpdateAutoScalingGroup')).toHaveLength(1);
    expect(state(w).failures).toBe(1);
  });

  test('ends after the cool-downs: the share is restored once Spot stopped failing, one notice once it held', async () => {
    const w = world();
    await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    await handleLaunchFailure(w.clients, SETTINGS, event('e2', minutes(10)), minutes(10));
    // 30 minutes after the first failure, 20 after the last: still on-demand.
    expect(await handleCheck(w.clients, SETTINGS, minutes(30))).toMatchObject({ outcome: 'waiting' });
    expect(share(w)).toBe(100);
    expect(await handleCheck(w.clients, SETTINGS, minutes(40))).toMatchObject({
      outcome: 'restored',
      phase: 'probing',
      share: 'changed',
    });
    expect(share(w)).toBe(0);
    expect(w.published).toHaveLength(1);
    expect(await handleCheck(w.clients, SETTINGS, minutes(60))).toMatchObject({ outcome: 'probing' });
    expect(await handleCheck(w.clients, SETTINGS, minutes(70))).toMatchObject({
      outcome: 'ended',
      phase: 'normal',
    });
    expect(w.published).toHaveLength(2);
    expect(w.published[1]?.Subject).toBe(
      'external-worker-prod: Spot capacity back, on-demand share 0% again',
    );
    expect(w.published[1]?.Message).toContain('2 Spot launch failures, the share raised 1 times');
    // Nothing more until Spot fails again.
    expect(await handleCheck(w.clients, SETTINGS, minutes(100))).toMatchObject({ outcome: 'idle' });
    expect(w.published).toHaveLength(2);
    expect(state(w)).toMatchObject({ phase: 'normal', endedAt: minutes(70).toISOString() });
  });

  test('Spot flapping: failures after the restore raise the share again within the same episode, no notice', async () => {
    const w = world();
    await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    for (let round = 0; round < 3; round++) {
      const restoredAt = 30 + round * 40;
      expect((await handleCheck(w.clients, SETTINGS, minutes(restoredAt))).outcome).toBe('restored');
      expect(share(w)).toBe(0);
      const again = await handleLaunchFailure(
        w.clients,
        SETTINGS,
        event(`f${round}`, minutes(restoredAt + 10)),
        minutes(restoredAt + 10),
      );
      expect(again).toMatchObject({ outcome: 'raisedAgain', phase: 'fallback', share: 'changed' });
      expect(share(w)).toBe(100);
    }
    expect(w.published).toHaveLength(1);
    await handleCheck(w.clients, SETTINGS, minutes(200));
    await handleCheck(w.clients, SETTINGS, minutes(240));
    expect(w.published).toHaveLength(2);
    expect(state(w)).toMatchObject({ phase: 'normal', raises: 4, failures: 4 });
  });

  test('a failure from before the restore, or from an ended episode, changes nothing', async () => {
    const w = world();
    await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    await handleCheck(w.clients, SETTINGS, minutes(30));
    // Delivered late: it happened while the group was on-demand still.
    const late = await handleLaunchFailure(w.clients, SETTINGS, event('e2', minutes(20)), minutes(31));
    expect(late.outcome).toBe('stale');
    expect(share(w)).toBe(0);
    await handleCheck(w.clients, SETTINGS, minutes(60));
    const older = await handleLaunchFailure(w.clients, SETTINGS, event('e3', minutes(50)), minutes(61));
    expect(older.outcome).toBe('stale');
    expect(w.published).toHaveLength(2);
    // A new failure starts a new episode.
    const next = await handleLaunchFailure(w.clients, SETTINGS, event('e4', minutes(90)), minutes(90));
    expect(next.outcome).toBe('raised');
    expect(w.published).toHaveLength(3);
  });
});

describe('what the fallback leaves alone', () => {
  test('failures that are not Spot capacity, of another group, or of a group without Spot', async () => {
    const w = world();
    const results = [
      await handleLaunchFailure(
        w.clients,
        SETTINGS,
        event(
          'a',
          minutes(0),
          'The image id [ami-0123456789abcdef0] does not exist. Launching EC2 instance failed.',
        ),
        minutes(0),
      ),
      await handleLaunchFailure(
        w.clients,
        SETTINGS,
        event('b', minutes(0), undefined, 'other-workers'),
        minutes(0),
      ),
      await handleLaunchFailure(
        w.clients,
        { ...SETTINGS, configuredPercentage: 100 },
        event('c', minutes(0)),
        minutes(0),
      ),
    ];
    expect(results.map((r) => r.outcome)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(w.calls).toEqual([]);
  });

  test('a check outside an episode only reads the state', async () => {
    const w = world();
    expect(await handleCheck(w.clients, SETTINGS, minutes(0))).toMatchObject({ outcome: 'idle' });
    expect(w.calls).toEqual(['GetParameter']);
  });
});

describe('fail closed, and every step redone until done', () => {
  test('an unreadable state changes nothing and sends nothing', async () => {
    const w = world();
    w.parameter = '{"phase": "maybe"}';
    await expect(
      handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0)),
    ).rejects.toMatchObject({
      name: 'FallbackStateError',
    });
    await expect(handleCheck(w.clients, SETTINGS, minutes(0))).rejects.toMatchObject({
      name: 'FallbackStateError',
    });
    w.parameter = 'not json';
    await expect(handleCheck(w.clients, SETTINGS, minutes(0))).rejects.toMatchObject({
      name: 'FallbackStateError',
    });
    expect(w.calls.filter((c) => c !== 'GetParameter')).toEqual([]);
  });

  test('an event whose time is not one changes nothing', async () => {
    const w = world();
    const e = { ...event('e1', minutes(0)), time: 'yesterday' };
    await expect(handleLaunchFailure(w.clients, SETTINGS, e, minutes(0))).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
    expect(w.calls).toEqual([]);
  });

  test('times compare as instants, with or without milliseconds', async () => {
    const w = world();
    await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    await handleCheck(w.clients, SETTINGS, minutes(30));
    // The same instant as the restore, written as EventBridge writes it: from before the restore.
    const sameInstant = {
      ...event('e2', minutes(30)),
      time: minutes(30).toISOString().replace('.000Z', 'Z'),
    };
    expect((await handleLaunchFailure(w.clients, SETTINGS, sameInstant, minutes(31))).outcome).toBe('stale');
    const after = { ...event('e3', minutes(31)), time: minutes(31).toISOString().replace('.000Z', 'Z') };
    expect((await handleLaunchFailure(w.clients, SETTINGS, after, minutes(31))).outcome).toBe('raisedAgain');
  });

  test('a state that cannot be read (SSM fails) changes nothing', async () => {
    const w = world();
    w.failNext('GetParameter', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(
      handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0)),
    ).rejects.toThrow('Rate exceeded');
    expect(share(w)).toBe(0);
    expect(w.published).toEqual([]);
  });

  test('a failed group update is redone by the retry of the event; the notice is sent once', async () => {
    const w = world();
    w.failNext('UpdateAutoScalingGroup', Object.assign(new Error('busy'), { name: 'ResourceContention' }));
    const e = event('e1', minutes(0));
    await expect(handleLaunchFailure(w.clients, SETTINGS, e, minutes(0))).rejects.toThrow('busy');
    expect(share(w)).toBe(0);
    expect(state(w)).toMatchObject({ phase: 'fallback', notice: 'started' });
    // Lambda's retry delivers the same event: the share is raised, the owed notice sent.
    expect((await handleLaunchFailure(w.clients, SETTINGS, e, minutes(1))).outcome).toBe('duplicate');
    expect(w.published).toHaveLength(1);
    // The check puts the share the phase wants.
    expect(await handleCheck(w.clients, SETTINGS, minutes(2))).toMatchObject({
      outcome: 'waiting',
      share: 'changed',
    });
    expect(share(w)).toBe(100);
    expect(w.published).toHaveLength(1);
  });

  test('a notice that could not be sent is sent by the next run, once', async () => {
    const w = world();
    w.failNext('Publish', Object.assign(new Error('KMS'), { name: 'KMSThrottlingException' }));
    await expect(
      handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0)),
    ).rejects.toThrow('KMS');
    expect(share(w)).toBe(100);
    await handleCheck(w.clients, SETTINGS, minutes(5));
    await handleCheck(w.clients, SETTINGS, minutes(10));
    expect(w.published.map((p) => p.Subject)).toEqual([
      'external-worker-prod: no Spot capacity, workers launch on-demand',
    ]);
  });

  test('a rollout holding the group defers the change to the next check', async () => {
    const w = world();
    w.failNext(
      'UpdateAutoScalingGroup',
      Object.assign(
        new Error(
          'An active instance refresh with a desired configuration exists. All configuration options derived from the desired configuration are not available for update while the instance refresh is active.',
        ),
        { name: 'ValidationError' },
      ),
    );
    const result = await handleLaunchFailure(w.clients, SETTINGS, event('e1', minutes(0)), minutes(0));
    expect(result).toMatchObject({ outcome: 'raised', share: 'deferred' });
    expect(w.published).toHaveLength(1);
    expect(share(w)).toBe(0);
    expect(await handleCheck(w.clients, SETTINGS, minutes(5))).toMatchObject({ share: 'changed' });
    expect(share(w)).toBe(100);
  });
});
