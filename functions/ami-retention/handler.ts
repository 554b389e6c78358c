import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { autoscaling } from '../lib/aws/autoscaling';
import { ec2 } from '../lib/aws/ec2';
import { imagebuilder } from '../lib/aws/imagebuilder';
import { ssm } from '../lib/aws/ssm';
import { LOG_RECORD } from '../lib/contract';
import { envVar, readEnv } from '../lib/env';
import { lambdaHandler } from '../lib/handler';
import { logger } from '../lib/observability';
import { parseInput } from '../lib/parse';
import { applyRetention } from './retention';

const env = readEnv({
  STACK_NAME: envVar.text(),
  LAUNCH_TEMPLATE_ID: envVar.launchTemplateId(),
  GROUP_NAME: envVar.text(),
  AMI_RETENTION: envVar.positiveInt(),
  CURRENT_AMI_PARAMETER: envVar.parameterName(),
  PINNED_AMI_ID: envVar.optionalText(),
  EC2_REQUEST_SHARE: envVar.optionalShare(),
});

/**
 * From the rollout (after a success), the daily schedule (`{"source": "schedule"}`) or an operator.
 * Strict: a misspelt key (`dryrun`) is an error, never a real run that was meant to be a dry run.
 */
const retentionInput = z.strictObject({
  source: z.optional(z.literal('schedule')),
  dryRun: z.optional(z.boolean()),
  protectNewerThan: z.optional(z.iso.datetime({ offset: true })),
  protectAmis: z.optional(z.array(z.string().check(z.regex(/^ami-[0-9a-f]+$/)))),
});

const RETENTION_INPUT_FORM =
  '{"dryRun"?: true|false, "protectNewerThan"?: "<ISO 8601 date-time>", "protectAmis"?: ["ami-…"], "source"?: "schedule"}';

/** Deletes the launch template versions and AMIs of the stack nothing needs any more (see retention.ts). */
export const handler = lambdaHandler(async (rawEvent: unknown, _context: Context) => {
  const input = parseInput(retentionInput, rawEvent ?? {}, 'retention input', RETENTION_INPUT_FORM);
  logger.appendKeys({ stack: env.STACK_NAME });
  const result = await applyRetention(
    { ec2, autoscaling, ssm, imagebuilder },
    {
      stackName: env.STACK_NAME,
      launchTemplateId: env.LAUNCH_TEMPLATE_ID,
      groupName: env.GROUP_NAME,
      keep: env.AMI_RETENTION,
      currentAmiParameter: env.CURRENT_AMI_PARAMETER,
      pinnedAmiId: env.PINNED_AMI_ID || undefined,
      dryRun: input.dryRun ?? false,
      protectNewerThan: input.protectNewerThan ? new Date(input.protectNewerThan) : undefined,
      protectAmis: input.protectAmis ?? [],
      requestShare: env.EC2_REQUEST_SHARE,
    },
  );
  // The counts are fields of the record (the dashboard and the CLI read them), not metrics.
  logger.info(LOG_RECORD.retentionDone, {
    dryRun: result.dryRun,
    // Counts of a real run only, so that summing them over the records counts no dry run.
    ...(result.dryRun
      ? {}
      : {
          amisDeleted: result.deleted.length,
          snapshotsDeleted: result.deleted.reduce(
            (sum, d) => sum + d.snapshots.length,
            result.sweptSnapshots.length,
          ),
          versionsDeleted: result.prunedVersions.length,
        }),
    kept: result.kept.length,
    deleted: result.deleted.map((d) => d.imageId),
    keptVersions: result.keptVersions.length,
    prunedVersions: result.prunedVersions.map((v) => v.version),
    sweptSnapshots: result.sweptSnapshots,
  });
  return result;
});
