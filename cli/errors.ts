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

/** An expected failure class named `name` (a literal, for matching), exiting with `exitCode`. */
function expected<Name extends string>(name: Name, exitCode: ExitCode) {
  return class extends CliError {
    override readonly name: Name = name;
    readonly exitCode = exitCode;
  };
}

export class UsageError extends expected('UsageError', EXIT.usage) {}
export class StackNotFoundError extends expected('StackNotFoundError', EXIT.stackNotFound) {}
export class NotFoundError extends expected('NotFoundError', EXIT.notFound) {}
export class OperationFailedError extends expected('OperationFailedError', EXIT.failed) {}
export class NotConfirmedError extends expected('NotConfirmedError', EXIT.notConfirmed) {}
export class AwsAccessError extends expected('AwsAccessError', EXIT.aws) {}

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
