import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { logger } from '../lib/observability';
import { readParameter } from '../lib/parameters';

/**
 * What the version check remembers between polls, as JSON in one SSM parameter of the stack.
 * It is written only after a build has started, so it never names a version that is not building.
 */
export const versionState = z.object({
  /** Concourse version of the last build this check started. */
  version: z.string(),
  /** 1 for the first build of `version`, +1 for each retry after a failure. */
  attempt: z.number(),
  /** The Image Builder image (build version ARN) of that build. */
  imageBuildVersionArn: z.string(),
  startedAt: z.string(),
  /** Last observed outcome of that build. */
  build: z.enum(['building', 'available', 'failed']),
  /** When Image Builder created that build (its own clock), to recognise builds started after it. */
  buildCreatedAt: z.optional(z.string()),
  /** Failed builds of `version` in a row. */
  failures: z.number(),
  lastFailureAt: z.optional(z.string()),
  /** The "retries exhausted" notification went out for `version`. */
  notified: z.boolean(),
});
export type VersionState = z.infer<typeof versionState>;

/** The recorded state; none when the parameter is absent, or unreadable (then it is rebuilt). */
export async function readState(ssm: SSMClient, name: string): Promise<VersionState | undefined> {
  const raw = await readParameter(ssm, name);
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = versionState.safeParse(json);
  if (parsed.success) return parsed.data;
  logger.warn('version state unreadable, starting afresh', { parameter: name });
  return undefined;
}

export async function writeState(ssm: SSMClient, name: string, state: VersionState): Promise<void> {
  await writeParameter(ssm, name, JSON.stringify(state));
}

export async function writeParameter(ssm: SSMClient, name: string, value: string): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
}
