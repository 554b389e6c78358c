import * as path from 'node:path';
import { STACK_WORKER_ENVIRONMENT } from '../../infra/fleet-options';
import { ansiblePython, runTool } from './tools';

// The playbook's templates rendered with Ansible's own template engine (test/ansible/render.py)
// and test settings, as the boot play renders them on a worker.

type Vars = Record<string, string | Record<string, string>>;
type Job =
  | { vars: Vars; template: string; parse?: 'toml' }
  | { vars: Vars; expr: string }
  | { vars: Vars; task: { file: string; name: string; arg: string } };

const INSTANCE = 'i-0123456789abcdef0';
const KEY_FILE = '/etc/concourse/worker_key';
const SETTINGS: Vars = {
  ew_project: 'external-worker',
  ew_env: 'prod',
  ew_instance_id: INSTANCE,
  ew_region: 'eu-central-1',
  ew_scheduler_host: 'scheduler.example.com',
  ew_scheduler_port: '32223',
  ew_tsa_public_key: 'ssh-rsa AAAAB3NzaC1yc2E tsa',
  ew_team_id: 'team-a',
  ew_worker_tag: 'tag-a',
  ew_worker_runtime: 'containerd',
  ew_worker_dns_server: '10.0.0.2',
  ew_log_group: '/external-worker/prod/workers',
  ew_worker_key_file: KEY_FILE,
  ew_fs_volume_type: 'btrfs',
  ew_use_local_device: 'false',
  ew_var_lib_device: '/dev/xvdf',
};

function render<T = string>(jobs: Job[]): T[] {
  const script = path.join(__dirname, 'render.py');
  const { status, output } = runTool(ansiblePython(), [script], { input: JSON.stringify(jobs) });
  if (status !== 0) throw new Error(`render.py exited ${status}:\n${output}`);
  const results = JSON.parse(output) as { ok: boolean; value?: T; error?: string }[];
  return results.map((result, i) => {
    if (!result.ok) throw new Error(`job ${JSON.stringify(jobs[i])} failed: ${result.error}`);
    return result.value as T;
  });
}

function renderOne<T = string>(job: Job): T {
  const [value] = render<T>([job]);
  return value as T;
}

function envFile(vars: Vars): Record<string, string> {
  const text = renderOne({ vars, template: 'roles/concourse_worker/templates/worker.env.j2' });
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1]) env[match[1]] = match[2] ?? '';
  }
  return env;
}

describe('Fluentd', () => {
  const conf = renderOne({ vars: SETTINGS, template: 'roles/fluentd/templates/fluentd.conf.j2' });
  const sources = [...conf.matchAll(/<source>([\s\S]*?)<\/source>/g)].map((m) => m[1] ?? '');
  const matches = [...conf.matchAll(/<match ([^>]+)>([\s\S]*?)<\/match>/g)];

  test('tails the boot log, the worker log and syslog', () => {
    const paths = sources.map((s) => /^\s*path (.+)$/m.exec(s)?.[1]);
    expect(paths).toEqual(['/var/log/user-data.log', '/var/log/concourse-worker.log', '/var/log/syslog']);
  });

  test('sends each file to the log group and region, one stream per instance and file', () => {
    const streams = sources.map((source) => {
      const tag = /^\s*tag (.+)$/m.exec(source)?.[1];
      const match = matches.find((m) => m[1] === tag)?.[2] ?? '';
      expect(match).toMatch(/^\s*@type cloudwatch_logs$/m);
      expect(match).toMatch(/^\s*region eu-central-1$/m);
      expect(match).toMatch(/^\s*log_group_name \/external-worker\/prod\/workers$/m);
      return /^\s*log_stream_name (.+)$/m.exec(match)?.[1];
    });
    expect(streams).toEqual([
      `${INSTANCE}/user-data.log`,
      `${INSTANCE}/concourse-worker.log`,
      `${INSTANCE}/syslog`,
    ]);
  });

  test('uses the instance role, never keys', () => {
    expect(conf).not.toMatch(/aws_key_id|aws_sec_key|access_key|secret/i);
  });
});

describe('Telegraf', () => {
  interface TelegrafConf {
    outputs: { prometheus_client: { listen: string; path: string }[] };
    inputs: Record<string, unknown[]>;
  }
  const conf = renderOne<TelegrafConf>({
    vars: SETTINGS,
    template: 'roles/telegraf/templates/telegraf.conf.j2',
    parse: 'toml',
  });

  test('serves Prometheus metrics on :9100', () => {
    expect(conf.outputs.prometheus_client).toEqual([
      expect.objectContaining({ listen: ':9100', path: '/metrics' }),
    ]);
  });

  test('collects the host inputs', () => {
    expect(Object.keys(conf.inputs)).toEqual(
      expect.arrayContaining(['cpu', 'mem', 'disk', 'diskio', 'net', 'system', 'processes']),
    );
  });
});

