import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOG_SHIPPING_ACTIONS, SSM_AGENT_ACTIONS, workerCalls } from '../../infra/worker-calls';

const ROOT = path.join(__dirname, '..', '..');

/** What runs on a worker with its instance role: the user data's bootstrap and the playbook's files. */
function workerSources(): string[] {
  const files = [path.join(ROOT, 'infra', 'userdata', 'bootstrap.sh')];
  const roles = path.join(ROOT, 'ansible', 'roles');
  for (const role of fs.readdirSync(roles)) {
    for (const kind of ['files', 'templates']) {
      const dir = path.join(roles, role, kind);
      if (fs.existsSync(dir)) files.push(...fs.readdirSync(dir).map((file) => path.join(dir, file)));
    }
  }
  return files;
}

// The AWS CLI's high-level S3 commands, by the API call they make when the source is an object.
const S3_COMMANDS: Record<string, string> = { cp: 's3:GetObject' };
const pascal = (kebab: string) => kebab.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/** The IAM action of each `aws <service> <command>` the worker's scripts run. */
function cliActions(): Array<{ file: string; action: string }> {
  const found: Array<{ file: string; action: string }> = [];
  for (const file of workerSources()) {
    const text = fs.readFileSync(file, 'utf8');
    for (const [, service = '', command = ''] of text.matchAll(
      /(?:^|[\s;(|&!])aws\s+([a-z0-9]+)\s+([a-z-]+)/gm,
    )) {
      const action = service === 's3' ? S3_COMMANDS[command] : `${service}:${pascal(command)}`;
      found.push({ file: path.relative(ROOT, file), action: action ?? `s3 ${command} (unknown)` });
    }
  }
  return found;
}

const world = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  instanceId: 'i-0123456789abcdef0',
  logGroupName: '/external-worker/prod/workers',
  workerKeyParameter: '/external-worker/prod/worker-key',
  playbookBucket: 'assets',
  playbookKey: 'playbook.zip',
};
const listed = new Set(workerCalls(world).map((call) => call.action));

describe('the worker calls the role is derived from (infra/worker-calls.ts)', () => {
  test("list every AWS CLI call of the worker's scripts", () => {
    const calls = cliActions();
    expect(calls.map((c) => c.action).sort()).toEqual(['s3:GetObject', 'ssm:GetParameter']);
    expect(calls.filter((c) => !listed.has(c.action))).toEqual([]);
  });

  test("list Fluentd's CloudWatch Logs calls when the playbook ships logs with it", () => {
    const config = fs.readFileSync(
      path.join(ROOT, 'ansible/roles/fluentd/templates/fluentd.conf.j2'),
      'utf8',
    );
    expect(config).toMatch(/@type cloudwatch_logs/);
    expect(config).toMatch(/auto_create_stream true/);
    expect(LOG_SHIPPING_ACTIONS.filter((action) => !listed.has(action))).toEqual([]);
  });

  test('list the SSM agent calls when the playbook installs the agent', () => {
    const tasks = fs.readFileSync(path.join(ROOT, 'ansible/roles/ssm_agent/tasks/main.yml'), 'utf8');
    expect(tasks).toMatch(/amazon-ssm-agent/);
    expect(SSM_AGENT_ACTIONS.filter((action) => !listed.has(action))).toEqual([]);
  });
});
