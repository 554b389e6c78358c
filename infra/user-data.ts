import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws } from 'aws-cdk-lib';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { CONCOURSE_VERSION_PATTERN_SOURCE } from '../functions/lib/concourse-version';
import { encodedBuildVariables } from './build-variables';
import type { WorkerConfig } from './config';
import type { DeployInputs } from './deploy-inputs';
import { encodedWorkerEnvironment } from './fleet-options';

/**
 * One shell word holding `value` as it is: single quotes, each inner quote closed, escaped and
 * reopened. Control characters are refused: a newline could end the quoted heredoc the settings
 * are written with, and no setting has one.
 */
export function shellQuote(name: string, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`${name}: a control character (newline, NUL, …) cannot be part of a worker setting`);
  }
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The user data of a worker: its settings (names and addresses, never a secret) in
 * /etc/external-worker/settings.env, then the bootstrap of infra/userdata/bootstrap.sh.
 */
export function workerUserData(
  config: WorkerConfig,
  inputs: DeployInputs,
  logGroupName: string,
  playbook: s3assets.Asset,
): string {
  const settings: Record<string, string> = {
    EW_STACK: config.stackName,
    EW_PROJECT: config.project,
    EW_ENV: config.env,
    EW_CUSTOMER: inputs.customer,
    EW_REGION: Aws.REGION,
    EW_SCHEDULER_API_ADDRESS: config.schedulerApiAddress,
    EW_SCHEDULER_HOST: config.schedulerHost,
    EW_SCHEDULER_PORT: String(config.schedulerPort),
    EW_TSA_PUBLIC_KEY: config.tsaPublicKey,
    EW_TEAM_ID: inputs.teamId,
    EW_WORKER_TAG: config.workerTag ?? '',
    EW_WORKER_RUNTIME: config.workerRuntime,
    EW_WORKER_DNS_SERVER: (config.workerDnsServer ?? []).join(','),
    EW_WORKER_VERSION: config.workerVersion ?? '',
    // Extra Concourse worker settings (workerEnvironment): NAME=value pairs, space-separated.
    EW_WORKER_ENVIRONMENT: encodedWorkerEnvironment(config.workerEnvironment),
    // The name of the SecureString only: the boot script reads the key itself, into a root-only file.
    EW_WORKER_KEY_PARAMETER: config.workerKeyParameter,
    EW_LOG_GROUP: logGroupName,
    EW_FS_VOLUME_TYPE: config.fsVolumeType,
    EW_USE_LOCAL_DEVICE: String(config.useLocalDevice),
    EW_VAR_LIB_DEVICE: config.varLibDevice,
    EW_KEEPRUNNING_DEFAULT: String(config.keepRunningOnBootFailure),
    EW_BUILDS_USE_INSTANCE_ROLE: String(config.buildsUseInstanceRole),
    EW_PLAYBOOK_S3_URI: playbook.s3ObjectUrl,
    EW_ANSIBLE_VERSION: config.ansibleVersion,
    // Mirrors and checksums for the build play of a first boot on a stock image (base64 JSON).
    EW_BUILD_VARIABLES: encodedBuildVariables(config),
    // The launch gate's deadline: the boot script fails a worker that cannot register before it.
    EW_BOOT_TIMEOUT: String(config.bootTimeout),
    // The first boot on a stock AMI checks the version it is given against this before using it.
    EW_CONCOURSE_VERSION_PATTERN: CONCOURSE_VERSION_PATTERN_SOURCE,
  };
  const settingsFile = Object.entries(settings)
    .map(([key, value]) => `${key}=${shellQuote(key, value)}`)
    .join('\n');
  const bootstrap = fs.readFileSync(path.join(__dirname, 'userdata', 'bootstrap.sh'), 'utf8');
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'install -d -m 0755 /etc/external-worker',
    "cat >/etc/external-worker/settings.env <<'SETTINGS'",
    settingsFile,
    'SETTINGS',
    "cat >/usr/local/sbin/external-worker-bootstrap <<'BOOTSTRAP'",
    bootstrap.trimEnd(),
    'BOOTSTRAP',
    'chmod 0755 /usr/local/sbin/external-worker-bootstrap',
    'exec /usr/local/sbin/external-worker-bootstrap',
    '',
  ].join('\n');
}