describe('Concourse worker environment', () => {
  test('workerEnvironment comes first, so that a setting of the stack always wins', () => {
    const extra = { CONCOURSE_CONTAINERD_MAX_CONTAINERS: '250', CONCOURSE_LOG_LEVEL: 'debug' };
    const text = renderOne({
      vars: { ...SETTINGS, ew_worker_environment: extra },
      template: 'roles/concourse_worker/templates/worker.env.j2',
    });
    const names = text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));
    expect(names.slice(0, 2)).toEqual(['CONCOURSE_CONTAINERD_MAX_CONTAINERS', 'CONCOURSE_LOG_LEVEL']);
    expect(text).toContain('\nCONCOURSE_CONTAINERD_MAX_CONTAINERS=250\nCONCOURSE_LOG_LEVEL=debug\n');
    expect(names.slice(2)).not.toContain('CONCOURSE_LOG_LEVEL');
  });

  test('the settings workerEnvironment may not name are exactly those the template writes', () => {
    const written = new Set<string>();
    for (const runtime of ['containerd', 'guardian', 'houdini']) {
      const env = envFile({ ...SETTINGS, ew_worker_runtime: runtime, storage_device: '/dev/nvme1n1' });
      for (const name of Object.keys(env)) written.add(name);
    }
    expect([...written].sort()).toEqual(Object.keys(STACK_WORKER_ENVIRONMENT).sort());
  });

  test('carries every setting and only the path of the key file', () => {
    const env = envFile({ ...SETTINGS, storage_device: '/dev/nvme1n1' });
    expect(env).toEqual({
      CONCOURSE_NAME: `external-worker-worker-prod-${INSTANCE}`,
      CONCOURSE_EPHEMERAL: 'true',
      CONCOURSE_WORK_DIR: '/var/lib/concourse/worker',
      CONCOURSE_TSA_HOST: 'scheduler.example.com:32223',
      CONCOURSE_TSA_PUBLIC_KEY: '/etc/concourse/tsa_host_key.pub',
      CONCOURSE_TSA_WORKER_PRIVATE_KEY: KEY_FILE,
      CONCOURSE_TEAM: 'team-a',
      CONCOURSE_TAG: 'tag-a',
      CONCOURSE_RUNTIME: 'containerd',
      CONCOURSE_CONTAINERD_NETWORK_POOL: '10.80.0.0/16',
      CONCOURSE_CONTAINERD_RESTRICTED_NETWORK: '169.254.169.254/32',
      CONCOURSE_CONTAINERD_DNS_SERVER: '10.0.0.2',
      CONCOURSE_BAGGAGECLAIM_DRIVER: 'btrfs',
    });
    expect(Object.values(env).join('\n')).not.toMatch(/BEGIN|PRIVATE KEY|ssh-rsa/);
  });

  test('defaults to containerd and leaves out an empty tag and DNS server', () => {
    const env = envFile({ ...SETTINGS, ew_worker_runtime: '', ew_worker_tag: '', ew_worker_dns_server: '' });
    expect(env.CONCOURSE_RUNTIME).toBe('containerd');
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(['CONCOURSE_TAG']));
    expect(Object.keys(env).filter((k) => k.endsWith('DNS_SERVER'))).toEqual([]);
  });

  test('gives the DNS server to Guardian under its own name', () => {
    const env = envFile({ ...SETTINGS, ew_worker_runtime: 'guardian' });
    expect(env.CONCOURSE_GARDEN_DNS_SERVER).toBe('10.0.0.2');
    expect(env.CONCOURSE_CONTAINERD_DNS_SERVER).toBeUndefined();
  });

  test('the unit retires the worker on stop and bounds the wait', () => {
    const unit = renderOne({
      vars: SETTINGS,
      template: 'roles/concourse_worker/templates/concourse-worker.service.j2',
    });
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/concourse\/bin\/concourse worker$/m);
    expect(unit).toMatch(/^ExecStartPre=\/usr\/local\/sbin\/external-worker-clean-work-dir$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/concourse\/worker.env$/m);
    const wait = Number(
      /^ExecStop=\/usr\/local\/sbin\/external-worker-retire --wait (\d+)$/m.exec(unit)?.[1],
    );
    const timeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
    expect(wait).toBeGreaterThan(0);
    expect(timeout).toBeGreaterThan(wait);
    expect(unit).toMatch(/^ConditionPathExists=\/etc\/concourse\/worker.env$/m);
    expect(unit).toContain("ExecCondition=/bin/sh -c '! test -e /run/external-worker/retired'");
  });
});

