import * as path from 'node:path';
import { ANSIBLE_DIR, expectToolSuccess, ROOT, shellScripts } from './tools';

// The worker image's offline checks: what runs on a worker is checked here without a worker.
const SLOW = 180_000;
const PLAYS = ['build.yml', 'boot.yml'];

describe('worker playbook', () => {
  test.each(PLAYS)('%s passes ansible-playbook --syntax-check', (play) => {
    const output = expectToolSuccess(
      'ansible-playbook',
      ['--syntax-check', '-i', 'localhost,', '-c', 'local', play],
      { cwd: ANSIBLE_DIR },
    );
    expect(output).toContain(`playbook: ${play}`);
  });

  test(
    'passes ansible-lint with the production profile',
    () => {
      const output = expectToolSuccess('ansible-lint', ['--profile', 'production', '--offline', 'ansible/']);
      expect(output).toMatch(/Passed with production profile/);
    },
    SLOW,
  );

  test('passes yamllint', () => {
    expectToolSuccess('yamllint', ['--strict', '-c', '.yamllint', 'ansible', '.ansible-lint', '.yamllint']);
  });
});

describe('shell scripts', () => {
  const scripts = shellScripts();

  test('are all found', () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        'ansible/roles/boot/files/external-worker-boot',
        'ansible/roles/concourse_worker/files/external-worker-clean-work-dir',
        'ansible/roles/concourse_worker/files/external-worker-retire',
        'ansible/roles/storage/files/external-worker-data-device',
        'infra/userdata/bootstrap.sh',
        'packer/provision.sh',
      ]),
    );
  });

  test('pass shellcheck', () => {
    expectToolSuccess('shellcheck', ['--severity=style', '--external-sources', ...scripts]);
  });
});

describe('boot, retire and data device scripts, the Concourse download (bats, stubbed commands and servers)', () => {
  test.each([
    'boot.bats',
    'data-device.bats',
    'retire.bats',
    'clean-work-dir.bats',
    'build-firewall.bats',
    'bootstrap.bats',
    'concourse-download.bats',
  ])(
    '%s',
    (file) => {
      const output = expectToolSuccess('bats', ['--tap', path.join('test', 'ansible', file)]);
      expect(output).not.toMatch(/^not ok/m);
    },
    SLOW,
  );
});

describe('packer template', () => {
  const packerDir = path.join(ROOT, 'packer');

  test('validates offline', () => {
    expectToolSuccess('packer', ['validate', '-var', 'concourse_version=7.11.2', '.'], { cwd: packerDir });
  });

  test('is formatted', () => {
    expectToolSuccess('packer', ['fmt', '-check', '.'], { cwd: packerDir });
  });

  test('needs concourse_version', () => {
    expect(() => expectToolSuccess('packer', ['validate', '.'], { cwd: packerDir })).toThrow(
      /concourse_version/,
    );
  });
});
