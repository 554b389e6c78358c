import { problemsOrNone as problems } from '../support/config-problems';

// Every configuration key whose value reaches a shell (user data, bootstrap, image component), an
// Ansible variable or a Jinja context, fed each hostile value: synthesis must stop with a problem
// naming the key. The values are data only because no grammar lets code in.

const TSA_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx3pq/LR5K/9QfCnOmpFEf2gnY+YrjH1rVZ71xTzcdx tsa@example';

const HOSTILE: Record<string, string> = {
  'single quote': "'",
  'double quote': '"',
  'command substitution': '$(id)',
  backticks: '`id`',
  'Jinja expression': "{{ lookup('pipe', 'id') }}",
  'Jinja statement': '{% raw %}',
  newline: '\nid',
  NUL: '\u0000',
  space: ' x',
  semicolon: ';id',
};

/** key → a valid value to which a hostile part is appended (or how to build the hostile value). */
const KEYS: Record<string, (bad: string) => Record<string, unknown>> = {
  customer: (bad) => ({ customer: `acme${bad}` }),
  project: (bad) => ({ project: `ew${bad}` }),
  env: (bad) => ({ env: `prod${bad}` }),
  region: (bad) => ({ region: `eu-west-1${bad}` }),
  schedulerApiAddress: (bad) => ({ schedulerApiAddress: `https://scheduler.example.com/${bad}` }),
  schedulerHost: (bad) => ({ schedulerHost: `scheduler.example.com${bad}` }),
  schedulerPort: (bad) => ({ schedulerPort: `32223${bad}` }),
  tsaPublicKey: (bad) => ({ tsaPublicKey: `${TSA_KEY}${bad}` }),
  workerKeyParameter: (bad) => ({ workerKeyParameter: `/ew/prod/key${bad}` }),
  teamId: (bad) => ({ teamId: `team${bad}` }),
  workerTag: (bad) => ({ workerTag: `fast${bad}` }),
  workerRuntime: (bad) => ({ workerRuntime: `containerd${bad}` }),
  workerDnsServer: (bad) => ({ workerDnsServer: `10.0.0.2${bad}` }),
  workerVersion: (bad) => ({ workerVersion: `7.11.2${bad}` }),
  fsVolumeType: (bad) => ({ fsVolumeType: `btrfs${bad}` }),
  useLocalDevice: (bad) => ({ useLocalDevice: `false${bad}` }),
  varLibDevice: (bad) => ({ varLibDevice: `/dev/xvdf${bad}` }),
  keepRunningOnBootFailure: (bad) => ({ keepRunningOnBootFailure: `false${bad}` }),
  buildsUseInstanceRole: (bad) => ({ buildsUseInstanceRole: `false${bad}` }),
  schedulerAllowHttp: (bad) => ({ schedulerAllowHttp: `false${bad}` }),
  ansibleVersion: (bad) => ({ ansibleVersion: `2.17.7${bad}` }),
  'extraTags (value)': (bad) => ({ extraTags: { team: `ci${bad}` } }),
  'extraTags (key)': (bad) => ({ extraTags: { [`team${bad}`]: 'ci' } }),
  securityGroupIds: (bad) => ({ securityGroupIds: [`sg-0123456789abcdef0${bad}`] }),
  associatePublicIp: (bad) => ({ associatePublicIp: `true${bad}` }),
  'workerEnvironment (value)': (bad) => ({ workerEnvironment: { CONCOURSE_LOG_LEVEL: `debug${bad}` } }),
  'workerEnvironment (name)': (bad) => ({ workerEnvironment: { [`CONCOURSE_LOG_LEVEL${bad}`]: 'debug' } }),
};

// Tag values may hold spaces, as AWS allows: they go to EC2 tags only, never to a shell.
const cases = Object.entries(KEYS).flatMap(([key, build]) =>
  Object.entries(HOSTILE)
    .filter(([what]) => !(key === 'extraTags (value)' && what === 'space'))
    .map(([what, bad]) => [key, what, build(bad)] as const),
);

describe('hostile configuration values', () => {
  test('the valid bases are accepted', () => {
    for (const build of Object.values(KEYS)) expect(problems(build(''))).toEqual([]);
  });

  test.each(cases)('%s with a %s is refused, naming the key', (key, _what, context) => {
    const found = problems(context);
    const name = key.split(' ')[0] as string;
    expect(found.length).toBeGreaterThan(0);
    for (const line of found) expect(line).toMatch(new RegExp(`^${name}(\\.|:)`));
  });
});
