import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONCOURSE_VERSION_PATTERN_SOURCE } from '../../functions/lib/concourse-version';
import { COMPONENT_DOCUMENT } from '../../infra/image-pipeline';

// The image component's version step, run by bash as AWSTOE runs it: parameter values pasted into
// the command text, here with stubbed aws and curl. Whatever the parameters or the scheduler's
// answer hold, nothing but a release version is ever written, and nothing in them runs.

const step = (name: string): string => {
  const script = `import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for phase in doc["phases"]:
    for s in phase["steps"]:
        if s["name"] == sys.argv[2]:
            print(s["inputs"]["commands"][0], end="")`;
  const result = spawnSync('python3', ['-c', script, COMPONENT_DOCUMENT, name], { encoding: 'utf8' });
  if (result.status !== 0 || !result.stdout) throw new Error(`no step ${name}: ${result.stderr}`);
  return result.stdout;
};

const RESOLVE = step('ResolveConcourseVersion');

interface Run {
  status: number | null;
  written?: string;
  ran: boolean;
  output: string;
}

function resolve(parameters: Record<string, string>, answer: string, stored = ''): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-component-'));
  const marker = path.join(dir, 'pwned');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/bash\nprintf '%s' "$STORED"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'curl'), `#!/bin/bash\nprintf '%s' "$ANSWER"\n`, { mode: 0o755 });
  const values = {
    PinnedVersion: 'none',
    Region: 'eu-west-1',
    BuildVersionParameter: '/external-worker/prod/build-version',
    SchedulerApiAddress: 'https://scheduler.example.com',
    VersionPattern: CONCOURSE_VERSION_PATTERN_SOURCE,
    ...parameters,
  };
  const text = RESOLVE.replace(/\{\{ (\w+) \}\}/g, (_m, name: string) =>
    (values[name as keyof typeof values] ?? '').replaceAll('MARKER', marker),
  ).replaceAll('/opt/external-worker', dir);
  const result = spawnSync('bash', ['-c', text], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      ANSWER: answer.replaceAll('MARKER', marker),
      STORED: stored.replaceAll('MARKER', marker),
    },
  });
  const versionFile = path.join(dir, 'concourse-version');
  const run: Run = {
    status: result.status,
    written: fs.existsSync(versionFile) ? fs.readFileSync(versionFile, 'utf8') : undefined,
    ran: fs.existsSync(marker),
    output: `${result.stdout}${result.stderr}`,
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return run;
}

const HOSTILE = [
  '7.11.2\n$(touch MARKER)',
  '7.11.2; touch MARKER',
  "7.11.2'$(touch MARKER)'",
  '`touch MARKER`',
  '$(touch MARKER)',
  '{{ lookup("pipe", "touch MARKER") }}',
  '{% raw %}7.11.2',
  '7.11.2-rc.1',
  '7.11',
  '',
];

describe('image component: the Concourse version', () => {
  test('a release version from the scheduler is recorded', () => {
    const run = resolve({}, '{"version":"7.11.2"}');
    expect(run).toMatchObject({ status: 0, written: '7.11.2\n', ran: false });
  });

  test('the version the check recorded wins over the scheduler, the pin over both', () => {
    expect(resolve({}, '{"version":"7.11.2"}', '7.10.0').written).toBe('7.10.0\n');
    expect(resolve({ PinnedVersion: '7.9.1' }, '{"version":"7.11.2"}', '7.10.0').written).toBe('7.9.1\n');
  });

  test.each(HOSTILE)('a scheduler answering %j builds nothing and runs nothing', (version) => {
    const run = resolve({}, JSON.stringify({ version }));
    expect(run).toMatchObject({ status: 1, written: undefined, ran: false });
    expect(run.output).toContain('no usable Concourse version');
  });

  // An empty parameter means none recorded: the scheduler is asked, as above.
  test.each(HOSTILE.filter(Boolean))('a recorded version %j builds nothing and runs nothing', (version) => {
    expect(resolve({}, '{"version":"7.11.2"}', version)).toMatchObject({ written: undefined, ran: false });
  });

  test.each([
    ['SchedulerApiAddress', "https://x'$(touch MARKER)'"],
    ['Region', "eu-west-1' $(touch MARKER) '"],
    ['BuildVersionParameter', '/p`touch MARKER`'],
    ['PinnedVersion', "7.11.2'; touch MARKER; '"],
  ])('a parameter %s holding shell is read as data', (name, value) => {
    const run = resolve({ [name]: value }, '{"version":"7.11.2"}');
    expect(run.ran).toBe(false);
    if (name === 'PinnedVersion') expect(run).toMatchObject({ status: 1, written: undefined });
  });
});
