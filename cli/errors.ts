/**
 * Exit codes of `external-worker`, for scripts (also in the README, "Operating the fleet"). An
 * expected failure is one of the errors below: one line on stderr, its code, no stack trace.
 */
export const EXIT = {
  ok: 0,
  /** Anything unexpected: an AWS error the CLI does not anticipate, a bug. */
  unexpected: 1,
  /** Unknown command or option, missing argument. */
  usage: 2,
  /** The stack does not exist, or is not an external-worker stack of this version. */
  stackNotFound: 3,
  /** The instance named is not one this command can act on (not in the stack, not kept…). */
  notFound: 4,
  /** The operation ran and failed: a rollout rolled back, a destroy failed, a drain did not end. */
  failed: 5,
  /** Destroy refused: the name typed is not the stack's. */
  notConfirmed: 6,
  /** AWS refused the credentials or the call (no region, no credentials, access denied). */
  aws: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An expected failure: its message is all the user sees. */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;
}

export class UsageError extends CliError {
  override readonly name = 'UsageError';
  readonly exitCode = EXIT.usage;
}

export class StackNotFoundError extends CliError {
  override readonly name = 'StackNotFoundError';
  readonly exitCode = EXIT.stackNotFound;
}

export class NotFoundError extends CliError {
  override readonly name = 'NotFoundError';
  readonly exitCode = EXIT.notFound;
}

export class OperationFailedError extends CliError {
  override readonly name = 'OperationFailedError';
  readonly exitCode = EXIT.failed;
}

export class NotConfirmedError extends CliError {
  override readonly name = 'NotConfirmedError';
  readonly exitCode = EXIT.notConfirmed;
}

export class AwsAccessError extends CliError {
  override readonly name = 'AwsAccessError';
  readonly exitCode = EXIT.aws;
}

/** AWS SDK errors a user can fix (credentials, region, permissions), as one clear line. */
const ACCESS_ERRORS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthFailure',
  'SignatureDoesNotMatch',
]);

/** The error as the CLI reports it: expected errors keep their code; AWS access errors become one. */
export function classify(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const name = (error as { name?: string })?.name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError')
    return {
      message: `no AWS credentials: ${firstLine(message)} (set AWS_PROFILE, or log in with aws sso login)`,
      exitCode: EXIT.aws,
    };
  if (ACCESS_ERRORS.has(name))
    return { message: `AWS refused the request (${name}): ${firstLine(message)}`, exitCode: EXIT.aws };
  if (/region is missing/i.test(message))
    return { message: 'no AWS region: set AWS_REGION (or a region in your AWS profile)', exitCode: EXIT.aws };
  return { message: `${name || 'Error'}: ${firstLine(message)}`, exitCode: EXIT.unexpected };
}

const firstLine = (text: string) => text.split('\n')[0] ?? '';
