import fc from 'fast-check';
import { applyRetention, type RetentionSettings } from '../../../functions/ami-retention/retention';
import { logger } from '../../../functions/lib/observability';
import { type Account, emptyAccount, retentionClients } from '../../support/fake-account';
import { FakeAws } from '../../support/fake-aws';
import { VirtualClock } from '../../support/virtual-clock';

const STACK = 'ew-prop';
const CURRENT = '/ew/prop/current-ami';
const TEMPLATE = 'lt-0123456789abcdef0';
const GROUP = 'ew-prop-workers';

interface FakeImage {
  id: string;
  stack: string;
  created: number;
  state: 'available' | 'pending';
  snapshots: string[];
  imageBuilderArn?: string;
}

interface FleetAccount {
  images: FakeImage[];
  versions?: {
    defaultVersion: number;
    list: Array<{ imageId: string; created: number }>;
    undeletable: number[];
  };
  group?: { version: string; mixed: boolean; instances: string[] };
  instances?: Array<{
    imageId: string;
    stack?: string;
    state: string;
    templateVersion?: number;
    otherTemplate?: boolean;
  }>;
  current?: string;
}

/** The in-memory account holding `fleet`, with small pages. */
function accountOf(fleet: FleetAccount): Account {
  const account = emptyAccount();
  account.pageSize = 7;
  for (const image of fleet.images) {
    account.images.set(image.id, {
      ImageId: image.id,
      State: image.state,
      CreationDate: new Date(image.created).toISOString(),
      BlockDeviceMappings: image.snapshots.map((SnapshotId) => ({
        DeviceName: '/dev/xvda',
        Ebs: { SnapshotId },
      })),
      Tags: [
        { Key: 'external-worker:stack', Value: image.stack },
        ...(image.imageBuilderArn ? [{ Key: 'Ec2ImageBuilderArn', Value: image.imageBuilderArn }] : []),
      ],
    });
    for (const snapshot of image.snapshots) account.snapshots.set(snapshot, image.id);
    if (image.imageBuilderArn) account.imageBuilderImages.add(image.imageBuilderArn);
  }
  if (fleet.versions) {
    account.launchTemplates.push({
      LaunchTemplateId: TEMPLATE,
      LaunchTemplateName: `${STACK}-worker`,
      Tags: [],
      DefaultVersionNumber: fleet.versions.defaultVersion,
      versions: fleet.versions.list.map((v, i) => ({
        VersionNumber: i + 1,
        ImageId: v.imageId,
        CreateTime: new Date(v.created),
      })),
      undeletable: fleet.versions.undeletable,
    });
  }
  if (fleet.group) {
    const spec = { LaunchTemplateId: TEMPLATE, Version: fleet.group.version };
    account.groups.push({
      AutoScalingGroupName: GROUP,
      ...(fleet.group.mixed
        ? { MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: spec } } }
        : { LaunchTemplate: spec }),
      Instances: fleet.group.instances.map((Version, n) => ({
        InstanceId: `i-g${n}`,
        LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version },
      })),
    });
  }
  account.instances = (fleet.instances ?? []).map((i, n) => ({
    InstanceId: `i-${n}`,
    ImageId: i.imageId,
    State: i.state,
    Tags: [
      ...(i.stack ? [{ Key: 'external-worker:stack', Value: i.stack }] : []),
      ...(i.templateVersion !== undefined
        ? [
            { Key: 'aws:ec2launchtemplate:id', Value: i.otherTemplate ? 'lt-other' : TEMPLATE },
            { Key: 'aws:ec2launchtemplate:version', Value: String(i.templateVersion) },
          ]
        : []),
    ],
  }));
  if (fleet.current) account.parameters.set(CURRENT, fleet.current);
  return account;
}

/** One retention run against `account`, in simulated time, some calls throttled at random. */
function run(
  account: Account,
  settings: RetentionSettings,
  throttle = { probability: 0, random: Math.random },
) {
  const clock = new VirtualClock();
  const aws = new FakeAws(clock, {}, throttle);
  return clock.run(applyRetention(retentionClients(aws, account), settings, clock));
}

const imageArb = fc.record({
  ours: fc.boolean(),
  created: fc.integer({ min: 0, max: 10_000 }),
  pending: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  snapshots: fc.integer({ min: 0, max: 3 }),
  imageBuilder: fc.boolean(),
});

