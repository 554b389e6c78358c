import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, CLI_BUNDLE_OPTIONS } from '../../infra/bundling';
import {
  CLIENT_PACKAGE_JSON,
  EVENT_STREAMS_ERROR,
  EVENT_STREAMS_NAMESPACE,
  exportedNames,
  LAMBDA_CREDENTIALS_NAMESPACE,
  SHARED_CONFIG_LOADER_EXPORTS,
} from '../../infra/sdk-lambda-plugins';
import { synth } from '../support/stack';

const ROOT = path.join(__dirname, '..', '..');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const clients = Object.keys(packageJson.dependencies).filter((name) => name.startsWith('@aws-sdk/client-'));
const GENEROUS = 600_000;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-lambda-plugins-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function bundle(
  name: string,
  source: string,
  options: typeof BUNDLE_OPTIONS | typeof CLI_BUNDLE_OPTIONS = BUNDLE_OPTIONS,
) {
  const entry = path.join(dir, `${name}.ts`);
  fs.writeFileSync(entry, source);
  const outfile = path.join(dir, `${name}.js`);
  const result = await build({ ...options, entryPoints: [entry], outfile, metafile: true });
  // The files that reach the bundle: esbuild also lists those it read and tree-shook away.
  const [output] = Object.values(result.metafile.outputs);
  const inputs = Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([file]) => file);
  return { outfile, inputs, read: Object.keys(result.metafile.inputs) };
}

const sdk = (client: string) => JSON.stringify(path.join(ROOT, 'node_modules', client));

test(
  'a bundle takes credentials from the environment alone, and fails without them',
  async () => {
    const { outfile, inputs, read } = await bundle(
      'credentials',
      `import { SSMClient } from ${sdk('@aws-sdk/client-ssm')};
new SSMClient({}).config.credentials().then(
  (c) => process.stdout.write(JSON.stringify({ key: c.accessKeyId, token: c.sessionToken })),
  (e) => process.stdout.write(JSON.stringify({ error: e.name })),
);\n`,
    );
    // Read in place of the chain (a re-export: no bytes of its own in the bundle).
    expect(read.filter((input) => input.startsWith(`${LAMBDA_CREDENTIALS_NAMESPACE}:`))).toEqual([
      expect.stringMatching(/credential-provider-node[\\/]dist-es[\\/]index\.js$/),
    ]);
    expect(inputs).toContain('node_modules/@aws-sdk/credential-provider-env/dist-es/fromEnv.js');
    for (const chain of [
      'credential-provider-ini',
      'credential-provider-sso',
      'credential-provider-process',
      'credential-provider-web-identity',
      'credential-provider-imds',
      'nested-clients',
    ])
      expect(inputs.filter((input) => input.includes(chain))).toEqual([]);
    const run = async (env: Record<string, string>) =>
      JSON.parse(
        (
          await promisify(execFile)(process.execPath, [outfile], {
            env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...env },
          })
        ).stdout,
      );
    // The variables Lambda sets from the execution role.
    expect(
      await run({
        AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
      }),
    ).toEqual({ key: 'ASIAEXAMPLE', token: 'token' });
    // No fallback to files or instance metadata: a missing variable is an error at once.
    expect(await run({ HOME: dir })).toEqual({ error: 'CredentialsProviderError' });
  },
  GENEROUS,
);

test(
  'event streams are not bundled, and the stand-in fails by name',
  async () => {
    const { outfile, inputs } = await bundle(
      'streams',
      `import { SSMClient, GetParameterCommand } from ${sdk('@aws-sdk/client-ssm')};
export const used = [SSMClient, GetParameterCommand];
import('@smithy/core/event-streams').then((m) => new m.EventStreamSerde({})).catch((e) => process.stdout.write(e.name));\n`,
    );
    expect(inputs).toContain(`${EVENT_STREAMS_NAMESPACE}:event-streams`);
    expect(inputs.filter((input) => input.includes('submodules/event-streams'))).toEqual([]);
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
      env: { PATH: process.env.PATH },
    });
    expect(stdout).toBe(EVENT_STREAMS_ERROR);
  },
  GENEROUS,
);

test(
  'a client with streaming members cannot be bundled',
  async () => {
    await expect(
      bundle(
        's3',
        `import { S3Client, GetObjectCommand } from ${sdk('@aws-sdk/client-s3')};\nexport const used = [S3Client, GetObjectCommand];\n`,
      ),
    ).rejects.toThrow(/declares streaming members, and the Lambda bundles carry no event-stream support/);
  },
  GENEROUS,
);

