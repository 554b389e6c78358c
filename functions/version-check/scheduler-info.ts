import { CONCOURSE_VERSION_PATTERN } from '../lib/concourse-version';
import { VERSION_CHECK_FAILURE, type VersionCheckFailure } from '../lib/metric-names';

export interface FetchLimits {
  /** Whole exchange, redirects and body included. */
  timeoutMs: number;
  /** An answer longer than this is not the small JSON document /api/v1/info returns. */
  maxBodyBytes: number;
  maxRedirects: number;
}

export const DEFAULT_LIMITS: FetchLimits = { timeoutMs: 5000, maxBodyBytes: 64 * 1024, maxRedirects: 3 };

export type SchedulerAnswer =
  | { ok: true; version: string }
  | { ok: false; reason: VersionCheckFailure; detail: string };

const bad = (reason: VersionCheckFailure, detail: string): SchedulerAnswer => ({ ok: false, reason, detail });

class AnswerError extends Error {
  override readonly name = 'AnswerError';
  constructor(
    readonly reason: VersionCheckFailure,
    detail: string,
  ) {
    super(detail);
  }
}

/** Follows at most `maxRedirects` http(s) redirects by hand, so that a loop ends as a clean failure. */
async function get(url: string, limits: FetchLimits, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await fetch(current, {
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json' },
    });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel();
    if (hop >= limits.maxRedirects) {
      throw new AnswerError(
        VERSION_CHECK_FAILURE.redirectLoop,
        `more than ${limits.maxRedirects} redirects (last to ${location})`,
      );
    }
    const next = new URL(location, current);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw new AnswerError(VERSION_CHECK_FAILURE.redirectLoop, `redirect to ${next.protocol} refused`);
    }
    current = next.toString();
  }
}

/** Reads the body as text, giving up as soon as it passes `maxBytes` instead of buffering it all. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new AnswerError(VERSION_CHECK_FAILURE.bodyTooLarge, `body of ${declared} bytes announced`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new AnswerError(VERSION_CHECK_FAILURE.bodyTooLarge, `body longer than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function versionOf(text: string): SchedulerAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return bad(VERSION_CHECK_FAILURE.notJson, `body is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const version =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).version : undefined;
  if (version === undefined || version === null) return bad(VERSION_CHECK_FAILURE.noVersion, 'no version');
  if (typeof version !== 'string' || version.length > 64 || !CONCOURSE_VERSION_PATTERN.test(version)) {
    return bad(
      VERSION_CHECK_FAILURE.malformedVersion,
      `version ${JSON.stringify(version).slice(0, 80)} is not a Concourse version`,
    );
  }
  return { ok: true, version };
}

/**
 * The Concourse version the scheduler runs, from `<address>/api/v1/info`. Never throws: any
 * answer that is not a small JSON object with a well-formed `version` is a failure with its reason.
 */
export async function readSchedulerVersion(
  address: string,
  limits: FetchLimits = DEFAULT_LIMITS,
): Promise<SchedulerAnswer> {
  const url = `${address.replace(/\/+$/, '')}/api/v1/info`;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await get(url, limits, signal);
    if (!response.ok) {
      await response.body?.cancel();
      return bad(VERSION_CHECK_FAILURE.httpStatus, `HTTP ${response.status} from ${url}`);
    }
    return versionOf(await readCapped(response, limits.maxBodyBytes));
  } catch (error) {
    if (error instanceof AnswerError) return bad(error.reason, error.message);
    if (signal.aborted) return bad(VERSION_CHECK_FAILURE.timeout, `no answer within ${limits.timeoutMs} ms`);
    const cause = error instanceof Error ? (error.cause ?? error) : error;
    return bad(
      VERSION_CHECK_FAILURE.unreachable,
      `${url}: ${cause instanceof Error ? cause.message : cause}`,
    );
  }
}
