import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const ANSIBLE_DIR = path.join(ROOT, 'ansible');

export interface ToolResult {
  status: number;
  output: string;
}

/**
 * Runs an offline check tool. A missing tool fails the test (`npm test` installs the tools first, see
 * scripts/test-prerequisites.sh); a non-zero exit fails it with the tool's whole output.
 */
export function runTool(command: string, args: string[], options: { cwd?: string; input?: string } = {}) {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', PY_COLORS: '0', ANSIBLE_FORCE_COLOR: '0' },
  });
  if (result.error) {
    throw new Error(
      `${command} could not run (${result.error.message}); install the test tools: bash scripts/test-prerequisites.sh`,
    );
  }
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

/** Like runTool, and fails unless the tool exits 0. */
export function expectToolSuccess(command: string, args: string[], options: { cwd?: string } = {}): string {
  const { status, output } = runTool(command, args, options);
  if (status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${status}:\n${output}`);
  }
  return output;
}

/** The Python that runs Ansible (its shebang), so that Ansible's own template engine can be imported. */
export function ansiblePython(): string {
  const which = runTool('sh', ['-c', 'command -v ansible-playbook']);
  if (which.status !== 0) throw new Error('ansible-playbook is not installed (apt-get install ansible-core)');
  const shebang = fs.readFileSync(which.output.trim(), 'utf8').split('\n')[0] ?? '';
  const interpreter = shebang.replace(/^#!\s*/, '').split(/\s+/);
  return interpreter[0] === '/usr/bin/env' ? (interpreter[1] ?? 'python3') : (interpreter[0] ?? 'python3');
}

const SKIPPED_DIRS = new Set(['node_modules', 'cdk.out', '.git', 'coverage']);

/** Every shell script in the repository: *.sh, *.bats, and files whose shebang names sh or bash. */
export function shellScripts(dir = ROOT): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...shellScripts(full));
    } else if (entry.isFile() && isShellScript(full)) {
      found.push(path.relative(ROOT, full));
    }
  }
  return found.sort();
}

function isShellScript(file: string): boolean {
  if (/\.(sh|bats)$/.test(file)) return true;
  const head = fs.readFileSync(file, { encoding: 'utf8', flag: 'r' }).slice(0, 100);
  return /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(head);
}
