import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { zipDirectory } from './zip';

/** The file assets of a synthesized stack, as its asset manifest (`<stack>.assets.json`) lists them. */
interface AssetManifest {
  files?: Record<
    string,
    {
      source: { path?: string; packaging?: 'file' | 'zip' };
      destinations: Record<string, { bucketName: string; objectKey: string }>;
    }
  >;
  dockerImages?: Record<string, unknown>;
}

export interface PublishInput {
  /** The cloud assembly folder (cdk.out) the template and its assets were synthesized into. */
  assemblyDir: string;
  /** The asset manifest, relative to assemblyDir. */
  assetManifest: string;
  /** The one-click template: published beside its assets. */
  template: string;
  stackName: string;
  bucketPrefix: string;
  regions: string[];
  /** An S3 client for a region: the buckets are regional, as their names say. */
  s3: (region: string) => S3Client;
  /** Progress, one line at a time. */
  log?: (line: string) => void;
}

export interface PublishedRegion {
  region: string;
  bucket: string;
  templateUrl: string;
  /** Opens the CloudFormation console on the template, ready to fill its parameters. */
  launchUrl: string;
  uploaded: number;
  alreadyThere: number;
}

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/** `<prefix>-<region>`: the bucket the template names through `${AWS::Region}`. */
export const assetBucket = (prefix: string, region: string) => `${prefix}-${region}`;

/**
 * Uploads every file asset of the template, and the template itself, to `<prefix>-<region>` of each
 * region. An object already there under its content hash is left as it is: publishing again, or
 * another version that shares assets, uploads only what changed.
 */
export async function publishOneClick(input: PublishInput): Promise<PublishedRegion[]> {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(input.assemblyDir, input.assetManifest), 'utf8'),
  ) as AssetManifest;
  if (Object.keys(manifest.dockerImages ?? {}).length > 0) {
    throw new PublishError(
      'the template has container image assets: a one-click template holds file assets only',
    );
  }
  const assets = Object.entries(manifest.files ?? {}).map(([hash, asset]) => {
    const keys = new Set(Object.values(asset.destinations).map((destination) => destination.objectKey));
    const [objectKey] = keys;
    if (!asset.source.path || !objectKey || keys.size !== 1) {
      throw new PublishError(`asset ${hash}: expected one source path and one object key`);
    }
    return {
      hash,
      source: path.resolve(input.assemblyDir, asset.source.path),
      zip: asset.source.packaging === 'zip',
      objectKey,
    };
  });
  const template = Buffer.from(input.template, 'utf8');
  const templateKey = `templates/${input.stackName}-${createHash('sha256').update(template).digest('hex').slice(0, 16)}.template.json`;

  const published: PublishedRegion[] = [];
  for (const region of input.regions) {
    const bucket = assetBucket(input.bucketPrefix, region);
    const s3 = input.s3(region);
    let uploaded = 0;
    let alreadyThere = 0;
    const put = async (key: string, body: () => Buffer, contentType: string) => {
      if (await exists(s3, bucket, key, region)) {
        alreadyThere++;
        return;
      }
      try {
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body(), ContentType: contentType }),
        );
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchBucket') {
          throw new PublishError(`bucket ${bucket} does not exist in ${region}: create it there first`);
        }
        throw error;
      }
      uploaded++;
    };
    for (const asset of assets) {
      await put(
        asset.objectKey,
        () => (asset.zip ? zipDirectory(asset.source) : fs.readFileSync(asset.source)),
        asset.zip ? 'application/zip' : 'application/octet-stream',
      );
    }
    await put(templateKey, () => template, 'application/json');
    const templateUrl = `https://${bucket}.s3.${region}.amazonaws.com/${templateKey}`;
    const launchUrl = `https://console.aws.amazon.com/cloudformation/home?region=${region}#/stacks/create/review?templateURL=${encodeURIComponent(templateUrl)}&stackName=${input.stackName}`;
    input.log?.(`${region}: ${uploaded} uploaded, ${alreadyThere} already in s3://${bucket}`);
    published.push({ region, bucket, templateUrl, launchUrl, uploaded, alreadyThere });
  }
  return published;
}

async function exists(s3: S3Client, bucket: string, key: string, region: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const name = (error as { name?: string }).name;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name === 'NotFound' || name === 'NoSuchKey') return false;
    // HeadObject has no body: a missing bucket is a bare 404 too, told apart by the next PutObject.
    if (status === 404) return false;
    if (name === 'NoSuchBucket' || status === 301) {
      throw new PublishError(`bucket ${bucket} does not exist in ${region}: create it there first`);
    }
    throw error;
  }
}
