import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONCOURSE_VERSION_PATTERN_SOURCE } from '../../functions/lib/concourse-version';
import { synth } from '../support/stack';
import { ANSIBLE_DIR, ROOT } from './tools';

// The settings the stack's user data writes are the settings the boot script reads and passes to
// the boot play, at the paths both sides agree on.

const bootScript = fs.readFileSync(path.join(ANSIBLE_DIR, 'roles/boot/files/external-worker-boot'), 'utf8');
const bootstrap = fs.readFileSync(path.join(ROOT, 'infra/userdata/bootstrap.sh'), 'utf8');

/** The names listed in the `for name in …; do` loop of the named shell function. */
function loopNames(functionName: string): string[] {
  const body = new RegExp(`${functionName}\\(\\) \\{([\\s\\S]*?)\\n\\}`).exec(bootScript)?.[1] ?? '';
  const list = /for name in ([\s\S]*?); do/.exec(body)?.[1] ?? '';
  return list.split(/[\s\\]+/).filter((name) => name.startsWith('EW_'));
}

/** The EW_ settings the named shell function reads. */
function readNames(functionName: string): string[] {
  const body = new RegExp(`${functionName}\\(\\) \\{([\\s\\S]*?)\\n\\}`).exec(bootScript)?.[1] ?? '';
  return [...body.matchAll(/\$\{?(EW_[A-Z_]+)/g)].map((m) => m[1] as string);
}

function userDataText(): string {
  const { template } = synth();
  const templates = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  expect(templates).toHaveLength(1);
  return JSON.stringify(templates[0]?.Properties?.LaunchTemplateData?.UserData);
}

describe('worker contract', () => {
  const userData = userDataText();
  // The settings heredoc only: the bootstrap that follows it sets variables of its own.
  const settingsBlock = userData.slice(0, userData.indexOf('\\nSETTINGS\\n'));
  const written = [...settingsBlock.matchAll(/(?:^|\\n|")(EW_[A-Z_]+)=/g)].map((m) => m[1]);

  test('the user data writes the settings file the boot script reads', () => {
    expect(userData).toContain('/etc/external-worker/settings.env');
    expect(bootScript).toContain('$EW_ROOT/etc/external-worker/settings.env');
    expect(written.length).toBeGreaterThan(10);
  });

  test('every setting written reaches the boot play', () => {
    // workerEnvironment goes as a mapping of its own (worker_environment_vars).
    const passed = [...loopNames('write_boot_vars'), ...readNames('worker_environment_vars')];
    expect(readNames('worker_environment_vars')).toEqual(['EW_WORKER_ENVIRONMENT']);
    expect(passed).toEqual(expect.arrayContaining(written));
  });

  test('every setting the boot script requires is written', () => {
    expect(written).toEqual(expect.arrayContaining(loopNames('read_settings')));
  });

  test('the bootstrap runs the boot script the build play installs, and its build play', () => {
    const defaults = fs.readFileSync(path.join(ANSIBLE_DIR, 'roles/boot/defaults/main.yml'), 'utf8');
    const installed = /^boot_script: (.+)$/m.exec(defaults)?.[1];
    expect(bootstrap).toContain(`BOOT_SCRIPT="$EW_ROOT${installed}"`);
    expect(bootstrap).toContain('PLAYBOOK_DIR="$EW_ROOT/opt/external-worker/ansible"');
    expect(bootstrap).toContain('"$PLAYBOOK_DIR/build.yml" -e "concourse_version=');
    expect(fs.existsSync(path.join(ANSIBLE_DIR, 'build.yml'))).toBe(true);
  });

  test('both write the same boot status file', () => {
    expect(bootstrap).toContain('STATUS_DIR="$EW_ROOT/var/lib/external-worker"');
    expect(bootstrap).toContain('"$STATUS_DIR/boot-status.json"');
    expect(bootScript).toContain('$EW_ROOT/var/lib/external-worker/boot-status.json');
  });

  test('the role checks the Concourse version with the stack’s one pattern', () => {
    const defaults = fs.readFileSync(
      path.join(ANSIBLE_DIR, 'roles/concourse_worker/defaults/main.yml'),
      'utf8',
    );
    const rolePattern = /^concourse_version_pattern: '(.+)'$/m.exec(defaults)?.[1];
    expect(rolePattern).toBe(CONCOURSE_VERSION_PATTERN_SOURCE);
    const tasks = fs.readFileSync(path.join(ANSIBLE_DIR, 'roles/concourse_worker/tasks/main.yml'), 'utf8');
    expect(tasks).toContain('concourse_version is match(concourse_version_pattern)');
  });
});