const instanceArb = (someId: fc.Arbitrary<string>, versions: number) =>
  fc.record({
    imageId: someId,
    stack: fc.constantFrom(STACK, 'someone-else', undefined),
    state: fc.constantFrom('running' as const, 'stopped' as const, 'terminated' as const),
    templateVersion: versions ? fc.option(fc.integer({ min: 1, max: versions })) : fc.constant(null),
    otherTemplate: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  });

const fleetArb = fc
  .tuple(fc.array(imageArb, { minLength: 0, maxLength: 40 }), fc.integer({ min: 0, max: 14 }))
  .chain(([specs, versionCount]) => {
    const ids = specs.map((_, i) => `ami-${i.toString(16).padStart(8, '0')}`);
    const someId = ids.length ? fc.constantFrom(...ids) : fc.constant('ami-ffffffff');
    const someVersion = fc.integer({ min: 1, max: Math.max(versionCount, 1) });
    return fc.record({
      specs: fc.constant(specs),
      ids: fc.constant(ids),
      keep: fc.integer({ min: 1, max: 6 }),
      versions: fc.array(fc.record({ imageId: someId, created: fc.integer({ min: 0, max: 10_000 }) }), {
        minLength: versionCount,
        maxLength: versionCount,
      }),
      defaultVersion: someVersion,
      group: fc.option(
        fc.record({
          version: fc.oneof(someVersion.map(String), fc.constantFrom('$Latest', '$Default')),
          mixed: fc.boolean(),
          instances: fc.array(fc.oneof(someVersion.map(String), fc.constant('$Default')), { maxLength: 3 }),
        }),
        { freq: 5 },
      ),
      instances: fc.array(instanceArb(someId, versionCount), { maxLength: 6 }),
      undeletable: fc.array(someVersion, { maxLength: 2 }),
      current: fc.option(someId),
      pinned: fc.option(someId),
      rollback: fc.array(someId, { maxLength: 2 }),
      newerThan: fc.option(fc.integer({ min: 0, max: 10_000 })),
      throttle: fc.constantFrom(0, 0.05, 0.2),
      seed: fc.integer(),
    });
  });

type Fleet = typeof fleetArb extends fc.Arbitrary<infer F> ? F : never;

/** The versions that must stay, computed from the rules in docs/rollout.md. */
function versionsToKeep(fleet: Fleet): Set<number> {
  const numbers = fleet.versions.map((_, i) => i + 1);
  const latest = numbers.length;
  if (!latest) return new Set();
  if (!fleet.group) return new Set(numbers);
  const resolve = (v: string) =>
    v === '$Latest' ? latest : v === '$Default' ? fleet.defaultVersion : Number(v);
  const protectedAmis = new Set([
    ...fleet.rollback,
    ...(fleet.current ? [fleet.current] : []),
    ...(fleet.pinned ? [fleet.pinned] : []),
  ]);
  return new Set(
    numbers.filter((n) => {
      const version = fleet.versions[n - 1] as { imageId: string; created: number };
      return (
        n === latest ||
        n === fleet.defaultVersion ||
        n === resolve(fleet.group?.version ?? '') ||
        fleet.group?.instances.some((v) => resolve(v) === n) ||
        fleet.instances.some(
          (i) => i.stack === STACK && i.state !== 'terminated' && !i.otherTemplate && i.templateVersion === n,
        ) ||
        n > latest - (fleet.keep + 1) ||
        (fleet.newerThan !== null && version.created > fleet.newerThan) ||
        protectedAmis.has(version.imageId)
      );
    }),
  );
}

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

beforeAll(() => logger.setLogLevel('SILENT'));