test('the stack’s clients have no streaming member', () => {
  for (const client of clients) {
    if (
      client === '@aws-sdk/client-s3' ||
      client === '@aws-sdk/client-lambda' ||
      client === '@aws-sdk/client-cloudwatch-logs'
    )
      continue;
    const dir = path.join(ROOT, 'node_modules', client, 'dist-es', 'schemas');
    for (const file of fs.readdirSync(dir))
      expect(fs.readFileSync(path.join(dir, file), 'utf8')).not.toMatch(/= "streaming";$/m);
  }
});

test(
  'a bundle carries only the version of each client’s manifest, the one field the clients read',
  async () => {
    for (const client of clients) {
      const dist = path.join(ROOT, 'node_modules', client, 'dist-es');
      const reads = fs
        .readdirSync(dist)
        .filter((file) => file.endsWith('.js'))
        .flatMap((file) =>
          [...fs.readFileSync(path.join(dist, file), 'utf8').matchAll(/packageInfo\.(\w+)/g)].map(
            (m) => m[1],
          ),
        );
      expect(new Set(reads)).toEqual(new Set(['version']));
    }
    const { outfile, inputs } = await bundle(
      'version',
      `import { SNSClient } from ${sdk('@aws-sdk/client-sns')};\nexport const client = new SNSClient({});\n`,
    );
    expect(inputs.some((input) => CLIENT_PACKAGE_JSON.test(input))).toBe(true);
    const { version } = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'node_modules/@aws-sdk/client-sns/package.json'), 'utf8'),
    );
    const text = fs.readFileSync(outfile, 'utf8');
    expect(text).toContain(JSON.stringify(version));
    expect(text).not.toContain('"devDependencies"');
  },
  GENEROUS,
);

test(
  'the operator CLI’s bundle keeps the whole credential chain, event streams and error classes',
  async () => {
    const { inputs } = await bundle(
      'cli',
      `import { CloudWatchLogsClient, StartLiveTailCommand } from ${sdk('@aws-sdk/client-cloudwatch-logs')};
import { ParameterNotFound } from ${sdk('@aws-sdk/client-ssm')};
export const used = [new CloudWatchLogsClient({}), StartLiveTailCommand, ParameterNotFound];\n`,
      CLI_BUNDLE_OPTIONS,
    );
    expect(inputs.some((input) => input.includes('credential-provider-ini'))).toBe(true);
    expect(inputs.some((input) => input.includes('credential-provider-sso'))).toBe(true);
    expect(inputs.some((input) => input.includes('submodules/event-streams'))).toBe(true);
    expect(inputs).toContain('node_modules/@aws-sdk/client-ssm/dist-es/models/errors.js');
  },
  GENEROUS,
);

describe('shared config files', () => {
  const loader = path.join(
    ROOT,
    'node_modules/@smithy/core/dist-es/submodules/config/shared-ini-file-loader/loadSharedConfigFiles.js',
  );

  test('the stand-in exports what the SDK’s loader exports', () => {
    expect(exportedNames(fs.readFileSync(loader, 'utf8'))).toEqual([...SHARED_CONFIG_LOADER_EXPORTS].sort());
    expect(
      exportedNames('export { A, B as C } from "./x";\nexport const d = 1;\nexport async function e() {}'),
    ).toEqual(['A', 'C', 'd', 'e']);
  });

  test(
    'a bundle reads no file for its settings, and keeps node:fs/promises and the INI parser out',
    async () => {
      const { outfile, inputs } = await bundle(
        'config-files',
        `import { SSMClient } from ${sdk('@aws-sdk/client-ssm')};
const client = new SSMClient({});
Promise.all([client.config.region(), client.config.useFipsEndpoint(), client.config.maxAttempts()]).then((values) =>
  process.stdout.write(JSON.stringify(values)),
);\n`,
      );
      expect(
        inputs.filter((input) => /shared-ini-file-loader[\\/](readFile|parseIni)\.js$/.test(input)),
      ).toEqual([]);
      expect(fs.readFileSync(outfile, 'utf8')).not.toContain('node:fs/promises');
      // A config file that would say otherwise is not read: the environment and the defaults decide.
      const config = path.join(dir, 'aws-config');
      fs.writeFileSync(config, '[default]\nregion = us-west-2\nuse_fips_endpoint = true\nmax_attempts = 9\n');
      const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_CONFIG_FILE: config },
      });
      expect(JSON.parse(stdout)).toEqual(['eu-west-1', false, 3]);
    },
    GENEROUS,
  );

  test('the stack gives its functions no layer and none of the variables that point the SDK at files', () => {
    const { template } = synth();
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Layers?: unknown; Environment?: { Variables?: Record<string, unknown> } };
    }>;
    expect(functions.length).toBeGreaterThan(5);
    for (const fn of functions) {
      expect(fn.Properties.Layers).toBeUndefined();
      const variables = Object.keys(fn.Properties.Environment?.Variables ?? {});
      for (const name of ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE'])
        expect(variables).not.toContain(name);
    }
  });
});
