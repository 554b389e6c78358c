import type { WorkerConfig } from './config';

/**
 * The playbook variables (ansible/README.md, Artifacts) that the configuration's mirrors and
 * checksums set. Only what is configured is passed: the rest keeps the playbook's defaults.
 * The architecture of the instance types always goes: the build refuses a host of another one.
 */
export const MIRROR_VARIABLES = {
  concourse: 'concourse_release_base',
  telegrafRepository: 'telegraf_apt_repository_url',
  telegrafKey: 'telegraf_apt_key_url',
  ssmAgent: 'ssm_agent_base_url',
  gems: 'fluentd_gem_source',
} as const satisfies Record<keyof WorkerConfig['artifactMirrors'], string>;

export const CONCOURSE_CHECKSUMS_VARIABLE = 'concourse_sha256';
export const ARCHITECTURE_VARIABLE = 'worker_architecture';

export function buildVariables(config: WorkerConfig): Record<string, unknown> {
  const variables: Record<string, unknown> = { [ARCHITECTURE_VARIABLE]: config.architecture };
  for (const [key, variable] of Object.entries(MIRROR_VARIABLES)) {
    const url = config.artifactMirrors[key as keyof typeof MIRROR_VARIABLES];
    if (url !== undefined) variables[variable] = url;
  }
  if (Object.keys(config.concourseChecksums).length > 0) {
    variables[CONCOURSE_CHECKSUMS_VARIABLE] = config.concourseChecksums;
  }
  return variables;
}

/**
 * The same variables as one base64 word: what the image component, the user data and Packer hand
 * to `ansible-playbook -e @file` after `base64 -d`. Base64 has no character a shell or a template
 * would read as code.
 */
export const encodedBuildVariables = (config: WorkerConfig): string =>
  Buffer.from(JSON.stringify(buildVariables(config))).toString('base64');
