import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

/**
 * Everything a synthesis reads from the repository: the CDK app and what it embeds (function
 * sources, state machine definitions, the playbook asset, the boot script), the feature flags, the
 * locked dependency versions, and the way the tests synthesize. test/support/synth-cache.test.ts
 * proves that a synthesis reads nothing else.
 */
export const SYNTH_SOURCES = [
  'infra',
  'functions',
  'statemachines',
  'ansible',
  'cdk.json',
  'package-lock.json',
  'test/support/stack.ts',
  'test/support/synth-cache.ts',
].map((source) => path.join(ROOT, source));

/** Where templates are kept between test files and runs; EXTERNAL_WORKER_SYNTH_CACHE overrides it. */
export const DEFAULT_CACHE_DIR =
  process.env.EXTERNAL_WORKER_SYNTH_CACHE ?? path.join(os.tmpdir(), 'external-worker-synth');

export interface SynthCacheOptions {
  dir?: string;
  sources?: string[];
}

/**
 * Synthesized templates on disk, keyed by a hash of the synthesis inputs (configuration, options)
 * and of the content of every source file: a change to any source is a new key, so a template
 * synthesized from older sources is never served. Each test file runs in a module registry of its
 * own (and jest workers in processes of their own), so without it every file would synthesize
 * again the configurations the others already did.
 */
export class SynthCache {
  readonly dir: string;
  readonly sources: string[];

  constructor(options: SynthCacheOptions = {}) {
    this.dir = options.dir ?? DEFAULT_CACHE_DIR;
    this.sources = options.sources ?? SYNTH_SOURCES;
  }

  /** Hashed afresh on every call: a cache entry can only match the sources as they are now. */
  key(inputs: unknown): string {
    const hash = createHash('sha256').update(
      JSON.stringify([inputs, process.version, process.platform, process.arch]),
    );
    const visit = (file: string) => {
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat) {
        hash.update(`missing ${file}\0`);
      } else if (stat.isDirectory()) {
        for (const entry of fs.readdirSync(file).sort()) visit(path.join(file, entry));
      } else {
        hash
          .update(`${path.relative(ROOT, file)}\0`)
          .update(fs.readFileSync(file))
          .update('\0');
      }
    };
    for (const source of this.sources) visit(source);
    return hash.digest('hex').slice(0, 32);
  }

  read(key: string): unknown {
    try {
      const template = JSON.parse(fs.readFileSync(this.file(key), 'utf8'));
      const now = new Date();
      fs.utimesSync(this.file(key), now, now);
      return template;
    } catch {
      return undefined;
    }
  }

  /** Written whole, then renamed: a worker reading at the same time sees the old state or the new. */
  write(key: string, template: unknown): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.pruneOnce();
    const partial = `${this.file(key)}.${process.pid}.partial`;
    fs.writeFileSync(partial, JSON.stringify(template));
    fs.renameSync(partial, this.file(key));
  }

  private pruned = false;

  /** Templates of sources long changed are never read again: a day after their last write, gone. */
  private pruneOnce(): void {
    if (this.pruned) return;
    this.pruned = true;
    const before = Date.now() - 24 * 3600_000;
    for (const entry of fs.readdirSync(this.dir)) {
      const file = path.join(this.dir, entry);
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (stat && stat.mtimeMs < before) fs.rmSync(file, { force: true });
    }
  }

  private file(key: string): string {
    return path.join(this.dir, `${key}.template.json`);
  }
}
