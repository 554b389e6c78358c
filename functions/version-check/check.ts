import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { type ImagebuilderClient, StartImagePipelineExecutionCommand } from '@aws-sdk/client-imagebuilder';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { LOG_RECORD } from '../lib/contract';
import { errorMessage, UpstreamError } from '../lib/errors';
import { type AlarmedMetric, METRIC } from '../lib/metric-names';
import { logger, metrics } from '../lib/observability';
import { fleetImage, imageBuild } from './fleet-version';
import { clientToken, imageStatus, newerBuild } from './image-builds';
import { notifyExhausted } from './notify';
import { DEFAULT_LIMITS, type FetchLimits, readSchedulerVersion } from './scheduler-info';
import { readState, type VersionState, writeParameter, writeState } from './state';

/** Failed builds in a row after which a version is no longer built automatically. */
export const MAX_FAILURES = 3;
/** Least time between a failed build and the next attempt for the same version. */
export const RETRY_INTERVAL_MS = 60 * 60 * 1000;

export interface VersionCheckClients {
  ssm: SSMClient;
  imagebuilder: ImagebuilderClient;
  sns: SNSClient;
  ec2: EC2Client;
}

export interface VersionCheckOptions {
  schedulerApiAddress: string;
  stateParameter: string;
  /** Read by the build component: the Concourse version to install. */
  buildVersionParameter: string;
  /** Written by the rollout: the AMI the fleet runs. */
  currentAmiParameter: string;
  imagePipelineArn: string;
  topicArn: string;
  /** Pinned Concourse version: built instead of the scheduler's. */
  workerVersion?: string;
  limits?: Partial<FetchLimits>;
  /** Names the stack in notifications. */
  stackName?: string;
  now?: Date;
}

export type VersionCheckOutcome =
  | { action: 'bad-answer'; reason: string }
  | { action: 'started'; version: string; attempt: number; imageBuildVersionArn: string }
  | { action: 'building' | 'built' | 'unchanged' | 'waiting' | 'stopped' | 'adopted'; version: string };

const FINISHED_OK = new Set(['AVAILABLE', 'DEPRECATED', 'DISABLED']);
const FINISHED_BAD = new Set(['FAILED', 'CANCELLED']);

const count = (name: AlarmedMetric, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);

/**
 * One poll: read the scheduler's version, start an image build when the version to run changed,
 * follow the recorded build, retry a failed one at most hourly and give up after MAX_FAILURES.
 * Every poll counts the fleet's lag, whatever its outcome (see countFleetLag).
 */
export async function checkVersion(
  clients: VersionCheckClients,
  options: VersionCheckOptions,
): Promise<VersionCheckOutcome> {
  const lag: FleetLag = { current: false };
  try {
    return await poll(clients, options, lag);
  } finally {
    // 1 unless this poll proved the fleet runs the version it should: a bad answer, a failed
    // read or a build that did not start keep the lag counting instead of resetting the alarm.
    count(METRIC.fleetVersionBehind, lag.current ? 0 : 1);
    if (lag.fleet === undefined) lag.fleet = await fleetLabel(clients, options);
    // What a person reads (versions, answers) is a log record the dashboard queries, not a
    // billed metric: the scheduler's version, the last build's, the fleet's.
    logger.info(LOG_RECORD.versionChecked, {
      scheduler: lag.scheduler ?? null,
      answer: lag.answer ?? 'none',
      built: lag.built ?? null,
      build: lag.build ?? null,
      fleet: lag.fleet ?? null,
      behind: !lag.current,
    });
  }
}

/** What one poll found, for the alarm's count and the poll's record. */
interface FleetLag {
  current: boolean;
  /** The scheduler's version, when it answered with one. */
  scheduler?: string;
  /** `ok`, or why the answer was unusable. */
  answer?: string;
  /** Concourse version of the last build started, and that build's state. */
  built?: string;
  build?: VersionState['build'];
  /** What the fleet runs: the built version when it runs that build, else its image build (`1.0.0/4`). */
  fleet?: string;
}

