import { createHash } from 'node:crypto';
import {
  GetImageCommand,
  type ImagebuilderClient,
  paginateListImagePipelineImages,
} from '@aws-sdk/client-imagebuilder';
import { isAwsError } from '../lib/errors';
import type { VersionState } from './state';

/**
 * Same version, attempt and previous build → same token: a duplicate invocation starts nothing new.
 * A retry (next attempt) or a return to a version built long ago (other previous build) is new.
 */
export function clientToken(version: string, attempt: number, previousBuild: string | undefined): string {
  return createHash('sha256')
    .update(`${version}\n${attempt}\n${previousBuild ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

/** Image Builder's view of a build; undefined when the image no longer exists. */
export async function imageStatus(imagebuilder: ImagebuilderClient, arn: string) {
  try {
    const { image } = await imagebuilder.send(new GetImageCommand({ imageBuildVersionArn: arn }));
    return { status: image?.state?.status, reason: image?.state?.reason, createdAt: image?.dateCreated };
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/** A build of the pipeline created after the failed one: an operator (or a deploy) started it. */
export async function newerBuild(imagebuilder: ImagebuilderClient, pipelineArn: string, after: VersionState) {
  const since = Date.parse(after.buildCreatedAt ?? after.startedAt);
  let newest: { arn: string; created: number } | undefined;
  for await (const page of paginateListImagePipelineImages(
    { client: imagebuilder },
    { imagePipelineArn: pipelineArn },
  )) {
    for (const image of page.imageSummaryList ?? []) {
      const created = Date.parse(image.dateCreated ?? '');
      if (!image.arn || image.arn === after.imageBuildVersionArn || !(created > since)) continue;
      if (!newest || created > newest.created) newest = { arn: image.arn, created };
    }
  }
  return newest;
}
