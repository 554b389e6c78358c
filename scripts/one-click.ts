/**
 * `npm run one-click -- --bucket-prefix NAME [--regions eu-west-1,us-east-1] [-c key=value …]`
 *
 * Synthesizes the one-click template into cdk.out/one-click/ and, given regions, publishes it with
 * its assets to the buckets `<NAME>-<region>` (which must exist), printing each region's console
 * launch link. Credentials come from the usual AWS environment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../infra/config';
import { PublishError, publishOneClick } from '../infra/one-click/publish';
import { synthesizeOneClick } from '../infra/one-click/template';

const USAGE =
  'usage: npm run one-click -- --bucket-prefix NAME [--regions REGION,…] [-c key=value …] [--out DIR]';

interface Arguments {
  bucketPrefix: string;
  regions: string[];
  context: Record<string, string>;
  out: string;
}

function parseArguments(argv: string[]): Arguments {
  const args: Partial<Arguments> & { context: Record<string, string> } = { context: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    i++;
    if (flag === '--bucket-prefix') args.bucketPrefix = value;
    else if (flag === '--regions') args.regions = value.split(',').map((region) => region.trim());
    else if (flag === '--out') args.out = value;
    else if (flag === '-c' || flag === '--context') {
      const eq = value.indexOf('=');
      if (eq < 1) throw new UsageError(`-c expects key=value, given ${value}`);
      args.context[value.slice(0, eq)] = value.slice(eq + 1);
    } else throw new UsageError(`unknown option ${flag}`);
  }
  if (!args.bucketPrefix) throw new UsageError('--bucket-prefix is required');
  return {
    bucketPrefix: args.bucketPrefix,
    regions: args.regions ?? [],
    context: args.context,
    out: args.out ?? path.join('cdk.out', 'one-click'),
  };
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const cdkJson = JSON.parse(fs.readFileSync('cdk.json', 'utf8')) as { context?: Record<string, unknown> };
  const oneClick = synthesizeOneClick({
    bucketPrefix: args.bucketPrefix,
    context: { ...cdkJson.context, ...args.context },
    outdir: args.out,
  });
  const templateText = `${JSON.stringify(oneClick.template, null, 1)}\n`;
  const templateFile = path.join(args.out, 'one-click.template.json');
  fs.writeFileSync(templateFile, templateText);
  const parameters = Object.keys(oneClick.template.Parameters);
  process.stdout.write(
    `one-click template of ${oneClick.config.stackName}: ${templateFile}\n  parameters: ${parameters.join(', ')}\n  assets in s3://${args.bucketPrefix}-<region>\n`,
  );
  if (args.regions.length === 0) return;
  const published = await publishOneClick({
    assemblyDir: oneClick.assemblyDir,
    assetManifest: oneClick.assetManifest,
    template: templateText,
    stackName: oneClick.config.stackName,
    bucketPrefix: args.bucketPrefix,
    regions: args.regions,
    s3: (region) => new S3Client({ region }),
    log: (line) => process.stdout.write(`  ${line}\n`),
  });
  for (const region of published) process.stdout.write(`launch in ${region.region}: ${region.launchUrl}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
  else if (error instanceof ConfigError || error instanceof PublishError)
    process.stderr.write(`${error.message}\n`);
  else throw error;
  process.exit(2);
});