async function poll(
  clients: VersionCheckClients,
  options: VersionCheckOptions,
  lag: FleetLag,
): Promise<VersionCheckOutcome> {
  const now = options.now ?? new Date();
  const answer = await readSchedulerVersion(options.schedulerApiAddress, {
    ...DEFAULT_LIMITS,
    ...options.limits,
  });
  lag.answer = answer.ok ? 'ok' : answer.reason;
  if (answer.ok) lag.scheduler = answer.version;
  if (!answer.ok) {
    logger.warn(`scheduler answer rejected (${answer.reason}): ${answer.detail}; nothing changed`, {
      reason: answer.reason,
      address: options.schedulerApiAddress,
    });
    // Once per stack, what the alarm watches; the reason is in the log record above (a dimension
    // per reason would be one more billed metric each that no alarm reads).
    count(METRIC.versionCheckFailed);
    // A pinned version does not depend on the answer: the build it needs still proceeds.
    if (!options.workerVersion) {
      // Measured against the last version the scheduler gave: no answer changes what is due.
      const state = await readState(clients.ssm, options.stateParameter);
      recordBuild(lag, state);
      if (state?.build === 'available') await countFleetLag(clients, options, state, lag);
      return { action: 'bad-answer', reason: answer.reason };
    }
  }

  const state = await readState(clients.ssm, options.stateParameter);
  recordBuild(lag, state);
  if (answer.ok) {
    if (options.workerVersion && answer.version !== options.workerVersion) {
      logger.warn('scheduler runs another Concourse version than the pinned one; not rebuilding', {
        scheduler: answer.version,
        pinned: options.workerVersion,
      });
    }
  }
  const target = options.workerVersion ?? (answer.ok ? answer.version : undefined);
  if (target === undefined) return { action: 'bad-answer', reason: 'no version' };

  let outcome: VersionCheckOutcome;
  if (state?.version !== target) {
    logger.info('new Concourse version to build', { version: target, previous: state?.version });
    outcome = await startBuild(clients, options, now, {
      version: target,
      attempt: 1,
      previousBuild: state?.imageBuildVersionArn,
      failures: 0,
    });
  } else {
    outcome = await followBuild(clients, options, now, state);
  }
  if (state && (outcome.action === 'built' || outcome.action === 'unchanged')) {
    await countFleetLag(clients, options, state, lag);
  }
  if (outcome.action === 'started') {
    lag.built = outcome.version;
    lag.build = 'building';
  } else if (outcome.action === 'built') lag.build = 'available';
  else if (outcome.action === 'adopted') lag.build = 'building';
  return outcome;
}

function recordBuild(lag: FleetLag, state: VersionState | undefined): void {
  lag.built = state?.version;
  lag.build = state?.build;
}

/**
 * The fleet is current when it runs the image built for the recorded version; anything else (not
 * built yet, built but not rolled out, unknown) is lag: the alarm fires when this lasts longer
 * than a build and a rollout.
 */
async function countFleetLag(
  clients: VersionCheckClients,
  options: VersionCheckOptions,
  state: VersionState,
  lag: FleetLag,
): Promise<void> {
  try {
    const running = await fleetImage(clients, options.currentAmiParameter);
    lag.current = running !== undefined && running === state.imageBuildVersionArn;
    lag.fleet = lag.current ? state.version : (imageBuild(running) ?? 'unknown');
  } catch (error) {
    logger.warn('could not tell which image the fleet runs; counted as behind', { error });
  }
}