describe('storage', () => {
  const FIND_DEVICE = { file: 'roles/storage/tasks/boot.yml', name: 'Find the data device', arg: 'argv' };

  test.each([
    ['true', '/dev/xvdf', ['true', '/dev/xvdf']],
    ['True', 'nodevice', ['true', 'nodevice']],
    ['false', 'nodevice', ['false', 'nodevice']],
    ['false', '/dev/sdf', ['false', '/dev/sdf']],
  ])(
    'useLocalDevice=%s varLibDevice=%s asks external-worker-data-device for %j',
    (local, device, expected) => {
      const vars = { ...SETTINGS, ew_use_local_device: local, ew_var_lib_device: device };
      const argv = renderOne<string[]>({ vars, task: FIND_DEVICE });
      expect(argv).toEqual(['/usr/local/sbin/external-worker-data-device', ...expected]);
    },
  );

  test.each([
    ['btrfs', '/dev/nvme1n1', 'btrfs', ['mkfs.btrfs', '-f', '-L', 'ephemeral0', '/dev/nvme1n1']],
    ['ext4', '/dev/nvme1n1', 'overlay', ['mkfs.ext4', '-F', '-L', 'ephemeral0', '/dev/nvme1n1']],
    ['btrfs', '', 'overlay', null],
    ['ext4', '', 'overlay', null],
  ])('fsVolumeType=%s on device %j: baggageclaim %s', (fs, device, driver, mkfs) => {
    const vars = { ...SETTINGS, ew_fs_volume_type: fs, storage_device: device, storage_uuid: 'uuid-1' };
    expect(envFile(vars).CONCOURSE_BAGGAGECLAIM_DRIVER).toBe(driver);
    const [fsType, mkfsArgv] = render([
      { vars, expr: '{{ storage_fs_type }}' },
      { vars, task: { file: 'roles/storage/tasks/boot.yml', name: 'Format the data device', arg: 'argv' } },
    ]);
    expect(fsType).toBe(device ? fs : 'none');
    if (mkfs) {
      expect(mkfsArgv).toEqual(mkfs);
      const unit = renderOne({ vars, template: 'roles/storage/templates/data.mount.j2' });
      expect(unit).toMatch(/^What=\/dev\/disk\/by-uuid\/uuid-1$/m);
      expect(unit).toMatch(/^Where=\/var\/lib\/concourse$/m);
      expect(unit).toMatch(new RegExp(`^Type=${fs}$`, 'm'));
      expect(unit).toMatch(/^Options=defaults,noatime$/m);
    }
  });

  test('the worker requires the data mount', () => {
    const dropIn = renderOne({ vars: SETTINGS, template: 'roles/storage/templates/worker-storage.conf.j2' });
    expect(dropIn).toMatch(/^Requires=var-lib-concourse.mount$/m);
    expect(dropIn).toMatch(/^After=var-lib-concourse.mount$/m);
  });
});

describe('system', () => {
  test('names the instance after project, role, env and instance id', () => {
    expect(
      renderOne({ vars: { ...SETTINGS, ew_project: 'My_Project' }, expr: '{{ system_hostname }}' }),
    ).toBe(`my-project-worker-prod-${INSTANCE}`);
  });

  test('keeps the original kernel settings and log rotation', () => {
    const [sysctl, logrotate] = render([
      { vars: SETTINGS, template: 'roles/system/templates/sysctl.conf.j2' },
      { vars: SETTINGS, template: 'roles/system/templates/logrotate.j2' },
    ]);
    expect(sysctl).toMatch(/^net\.ipv4\.ip_forward = 1$/m);
    expect(sysctl).toMatch(/^net\.nf_conntrack_max = 524288$/m);
    expect(sysctl).toMatch(/^vm\.max_map_count = 262144$/m);
    expect(logrotate).toContain('/var/log/concourse-worker.log /var/log/user-data.log {');
    expect(logrotate).toMatch(/^\s+copytruncate$/m);
  });
});

