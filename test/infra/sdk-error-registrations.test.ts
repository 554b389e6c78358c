import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../../infra/bundling';
import { pruneErrorRegistrations } from '../../infra/sdk-error-registrations';
import { probeErrors } from '../support/sdk-error-probe';

const ROOT = path.join(__dirname, '..', '..');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const clients = Object.keys(packageJson.dependencies).filter((name) => name.startsWith('@aws-sdk/client-'));

const MODULE = [
  'const _NFE = "NotFoundException";',
  'const _PNF = "ParameterNotFound";',
  'const _aQE = "awsQueryError";',
  'const _c = "client";',
  'const _e = "error";',
  'const _s = "smithy.ts.sdk.synthetic.com.amazonaws.sns";',
  'const n0 = "com.amazonaws.sns";',
  'import { NotFoundException, ParameterNotFound } from "../models/errors";',
  'import { SNSServiceException } from "../models/SNSServiceException";',
  'const _s_registry = new TypeRegistry(_s);',
  'export var SNSServiceException$ = [-3, _s, "SNSServiceException", 0, [], []];',
  '_s_registry.registerError(SNSServiceException$, SNSServiceException);',
  'const n0_registry = new TypeRegistry(n0);',
  'export var NotFoundException$ = [-3, n0, _NFE,',
  '    { [_aQE]: [`NotFound`, 404], [_e]: _c },',
  '    [_m],',
  '    [0]',
  '];',
  'n0_registry.registerError(NotFoundException$, NotFoundException);',
  'export var ParameterNotFound$ = [-3, n0, _PNF,',
  '    { [_aQE]: [`ParameterNotFound`, 400], [_e]: _c },',
  '    [_m],',
  '    [0]',
  '];',
  'n0_registry.registerError(ParameterNotFound$, ParameterNotFound);',
  '',
].join('\n');

describe('SDK error registrations', () => {
  test('drops an error named by its wire code, renames one with another code, keeps the base exception', () => {
    const result = pruneErrorRegistrations(MODULE);
    expect(result).toMatchObject({ dropped: 1, renamed: 1, kept: 1 });
    expect(result.source).not.toContain('registerError(ParameterNotFound$');
    expect(result.source).toContain(
      'n0_registry.registerError(NotFoundException$, __namedServiceError("NotFoundException"));',
    );
    expect(result.source).toContain('_s_registry.registerError(SNSServiceException$, SNSServiceException);');
    expect(result.source).toContain('class extends SNSServiceException');
  });

  test('leaves a module it cannot follow as it is', () => {
    const odd = MODULE.replace(
      'export var NotFoundException$ = [-3, n0, _NFE,',
      'export var NotFoundException$ = makeError(',
    );
    const result = pruneErrorRegistrations(odd);
    expect(result.source).toContain('n0_registry.registerError(NotFoundException$, NotFoundException);');
    const noBase = MODULE.replace(
      '_s_registry.registerError(SNSServiceException$, SNSServiceException);\n',
      '',
    );
    expect(pruneErrorRegistrations(noBase).source).toBe(noBase);
  });

  // Every declaration followed: a new SDK layout shows here, not as a bigger bundle nobody notices.
  test.each(clients)('follows every error registration of %s', (client) => {
    const dir = path.join(ROOT, 'node_modules', client, 'dist-es', 'schemas');
    for (const file of fs.readdirSync(dir).filter((name) => /^schemas_\d+\.js$/.test(name))) {
      const source = fs.readFileSync(path.join(dir, file), 'utf8');
      if (!source.includes('registerError(')) continue;
      const result = pruneErrorRegistrations(source);
      expect(result.kept).toBe(1);
      expect(result.source).not.toMatch(
        /registerError\(\w+\$, (?!__namedServiceError\()(?!\w+ServiceException\))/,
      );
    }
  });
});

/** Answers every call with the error of its protocol: what AWS sends for a missing resource. */
function startErrorStandIn(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      if (target.startsWith('AmazonSSM.')) {
        response.writeHead(400, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-query-error': 'ParameterNotFound;Sender',
        });
        response.end(
          JSON.stringify({ __type: 'com.amazonaws.ssm#ParameterNotFound', message: 'no such parameter' }),
        );
      } else if (body.includes('Action=GetTopicAttributes')) {
        response.writeHead(404, { 'content-type': 'text/xml' });
        response.end(
          '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
        );
      } else if (body.includes('Action=DescribeAutoScalingGroups')) {
        response.writeHead(400, { 'content-type': 'text/xml' });
        response.end(
          '<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad token</Message></Error><RequestId>r2</RequestId></ErrorResponse>',
        );
      } else {
        response.writeHead(404, {
          'content-type': 'application/json',
          'x-amzn-errortype':
            'ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.imagebuilder/',
        });
        response.end(JSON.stringify({ message: 'no such image' }));
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

test('a bundle sees every AWS error as the sources do: name, message, fault, status', async () => {
  const standIn = await startErrorStandIn();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-errors-'));
  const saved = { ...process.env };
  try {
    const env = {
      AWS_ENDPOINT_URL: standIn.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'probe',
      AWS_SECRET_ACCESS_KEY: 'probe',
      AWS_MAX_ATTEMPTS: '1',
    };
    Object.assign(process.env, env);
    const fromSources = await probeErrors();
    const entry = path.join(dir, 'entry.ts');
    fs.writeFileSync(
      entry,
      `import { probeErrors } from ${JSON.stringify(path.join(ROOT, 'test', 'support', 'sdk-error-probe'))};\nprobeErrors().then((seen) => process.stdout.write(JSON.stringify(seen)));\n`,
    );
    const outfile = path.join(dir, 'probe.js');
    await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile });
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], {
      env: { PATH: process.env.PATH, ...env },
    });
    expect(JSON.parse(stdout)).toEqual(fromSources);
    expect(fromSources.map((seen) => seen.name)).toEqual([
      'ParameterNotFound',
      'NotFoundException',
      'ValidationError',
      'ResourceNotFoundException',
    ]);
  } finally {
    process.env = saved;
    await standIn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