describe('AMI retention over random fleets', () => {
  test('never deletes a needed version or a referenced AMI, keeps the newest N, deletes the rest of the stack only', async () => {
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
        const account = accountOf({
          images,
          versions: {
            defaultVersion: fleet.defaultVersion,
            list: fleet.versions,
            undeletable: fleet.undeletable,
          },
          group: fleet.group ?? undefined,
          instances: fleet.instances.map((i) => ({
            ...i,
            stack: i.stack,
            templateVersion: i.templateVersion ?? undefined,
          })),
          current: fleet.current ?? undefined,
        });
        const settings = {
          stackName: STACK,
          launchTemplateId: TEMPLATE,
          groupName: GROUP,
          keep: fleet.keep,
          currentAmiParameter: CURRENT,
          pinnedAmiId: fleet.pinned ?? undefined,
          protectNewerThan: fleet.newerThan === null ? undefined : new Date(fleet.newerThan),
          protectAmis: fleet.rollback,
        };
        const throttle = { probability: fleet.throttle, random: seeded(fleet.seed) };
        const dry = await run(account, { ...settings, dryRun: true }, throttle);
        expect(account.log).toEqual([]);
        const result = await run(account, { ...settings, dryRun: false }, throttle);

        const mustKeep = versionsToKeep(fleet);
        const deletedVersions = account.log
          .filter((l) => l.startsWith('delete-version '))
          .map((l) => Number(l.slice(15)));
        const expectedVersions = fleet.versions
          .map((_, i) => i + 1)
          .filter((n) => !mustKeep.has(n) && !fleet.undeletable.includes(n) && n !== fleet.defaultVersion);
        expect(deletedVersions.sort((a, b) => a - b)).toEqual(expectedVersions);
        expect(result.prunedVersions.map((v) => v.version).sort((a, b) => a - b)).toEqual(expectedVersions);
        expect(dry.prunedVersions.map((v) => v.version).sort((a, b) => a - b)).toEqual(
          fleet.versions.map((_, i) => i + 1).filter((n) => !mustKeep.has(n) && n !== fleet.defaultVersion),
        );
        const remaining = (account.launchTemplates[0]?.versions ?? []).map((v) => ({
          number: v.VersionNumber,
          imageId: v.ImageId,
        }));
        expect(result.keptVersions.map((v) => v.version).sort((a, b) => a - b)).toEqual(
          remaining.map((v) => v.number).sort((a, b) => a - b),
        );
        if (!fleet.undeletable.length) expect(result.deleted).toEqual(dry.deleted);

        const ours = images.filter((i) => i.stack === STACK);
        const newest = new Set(
          [...ours]
            .sort((a, b) => b.created - a.created || b.id.localeCompare(a.id))
            .slice(0, fleet.keep)
            .map((i) => i.id),
        );
        const referenced = new Set([
          ...remaining.map((v) => v.imageId),
          ...fleet.instances
            .filter((i) => i.stack === STACK && i.state !== 'terminated')
            .map((i) => i.imageId),
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
        // The versions the group, its instances, the template itself and the stack's instances use stay,
        // and so do their AMIs.
        const inUse = (fleet.versions.length ? [fleet.versions.length, fleet.defaultVersion] : []).concat(
          fleet.group ? [] : fleet.versions.map((_, i) => i + 1),
        );
        for (const n of inUse) {
          expect(deletedVersions).not.toContain(n);
          expect(account.log).not.toContain(`deregister ${fleet.versions[n - 1]?.imageId}`);
        }
        // Each deleted AMI: its snapshots tagged, then deregistered with them, then its Image Builder
        // image; none of its snapshots is left behind.
        for (const id of expectedDeleted) {
          const image = images.find((i) => i.id === id) as FakeImage;
          const at = account.log.indexOf(`deregister ${id}`);
          for (const snapshot of image.snapshots) {
            expect(account.log.indexOf(`tag ${snapshot}`)).toBeLessThan(at);
            expect(account.log.indexOf(`delete-snapshot ${snapshot}`)).toBeGreaterThan(at);
            expect(account.snapshots.has(snapshot)).toBe(false);
          }
          if (image.imageBuilderArn) {
            expect(account.log.indexOf(`delete-image ${image.imageBuilderArn}`)).toBeGreaterThan(at);
          }
        }
      }),
      { numRuns: 1000 },
    );
    // Sized by its runs: no deadline a loaded machine could miss.
  }, 900_000);

  test('a dry run reports the same deletions and changes nothing', async () => {
    const account = accountOf({
      images: Array.from({ length: 10 }, (_, i) => ({
        id: `ami-${i}`,
        stack: STACK,
        created: i,
        state: 'available' as const,
        snapshots: [`snap-${i}`],
      })),
    });
    const settings = {
      stackName: STACK,
      launchTemplateId: TEMPLATE,
      groupName: GROUP,
      keep: 3,
      currentAmiParameter: CURRENT,
      protectAmis: [],
    };
    const dry = await run(account, { ...settings, dryRun: true });
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
    const real = await run(account, { ...settings, dryRun: false });
    expect(real.deleted).toEqual(dry.deleted);
    const again = await run(account, { ...settings, dryRun: false });
    expect(again.deleted).toEqual([]);
    expect(again.sweptSnapshots).toEqual([]);
  });
});