describe('build isolation', () => {
  const conf = (vars: Vars) => {
    const text = renderOne({ vars, template: 'roles/build_isolation/templates/build-firewall.conf.j2' });
    return Object.fromEntries(
      text
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  };

  test('drops builds’ traffic to the metadata service and the metrics port by default', () => {
    expect(conf(SETTINGS)).toEqual({
      BUILD_NETWORK: '10.80.0.0/16',
      METADATA_ADDRESS: '169.254.169.254',
      METRICS_PORT: '9100',
      METADATA_REACHABLE: 'false',
    });
    expect(conf({ ...SETTINGS, ew_builds_use_instance_role: 'false' }).METADATA_REACHABLE).toBe('false');
  });

  test('lets builds reach the metadata service only with buildsUseInstanceRole, never the metrics port', () => {
    const optedIn = conf({ ...SETTINGS, ew_builds_use_instance_role: 'true' });
    expect(optedIn.METADATA_REACHABLE).toBe('true');
    expect(optedIn.METRICS_PORT).toBe('9100');
  });

  test('guards the port Telegraf serves and the pool the worker gives its containers', () => {
    const [listen, network] = render([
      { vars: SETTINGS, expr: '{{ telegraf_prometheus_listen }}' },
      { vars: SETTINGS, expr: '{{ build_isolation_network }}' },
    ]);
    expect(listen).toBe(`:${conf(SETTINGS).METRICS_PORT}`);
    expect(envFile(SETTINGS).CONCOURSE_CONTAINERD_NETWORK_POOL).toBe(network);
    expect(envFile({ ...SETTINGS, ew_worker_runtime: 'guardian' }).CONCOURSE_GARDEN_NETWORK_POOL).toBe(
      network,
    );
  });

  test('the runtime also refuses the metadata service to containers, unless builds may use the role', () => {
    expect(envFile(SETTINGS).CONCOURSE_CONTAINERD_RESTRICTED_NETWORK).toBe('169.254.169.254/32');
    expect(envFile({ ...SETTINGS, ew_worker_runtime: 'guardian' }).CONCOURSE_GARDEN_DENY_NETWORK).toBe(
      '169.254.169.254/32',
    );
    const optedIn = envFile({ ...SETTINGS, ew_builds_use_instance_role: 'true' });
    expect(optedIn.CONCOURSE_CONTAINERD_RESTRICTED_NETWORK).toBeUndefined();
  });

  test('the unit applies the rules before the network and the worker, and the worker requires it', () => {
    const unit = renderOne({
      vars: SETTINGS,
      template: 'roles/build_isolation/templates/build-firewall.service.j2',
    });
    expect(unit).toMatch(/^Before=network-pre\.target concourse-worker\.service$/m);
    expect(unit).toMatch(
      /^ExecStart=\/usr\/local\/sbin\/external-worker-build-firewall \/etc\/external-worker\/build-firewall\.conf$/m,
    );
    expect(unit).toMatch(/^Type=oneshot$/m);
    expect(unit).toMatch(/^RequiredBy=concourse-worker\.service$/m);
  });
});

describe('downloads of the host architecture', () => {
  const on = (architecture: string) => ({
    ansible_facts: { architecture },
    concourse_version: '7.12.1',
    ssm_agent_resolved_region: 'eu-west-1',
  });
  const downloads = (architecture: string) =>
    render([
      { vars: on(architecture), expr: '{{ concourse_release_url }}' },
      { vars: on(architecture), expr: '{{ ssm_agent_url }}' },
      { vars: on(architecture), expr: '{{ telegraf_arch }}' },
    ]);

  test('Graviton (aarch64): the linux-arm64 tarball, the debian_arm64 agent, arm64 Telegraf', () => {
    expect(downloads('aarch64')).toEqual([
      'https://github.com/concourse/concourse/releases/download/v7.12.1/concourse-7.12.1-linux-arm64.tgz',
      'https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/3.3.2471.0/debian_arm64/amazon-ssm-agent.deb',
      'arm64',
    ]);
  });

  test('x86_64: the linux-amd64 tarball, the debian_amd64 agent, amd64 Telegraf', () => {
    expect(downloads('x86_64')).toEqual([
      'https://github.com/concourse/concourse/releases/download/v7.12.1/concourse-7.12.1-linux-amd64.tgz',
      'https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/3.3.2471.0/debian_amd64/amazon-ssm-agent.deb',
      'amd64',
    ]);
  });

  test('each architecture has its own checksum pins, empty until set', () => {
    const pins = (architecture: string) =>
      render([
        { vars: on(architecture), expr: '{{ telegraf_sha256 }}' },
        { vars: on(architecture), expr: '{{ ssm_agent_sha256 }}' },
      ]);
    expect(pins('aarch64')).toEqual(['', '']);
    const arm = 'b'.repeat(64);
    const vars = {
      ...on('aarch64'),
      telegraf_sha256_by_arch: { amd64: '', arm64: arm },
      ssm_agent_sha256_by_arch: { amd64: 'a'.repeat(64), arm64: arm },
    };
    expect(
      render([
        { vars, expr: '{{ telegraf_sha256 }}' },
        { vars, expr: '{{ ssm_agent_sha256 }}' },
      ]),
    ).toEqual([arm, arm]);
  });
});