/** What the fleet runs, for the poll's record only (the lag is measured by countFleetLag). */
async function fleetLabel(clients: VersionCheckClients, options: VersionCheckOptions): Promise<string> {
  try {
    return imageBuild(await fleetImage(clients, options.currentAmiParameter)) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

interface BuildRequest {
  version: string;
  attempt: number;
  previousBuild: string | undefined;
  failures: number;
  lastFailureAt?: string;
}

async function startBuild(
  clients: VersionCheckClients,
  options: VersionCheckOptions,
  now: Date,
  request: BuildRequest,
): Promise<VersionCheckOutcome> {
  const { version, attempt } = request;
  // The component reads it at build time; written first so the build cannot miss it.
  await writeParameter(clients.ssm, options.buildVersionParameter, version);
  let imageBuildVersionArn: string | undefined;
  try {
    const started = await clients.imagebuilder.send(
      new StartImagePipelineExecutionCommand({
        imagePipelineArn: options.imagePipelineArn,
        clientToken: clientToken(version, attempt, request.previousBuild),
      }),
    );
    imageBuildVersionArn = started.imageBuildVersionArn;
  } catch (error) {
    logger.error('image build did not start; the next check tries again', { version, attempt, error });
    throw new UpstreamError(`image build for ${version} did not start: ${errorMessage(error)}`);
  }
  if (!imageBuildVersionArn) {
    throw new UpstreamError(`image build for ${version} started without an image ARN`);
  }
  await writeState(clients.ssm, options.stateParameter, {
    version,
    attempt,
    imageBuildVersionArn,
    startedAt: now.toISOString(),
    build: 'building',
    failures: request.failures,
    lastFailureAt: request.lastFailureAt,
    notified: false,
  });
  logger.info('image build started', { version, attempt, imageBuildVersionArn });
  return { action: 'started', version, attempt, imageBuildVersionArn };
}

async function followBuild(
  clients: VersionCheckClients,
  options: VersionCheckOptions,
  now: Date,
  recorded: VersionState,
): Promise<VersionCheckOutcome> {
  const { version } = recorded;
  let state = recorded;
  if (state.build === 'available') return { action: 'unchanged', version };
  if (state.build === 'building') {
    const image = await imageStatus(clients.imagebuilder, state.imageBuildVersionArn);
    if (image === undefined || FINISHED_OK.has(image.status ?? '')) {
      // A build deleted since is over too: nothing is left to retry.
      state = { ...state, build: 'available', failures: 0, lastFailureAt: undefined, notified: false };
      await writeState(clients.ssm, options.stateParameter, state);
      logger.info('image build finished', { version, status: image?.status ?? 'DELETED' });
      return { action: 'built', version };
    }
    if (!FINISHED_BAD.has(image.status ?? '')) return { action: 'building', version };
    state = {
      ...state,
      build: 'failed',
      buildCreatedAt: image.createdAt ?? state.startedAt,
      failures: state.failures + 1,
      lastFailureAt: now.toISOString(),
    };
    await writeState(clients.ssm, options.stateParameter, state);
    logger.warn('image build failed', {
      version,
      failures: state.failures,
      status: image.status,
      reason: image.reason,
      imageBuildVersionArn: state.imageBuildVersionArn,
    });
  }
  return retryOrStop(clients, options, now, state);
}

async function retryOrStop(
  clients: VersionCheckClients,
  options: VersionCheckOptions,
  now: Date,
  state: VersionState,
): Promise<VersionCheckOutcome> {
  const { version } = state;
  const newer = await newerBuild(clients.imagebuilder, options.imagePipelineArn, state);
  if (newer) {
    await writeState(clients.ssm, options.stateParameter, {
      ...state,
      imageBuildVersionArn: newer.arn,
      startedAt: now.toISOString(),
      build: 'building',
      buildCreatedAt: undefined,
      failures: 0,
      lastFailureAt: undefined,
      notified: false,
    });
    logger.info('following a build started outside the version check', { version, build: newer.arn });
    return { action: 'adopted', version };
  }
  if (state.failures >= MAX_FAILURES) {
    if (!state.notified) {
      await notifyExhausted(clients.sns, options, state);
      // Recorded after the publish: a lost write repeats the message rather than losing it.
      await writeState(clients.ssm, options.stateParameter, { ...state, notified: true });
    }
    return { action: 'stopped', version };
  }
  const since = now.getTime() - Date.parse(state.lastFailureAt ?? state.startedAt);
  if (since < RETRY_INTERVAL_MS) return { action: 'waiting', version };
  logger.info('retrying the failed image build', { version, attempt: state.attempt + 1 });
  return startBuild(clients, options, now, {
    version,
    attempt: state.attempt + 1,
    previousBuild: state.imageBuildVersionArn,
    failures: state.failures,
    lastFailureAt: state.lastFailureAt,
  });
}
