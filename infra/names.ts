import type { IConstruct } from 'constructs';
import { RUNTIME_PARAMETER, TAG } from '../functions/lib/contract';
import { ARCHITECTURES } from './architecture';
import type { WorkerConfig } from './config';

/** Tag carried by every resource of the stack, and by what its functions create at run time. */
export const STACK_TAG = TAG.stack;

/**
 * Public parameter of the stock Debian 12 AMI of the workers' architecture, resolved at deploy time:
 * the image build's parent, and the first deploy's AMI.
 */
export const stockAmiParameter = (config: Pick<WorkerConfig, 'architecture'>): string =>
  ARCHITECTURES[config.architecture].stockAmiParameter;

/**
 * SSM parameters the control plane writes at run time. CloudFormation never owns them, so a deploy
 * cannot reset them; the destroy workflow deletes them.
 */
export function runtimeParameters(config: WorkerConfig) {
  return {
    /** AMI id the last successful rollout put in place. */
    currentAmi: `${config.parameterPrefix}/${RUNTIME_PARAMETER.currentAmi}`,
    /** JSON state of the version check: version requested, build, failures. */
    versionState: `${config.parameterPrefix}/${RUNTIME_PARAMETER.versionState}`,
    /** Concourse version the next image build installs, written by the version check before it starts one. */
    buildVersion: `${config.parameterPrefix}/${RUNTIME_PARAMETER.buildVersion}`,
    /** JSON state of the Spot fallback's episode: phase, when Spot last failed, the notice owed. */
    spotFallback: `${config.parameterPrefix}/${RUNTIME_PARAMETER.spotFallback}`,
  };
}

/**
 * Name of the stack's Image Builder image (its recipe): images are
 * `arn:aws:imagebuilder:<region>:<account>:image/<name>/<version>/<build>`. The rollout listens to
 * these only, and the AMI retention deletes these only.
 */
export const workerImageName = (config: WorkerConfig): string => `${config.stackName}-worker`;

/** Log group the workers ship their boot, worker and system logs to. */
export const workerLogGroupName = (config: WorkerConfig): string =>
  `/${config.project}/${config.env}/workers`;

/**
 * A construct's path as the stack's logical ids read it: without the `Default` ids CDK leaves out
 * of them, so that the fleet reads the same at a stack's root and embedded as `Default`.
 */
export const displayPath = (construct: IConstruct): string =>
  construct.node.scopes
    .slice(1)
    .map((scope) => scope.node.id)
    .filter((id) => id !== 'Default')
    .join('/');

/**
 * What a launch from the workers' template creates and tags (spot-instances-request would fail
 * on-demand launches): whoever points the group at the template must be allowed to tag these.
 */
export const TAGGED_AT_LAUNCH = ['instance', 'volume', 'network-interface'] as const;
