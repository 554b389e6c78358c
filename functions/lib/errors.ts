/**
 * Every error a function throws is one of these. `name` is a string literal so that it survives
 * minification and Step Functions can match it in Retry and Catch.
 */

/** A condition that may clear by itself: the caller (Step Functions, async Lambda) should retry. */
export abstract class RetryableError extends Error {
  readonly retryable = true;
}

/** Retrying cannot help: the input, the configuration or the world is not as required. */
export abstract class TerminalError extends Error {
  readonly retryable = false;
}

/** An event or task input that does not have the expected shape. Nothing was changed. */
export class InvalidInputError extends TerminalError {
  override readonly name = 'InvalidInputError';
}

/** An environment variable is missing or malformed: the function cannot start. */
export class ConfigurationError extends TerminalError {
  override readonly name = 'ConfigurationError';
}

/** A remote service answered badly or not at all; the next attempt may succeed. */
export class UpstreamError extends RetryableError {
  override readonly name = 'UpstreamError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether `error` is the AWS error `code`. By name, never `instanceof`: in the deployed bundles an
 * error whose code is its shape name arrives as the service's base exception named by the code
 * (the SDK's answer to a code it has no class registered for), not as an instance of its class.
 */
export function isAwsError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === code;
}
