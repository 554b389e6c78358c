import fc from 'fast-check';
import { applyRetention } from '../../../functions/ami-retention/retention';
import { type FakeAccount, type FakeImage, fakeClients } from './fake-clients';

const STACK = 'ew-prop';
const CURRENT = '/ew/prop/current-ami';

const imageArb = fc.record({
  ours: fc.boolean(),
  created: fc.integer({ min: 0, max: 10_000 }),
  pending: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  snapshots: fc.integer({ min: 0, max: 3 }),
  imageBuilder: fc.boolean(),
});

const fleetArb = fc.array(imageArb, { minLength: 0, maxLength: 40 }).chain((specs) => {
  const ids = specs.map((_, i) => `ami-${i.toString(16).padStart(8, '0')}`);
  const someId = ids.length ? fc.constantFrom(...ids) : fc.constant('ami-ffffffff');
  return fc.record({
    specs: fc.constant(specs),
    ids: fc.constant(ids),
    keep: fc.integer({ min: 1, max: 6 }),
    ourTemplate: fc.array(someId, { maxLength: 8 }),
    otherTemplate: fc.array(someId, { maxLength: 4 }),
    instances: fc.array(someId, { maxLength: 6 }),
    current: fc.option(someId),
    pinned: fc.option(someId),
    rollback: fc.array(someId, { maxLength: 2 }),
    newerThan: fc.option(fc.integer({ min: 0, max: 10_000 })),
    throttle: fc.constantFrom(0, 0.05, 0.2),
    seed: fc.integer(),
  });
});

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('AMI retention over random fleets', () => {
  test('never deletes a referenced AMI, keeps the newest N, deletes the rest of the stack only', async () => {
    await fc.assert(
      fc.asyncProperty(fleetArb, async (fleet) => {
        const images: FakeImage[] = fleet.specs.map((spec, i) => ({
          id: fleet.ids[i] as string,
          stack: spec.ours ? STACK : 'someone-else',
          created: spec.created,
          state: spec.pending ? 'pending' : 'available',
          snapshots: Array.from({ length: spec.snapshots }, (_, s) => `snap-${i}-${s}`),
          imageBuilderArn: spec.imageBuilder
            ? `arn:aws:imagebuilder:eu-west-1:1:image/x/1.0.0/${i}`
            : undefined,
        }));
        const account: FakeAccount = {
          images: images.map((i) => ({ ...i, snapshots: [...i.snapshots] })),
          templates: [
            { id: 'lt-ours', stack: STACK, versions: fleet.ourTemplate },
            { id: 'lt-other', versions: fleet.otherTemplate },
          ],
          instances: fleet.instances.map((imageId, n) => ({ id: `i-${n}`, imageId })),
          parameters: fleet.current ? { [CURRENT]: fleet.current } : {},
          log: [],
          throttle: fleet.throttle,
          random: seeded(fleet.seed),
        };
        const result = await applyRetention(
          fakeClients(account),
          {
            stackName: STACK,
            keep: fleet.keep,
            currentAmiParameter: CURRENT,
            pinnedAmiId: fleet.pinned ?? undefined,
            dryRun: false,
            protectNewerThan: fleet.newerThan === null ? undefined : new Date(fleet.newerThan),
            protectAmis: fleet.rollback,
          },
          { sleep: async () => undefined, now: () => 0 },
        );

        const ours = images.filter((i) => i.stack === STACK);
        const newest = new Set(
          [...ours]
            .sort((a, b) => b.created - a.created || b.id.localeCompare(a.id))
            .slice(0, fleet.keep)
            .map((i) => i.id),
        );
        const referenced = new Set([
          ...fleet.ourTemplate,
          ...fleet.instances,
          ...fleet.rollback,
          ...(fleet.current ? [fleet.current] : []),
          ...(fleet.pinned ? [fleet.pinned] : []),
        ]);
        const mustStay = (i: FakeImage) =>
          newest.has(i.id) ||
          referenced.has(i.id) ||
          i.state !== 'available' ||
          (fleet.newerThan !== null && i.created > fleet.newerThan);
        const expectedDeleted = ours.filter((i) => !mustStay(i)).map((i) => i.id);

        const deregistered = account.log.filter((l) => l.startsWith('deregister ')).map((l) => l.slice(11));
        expect(new Set(deregistered)).toEqual(new Set(expectedDeleted));
        expect(deregistered).toHaveLength(expectedDeleted.length);
        expect(result.deleted.map((d) => d.imageId).sort()).toEqual([...expectedDeleted].sort());
        expect(result.kept.map((k) => k.imageId).sort()).toEqual(
          ours
            .filter(mustStay)
            .map((i) => i.id)
            .sort(),
        );
        // Nothing of another stack, nor any snapshot of a kept AMI.
        const survivors = images.filter((i) => !expectedDeleted.includes(i.id));
        for (const image of survivors) {
          expect(account.log.some((l) => l.endsWith(` ${image.id}`))).toBe(false);
          for (const snapshot of image.snapshots)
            expect(account.log).not.toContain(`delete-snapshot ${snapshot}`);
          if (image.imageBuilderArn)
            expect(account.log).not.toContain(`delete-image ${image.imageBuilderArn}`);
        }
        // Each deleted AMI: deregistered, then its snapshots, then its Image Builder image.
        for (const id of expectedDeleted) {
          const image = images.find((i) => i.id === id) as FakeImage;
          const at = account.log.indexOf(`deregister ${id}`);
          for (const snapshot of image.snapshots) {
            expect(account.log.indexOf(`delete-snapshot ${snapshot}`)).toBeGreaterThan(at);
          }
          if (image.imageBuilderArn) {
            expect(account.log.indexOf(`delete-image ${image.imageBuilderArn}`)).toBeGreaterThan(at);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  test('a dry run reports the same deletions and changes nothing', async () => {
    const account: FakeAccount = {
      images: Array.from({ length: 10 }, (_, i) => ({
        id: `ami-${i}`,
        stack: STACK,
        created: i,
        state: 'available' as const,
        snapshots: [`snap-${i}`],
      })),
      templates: [],
      instances: [],
      parameters: {},
      log: [],
      throttle: 0,
      random: Math.random,
    };
    const settings = { stackName: STACK, keep: 3, currentAmiParameter: CURRENT, protectAmis: [] };
    const runtime = { sleep: async () => undefined, now: () => 0 };
    const dry = await applyRetention(fakeClients(account), { ...settings, dryRun: true }, runtime);
    expect(account.log).toEqual([]);
    expect(dry.deleted.map((d) => d.imageId)).toEqual([
      'ami-0',
      'ami-1',
      'ami-2',
      'ami-3',
      'ami-4',
      'ami-5',
      'ami-6',
    ]);
    expect(dry.kept).toEqual([
      { imageId: 'ami-9', reason: 'newest' },
      { imageId: 'ami-8', reason: 'newest' },
      { imageId: 'ami-7', reason: 'newest' },
    ]);
    const real = await applyRetention(fakeClients(account), { ...settings, dryRun: false }, runtime);
    expect(real.deleted).toEqual(dry.deleted);
    const again = await applyRetention(fakeClients(account), { ...settings, dryRun: false }, runtime);
    expect(again.deleted).toEqual([]);
  });
});
