import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { buildVariables, encodedBuildVariables, MIRROR_VARIABLES } from '../../infra/build-variables';
import { parseConfig } from '../../infra/config';
import { problems } from '../support/config-problems';
import { synth } from '../support/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const SHA = 'a'.repeat(64);
const MIRRORS = {
  concourse: 'https://mirror.example.com/concourse/',
  telegrafRepository: 'https://mirror.example.com/influxdata/debian',
  telegrafKey: 'https://mirror.example.com/influxdata/influxdata-archive.key',
  ssmAgent: 'https://mirror.example.com:8443/ssm',
  gems: 'https://gems.example.com',
};

const decode = (encoded: string) => JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));

describe('artifact mirrors and checksums', () => {
  test('by default the build gets the architecture only: the playbook keeps its origins', () => {
    const config = parseConfig({});
    expect(config.artifactMirrors).toEqual({});
    expect(config.concourseChecksums).toEqual({});
    expect(decode(encodedBuildVariables(config))).toEqual({ worker_architecture: 'amd64' });
  });

  test('Graviton types: the checksums are those of the arm64 tarball the build downloads', () => {
    const config = parseConfig({ instanceType: 'c7g.2xlarge', concourseChecksums: { '7.12.1': SHA } });
    expect(buildVariables(config)).toEqual({
      worker_architecture: 'arm64',
      concourse_sha256: { '7.12.1': SHA },
    });
  });

  test('each mirror and the checksum map become the playbook variables', () => {
    const config = parseConfig({ artifactMirrors: MIRRORS, concourseChecksums: { '7.11.2': SHA } });
    expect(buildVariables(config)).toEqual({
      worker_architecture: 'amd64',
      concourse_release_base: 'https://mirror.example.com/concourse',
      telegraf_apt_repository_url: 'https://mirror.example.com/influxdata/debian',
      telegraf_apt_key_url: 'https://mirror.example.com/influxdata/influxdata-archive.key',
      ssm_agent_base_url: 'https://mirror.example.com:8443/ssm',
      fluentd_gem_source: 'https://gems.example.com',
      concourse_sha256: { '7.11.2': SHA },
    });
    expect(encodedBuildVariables(config)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  test('-c values: JSON or one dotted key per mirror', () => {
    const config = parseConfig({
      'artifactMirrors.gems': 'https://gems.example.com/',
      concourseChecksums: JSON.stringify({ '7.12.0': SHA }),
    });
    expect(buildVariables(config)).toEqual({
      worker_architecture: 'amd64',
      fluentd_gem_source: 'https://gems.example.com',
      concourse_sha256: { '7.12.0': SHA },
    });
  });

  test.each([
    ['http://mirror.example.com', 'plain http'],
    ['https://user:secret@mirror.example.com', 'credentials'],
    ['https://mirror.example.com/x?token=1', 'a query'],
    ['https://mirror.example.com/x#f', 'a fragment'],
    ["https://mirror.example.com/x'$(id)'", 'quotes and a command'],
    ['https://mirror.example.com/a b', 'a space'],
    ['https://-bad.example.com', 'a bad host name'],
    ['ftp://mirror.example.com', 'another scheme'],
  ])('refuses %s (%s)', (url) => {
    expect(problems({ artifactMirrors: { gems: url } })).toEqual([
      expect.stringMatching(
        /^artifactMirrors\.gems: expected an https URL without query, fragment or credentials/,
      ),
    ]);
  });

  test('refuses unknown mirrors, bad versions and bad checksums, naming each', () => {
    expect(
      problems({
        artifactMirrors: { rubygems: 'https://gems.example.com' },
        concourseChecksums: { latest: SHA, '7.11.2': 'A'.repeat(64), '7.11.3': 'abc' },
      }),
    ).toEqual([
      expect.stringMatching(/^artifactMirrors\.rubygems: unknown key/),
      expect.stringMatching(/^concourseChecksums\.latest: expected a map of Concourse version to the sha256/),
      expect.stringMatching(/^concourseChecksums\.7\.11\.2: expected sha256 checksums of 64 lower-case hex/),
      expect.stringMatching(/^concourseChecksums\.7\.11\.3: expected sha256 checksums of 64 lower-case hex/),
    ]);
    expect(problems({ artifactMirrors: 'not json' })).toEqual([
      expect.stringMatching(/^artifactMirrors: expected an object of https mirror URLs/),
    ]);
  });

  test('every variable is one the playbook defines, and Packer maps the same names', () => {
    const defaults = fs
      .readdirSync(path.join(ROOT, 'ansible', 'roles'))
      .map((role) => path.join(ROOT, 'ansible', 'roles', role, 'defaults', 'main.yml'))
      .filter((file) => fs.existsSync(file))
      .map((file) => fs.readFileSync(file, 'utf8'))
      .join('\n');
    for (const variable of [...Object.values(MIRROR_VARIABLES), 'concourse_sha256']) {
      expect(defaults).toMatch(new RegExp(`^${variable}:`, 'm'));
    }
    const packer = fs.readFileSync(path.join(ROOT, 'packer', 'worker.pkr.hcl'), 'utf8');
    const mapped = /mirror_variables = \{([^}]*)\}/.exec(packer)?.[1] ?? '';
    const pairs = Object.fromEntries([...mapped.matchAll(/(\w+)\s*=\s*"(\w+)"/g)].map((m) => [m[1], m[2]]));
    expect(pairs).toEqual(MIRROR_VARIABLES);
  });
});

describe('the image build and the first boot get the same variables', () => {
  const context = { artifactMirrors: MIRRORS, concourseChecksums: { '7.11.2': SHA } };
  const { template, config } = synth(context);
  const encoded = encodedBuildVariables(config);

  test('the image component is given them, and decodes them for the build play', () => {
    template.hasResourceProperties('AWS::ImageBuilder::ImageRecipe', {
      Components: [{ Parameters: Match.arrayWith([{ Name: 'BuildVariables', Value: [encoded] }]) }],
    });
    const document = fs.readFileSync(path.join(ROOT, 'infra', 'image', 'worker-component.yml'), 'utf8');
    expect(document).toMatch(
      /base64 -d >"\$vars" <<'VARIABLES'\n\s*\{\{ BuildVariables \}\}\n\s*VARIABLES\n/,
    );
    expect(document).toContain('build.yml -e "concourse_version=${version}" -e "@${vars}"');
  });

  test('a change of mirrors makes a new recipe version', () => {
    const version = (t: typeof template) =>
      Object.values(t.findResources('AWS::ImageBuilder::ImageRecipe'))[0]?.Properties?.Version;
    expect(version(template)).not.toEqual(version(synth().template));
  });

  test('the user data carries them to the bootstrap, which decodes them for the build play', () => {
    const userData = JSON.stringify(
      Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0]?.Properties?.LaunchTemplateData
        ?.UserData,
    );
    expect(userData).toContain(`EW_BUILD_VARIABLES='${encoded}'`);
    const bootstrap = fs.readFileSync(path.join(ROOT, 'infra', 'userdata', 'bootstrap.sh'), 'utf8');
    expect(bootstrap).toContain('printf \'%s\' "${EW_BUILD_VARIABLES:-e30=}" | base64 -d');
    expect(bootstrap).toContain('-e "@$EW_ROOT/opt/external-worker/build-vars.json"');
  });
});
