import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, SYNTH_SOURCES, SynthCache } from './synth-cache';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-synth-cache-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** synth() of a module registry of its own: nothing remembered from an earlier call in this file. */
function isolatedSynth(): typeof import('./stack').synth {
  let synth: typeof import('./stack').synth | undefined;
  jest.isolateModules(() => {
    ({ synth } = require('./stack') as typeof import('./stack'));
  });
  return synth as typeof import('./stack').synth;
}

describe('the synthesis cache', () => {
  test('serves a template only while every source is as it was when it was synthesized', () => {
    const source = path.join(dir, 'source.ts');
    fs.writeFileSync(source, 'v1');
    const cache = new SynthCache({ dir: path.join(dir, 'cache'), sources: [source] });

    const first = isolatedSynth()({}, { cache });
    expect(first.from).toBe('synthesis');
    const [entry] = fs.readdirSync(cache.dir);
    // Marked, so that a template read from the cache cannot pass for a new synthesis.
    const file = path.join(cache.dir, entry as string);
    const marked = JSON.parse(fs.readFileSync(file, 'utf8'));
    marked.Outputs.FromTheCache = { Value: 'yes' };
    fs.writeFileSync(file, JSON.stringify(marked));

    const again = isolatedSynth()({}, { cache });
    expect(again.from).toBe('cache');
    expect(again.template.toJSON().Outputs.FromTheCache).toEqual({ Value: 'yes' });

    fs.writeFileSync(source, 'v2');
    const changed = isolatedSynth()({}, { cache });
    expect(changed.from).toBe('synthesis');
    expect(changed.template.toJSON()).toEqual(first.template.toJSON());
    expect(changed.template.toJSON().Outputs.FromTheCache).toBeUndefined();
  });

  test('keys on the inputs and on the content, name and presence of every source file', () => {
    const sources = path.join(dir, 'sources');
    fs.mkdirSync(path.join(sources, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(sources, 'nested', 'a.ts'), 'a');
    const cache = new SynthCache({ dir: path.join(dir, 'cache'), sources: [sources] });
    const seen = new Set<string>();
    const expectNew = (key: string) => {
      expect(seen).not.toContain(key);
      seen.add(key);
    };
    const base = cache.key({ context: {} });
    expectNew(base);
    expect(cache.key({ context: {} })).toBe(base);
    expectNew(cache.key({ context: { maxSize: 8 } }));
    fs.writeFileSync(path.join(sources, 'nested', 'a.ts'), 'b');
    expectNew(cache.key({ context: {} }));
    fs.renameSync(path.join(sources, 'nested', 'a.ts'), path.join(sources, 'nested', 'c.ts'));
    expectNew(cache.key({ context: {} }));
    fs.writeFileSync(path.join(sources, 'd.ts'), '');
    expectNew(cache.key({ context: {} }));
    fs.rmSync(sources, { recursive: true });
    expectNew(cache.key({ context: {} }));
  });

  test('the hashed sources are all that a synthesis reads from the repository', () => {
    // Only the hashed sources copied beside the dependencies: a synthesis that needed any other
    // file of the repository would fail here, and a change to that file would go unseen by the key.
    const copy = path.join(dir, 'repository');
    for (const source of SYNTH_SOURCES) {
      fs.cpSync(source, path.join(copy, path.relative(ROOT, source)), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const script = `require(${JSON.stringify(path.join(copy, 'test', 'support', 'stack.ts'))}).synth({}, { fresh: true })`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, EXTERNAL_WORKER_SYNTH_CACHE: path.join(dir, 'cache') },
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
