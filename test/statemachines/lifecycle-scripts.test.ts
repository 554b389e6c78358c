import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAsl } from '../support/asl-harness';

/**
 * The shell the state machines send through SSM (AWS-RunShellScript), run here against a scratch
 * directory standing in for the instance's file system.
 */
function commandsOf(machine: string, state: string): string {
  const definition = JSON.parse(readAsl(machine)) as {
    States: Record<string, { Parameters?: { Parameters?: { commands?: string[] } } }>;
  };
  const commands = definition.States[state]?.Parameters?.Parameters?.commands;
  if (!commands) throw new Error(`${machine}.${state} sends no commands`);
  return commands.join('\n');
}

function runOnFakeInstance(script: string, files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'instance-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  const rooted = script
    .replaceAll('/var/lib/external-worker/', `${root}/var/lib/external-worker/`)
    .replaceAll('/var/tmp/keeprunning', `${root}/var/tmp/keeprunning`);
  const result = spawnSync('bash', ['-c', rooted], { encoding: 'utf8' });
  fs.rmSync(root, { recursive: true, force: true });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('boot status check sent by instance-launch', () => {
  const script = commandsOf('instance-launch', 'SendCheck');
  const status = 'var/lib/external-worker/boot-status.json';

  test('absent file: pending, keeprunning false', () => {
    expect(JSON.parse(runOnFakeInstance(script, {}))).toEqual({
      status: 'absent',
      step: '',
      message: 'boot status file absent: boot not started yet',
      keeprunning: false,
      written: '1970-01-01T00:00:00Z',
    });
  });

  test('the status file as the boot wrote it, and the keeprunning file', () => {
    const boot = {
      status: 'failed',
      step: 'worker-key',
      message: 'parameter not found',
      time: '2026-01-01T00:00:00Z',
    };
    const before = Math.floor(Date.now() / 1000) * 1000;
    const output = runOnFakeInstance(script, { [status]: JSON.stringify(boot), 'var/tmp/keeprunning': '' });
    // one JSON object, nothing after it: States.StringToJson reads it as is
    expect(output.endsWith('}')).toBe(true);
    expect(JSON.parse(output)).toEqual({
      status: 'failed',
      step: 'worker-key',
      message: 'parameter not found',
      keeprunning: true,
      written: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    // when the file was written (here: just now), not the time the boot wrote into it
    const written = Date.parse(JSON.parse(output).written);
    expect(written).toBeGreaterThanOrEqual(before);
    expect(written).toBeLessThanOrEqual(Date.now());
  });

  test('a file that is not a JSON object is unreadable (pending), never a crash', () => {
    for (const content of ['{"status": "ok"', '[1,2]', '']) {
      expect(JSON.parse(runOnFakeInstance(script, { [status]: content }))).toMatchObject({
        status: 'unreadable',
      });
    }
  });

  test('a long message is cut so the answer stays small', () => {
    const boot = { status: 'failed', step: 's', message: 'x'.repeat(5000) };
    const parsed = JSON.parse(runOnFakeInstance(script, { [status]: JSON.stringify(boot) }));
    expect(parsed.message).toHaveLength(1000);
  });
});

describe('drain check sent by instance-drain', () => {
  test('prints exactly running or exited', () => {
    const script = commandsOf('instance-drain', 'SendCheck');
    // no systemd here: the unit is not active, which is what an exited worker looks like
    expect(runOnFakeInstance(script.replace('systemctl', 'false && systemctl'), {})).toBe('exited');
    expect(
      runOnFakeInstance(script.replace('systemctl is-active --quiet concourse-worker', 'true'), {}),
    ).toBe('running');
  });
});
