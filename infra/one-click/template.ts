import * as path from 'node:path';
import {
  type Acknowledgment,
  App,
  Aws,
  CfnCondition,
  type CfnElement,
  CfnParameter,
  CliCredentialsStackSynthesizer,
  Fn,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { CONCOURSE_VERSION_PATTERN_SOURCE } from '../../functions/lib/concourse-version';
import { AMD64_INSTANCE_TYPE_PATTERN } from '../architecture';
import { ConfigError, parseConfig, type WorkerConfig } from '../config';
import { ExternalWorkerStack } from '../stack';
import { assetBucket } from './publish';
import { type Json, substitute } from './substitute';

/**
 * Launch-time choices of the original one-click template, as CloudFormation parameters (beside
 * the VpcId, SubnetIds, TeamId and Customer every default synthesis has). Their configuration keys
 * are refused here: the template asks for them.
 */
export const LAUNCH_PARAMETERS = {
  WorkerKeyParameter: 'workerKeyParameter',
  WorkerCount: 'desiredCapacity',
  MinWorkers: 'minSize',
  MaxWorkers: 'maxSize',
  InstanceType: 'instanceType',
  Capacity: 'capacity',
  SpotMaxPrice: 'spotMaxPrice',
  ScheduledStart: 'schedule',
  ScheduledStop: 'schedule',
  DebugMode: 'keepRunningOnBootFailure',
  WorkerVersion: 'workerVersion',
} as const;
const DEPLOY_INPUTS = ['teamId', 'customer', 'vpcId', 'subnetIds'];
/** The Capacity parameter decides the purchase: one type, Spot or on-demand only. */
const DECIDED_BY_CAPACITY = ['onDemandBase', 'onDemandPercentage', 'instanceRequirements'];
const ON_DEMAND_ONLY_PERCENTAGE = 100;

// The synthesis runs with these stand-ins, each then replaced by its parameter in the template.
// Every stand-in is a value its configuration key accepts and nothing else in a template contains.
const KEY_PARAMETER_STAND_IN = '/one-click-launch-parameter/WorkerKeyParameter';
const SCHEDULE_STAND_IN = '0 0 29 2 *';
const KEEPRUNNING_SETTING = "EW_KEEPRUNNING_DEFAULT='true'";
const WORKER_VERSION_SETTING = "EW_WORKER_VERSION=''";

const CRON_FIELD = '[0-9A-Za-z*,/?#LW-]+';
const CRON_OR_NOTHING = `^$|^${CRON_FIELD} ${CRON_FIELD} ${CRON_FIELD} ${CRON_FIELD} ${CRON_FIELD}$`;

export interface OneClickOptions {
  /** Buckets `<prefix>-<region>` hold the assets, one per region the template is launched in. */
  bucketPrefix: string;
  /** Configuration keys (cdk.json context and `-c`), except the launch-time ones. */
  context: Record<string, unknown>;
  /** Where the cloud assembly goes. */
  outdir?: string;
}

export interface OneClick {
  app: App;
  stack: ExternalWorkerStack;
  config: WorkerConfig;
  /** The template to publish: the synthesized one with the launch-time parameters wired in. */
  template: Template;
  /** The asset manifest of the stack, relative to the assembly folder. */
  assetManifest: string;
  assemblyDir: string;
}

export interface Template {
  Parameters: Record<string, { Type: string; Default?: unknown; [key: string]: unknown }>;
  Conditions?: Record<string, unknown>;
  Rules?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, Json>; [key: string]: unknown }>;
  Outputs?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

const BUCKET_PREFIX = /^[a-z0-9][a-z0-9.-]{1,40}$/;

/**
 * The one-click template: region-neutral (no account or region of its own), its assets named in
 * `<prefix>-${AWS::Region}` instead of a CDK bootstrap bucket, with no bootstrap version rule, and
 * the original's launch-time choices as parameters.
 */
export function synthesizeOneClick(options: OneClickOptions): OneClick {
  if (!BUCKET_PREFIX.test(options.bucketPrefix)) {
    throw new ConfigError([
      `bucketPrefix: expected 2-41 lower-case letters, digits, dots and dashes (the region completes the bucket name), given ${JSON.stringify(options.bucketPrefix)}`,
    ]);
  }
  const launchTime = [
    ...new Set([...Object.values(LAUNCH_PARAMETERS), ...DEPLOY_INPUTS, ...DECIDED_BY_CAPACITY]),
  ];
  const given = Object.keys(options.context).filter((key) => launchTime.includes(key.split('.')[0] ?? key));
  if (given.length > 0) {
    throw new ConfigError(
      given.map((key) =>
        DECIDED_BY_CAPACITY.includes(key.split('.')[0] ?? key)
          ? `${key}: expected nothing: the one-click template launches one instance type, Spot or on-demand as its Capacity parameter says, given a value`
          : `${key}: expected nothing: the one-click template asks for it at launch, given a value`,
      ),
    );
  }
  const config = parseConfig({
    ...options.context,
    workerKeyParameter: KEY_PARAMETER_STAND_IN,
    schedule: { start: SCHEDULE_STAND_IN, stop: SCHEDULE_STAND_IN },
    keepRunningOnBootFailure: true,
  });
  // CDK's own template validation would see the template before its parameters are all wired in.
  const app = new App({
    outdir: options.outdir,
    context: options.context,
    builtinCloudFormationValidation: false,
  });
  const stack = withoutRegionalAcknowledgements(
    () =>
      new OneClickStack(app, config.stackName, {
        stackName: config.stackName,
        description: `Cycloid CI workers (${config.project}/${config.env}) and their event-driven control plane: one-click template`,
        config,
        synthesizer: new CliCredentialsStackSynthesizer({
          fileAssetsBucketName: assetBucket(options.bucketPrefix, '${AWS::Region}'),
          bucketPrefix: '',
        }),
      }),
  );
  const wiring = wireLaunchParameters(stack);
  const assembly = app.synth();
  return { ...finish(stack, assembly, wiring), app, config };
}

/**
 * Builds the stack with the acknowledgements (of cdk-nag and cfn-guard findings) whose ids name the
 * stack's region left out: without a region the id is a token, which an acknowledgement's key
 * cannot be. They are of no use here: the checks run on the app's own synthesis (with a region),
 * never on the one-click template, which is that template with parameters wired in.
 */
function withoutRegionalAcknowledgements<T>(build: () => T): T {
  const acknowledge = Validations.prototype.acknowledge;
  Validations.prototype.acknowledge = function (this: Validations, ...rules: Acknowledgment[]) {
    acknowledge.apply(
      this,
      rules.filter((rule) => !Token.isUnresolved(rule.id)),
    );
  };
  try {
    return build();
  } finally {
    Validations.prototype.acknowledge = acknowledge;
  }
}

function finish(
  stack: ExternalWorkerStack,
  assembly: cxapi.CloudAssembly,
  wiring: ReturnType<typeof wireLaunchParameters>,
): Omit<OneClick, 'app' | 'config'> {
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const template = wiring.finish(structuredClone(artifact.template) as Template);
  const assets = assembly.tryGetArtifact(`${stack.artifactId}.assets`) as cxapi.AssetManifestArtifact;
  return {
    stack,
    template,
    assetManifest: path.relative(assembly.directory, assets.file),
    assemblyDir: assembly.directory,
  };
}

/**
 * The stack of the one-click template: no region of its own, in the partition of its buckets. The
 * fleet's ARNs and acknowledgements name the partition as a literal, as they do for a stack with a
 * region; a region-neutral stack would leave it a token, which an acknowledgement cannot be.
 */
class OneClickStack extends ExternalWorkerStack {
  override get partition(): string {
    return ONE_CLICK_PARTITION;
  }
}
/** Commercial regions: the buckets `<prefix>-<region>` and the launches are there. */
const ONE_CLICK_PARTITION = 'aws';

/** The parameters, set on the fleet's resources; `finish` wires those only the template text holds. */
function wireLaunchParameters(stack: ExternalWorkerStack) {
  const parameter = (
    id: keyof typeof LAUNCH_PARAMETERS,
    props: ConstructorParameters<typeof CfnParameter>[2],
  ) => new CfnParameter(stack, id, props);
  const keyParameter = parameter('WorkerKeyParameter', {
    type: 'String',
    default: `/${stack.workers.config.project}/${stack.workers.config.env}/worker-key`,
    description: 'SSM SecureString parameter holding the worker private key (create it before launching)',
    allowedPattern: '^/[a-zA-Z0-9_.\\-/]{1,1010}$',
    constraintDescription: 'an SSM parameter name starting with /',
  });
  const count = parameter('WorkerCount', {
    type: 'Number',
    default: 1,
    minValue: 0,
    description: 'Number of workers (between MinWorkers and MaxWorkers)',
  });
  const min = parameter('MinWorkers', {
    type: 'Number',
    default: 1,
    minValue: 0,
    description: 'Minimum number of workers',
  });
  const max = parameter('MaxWorkers', {
    type: 'Number',
    default: 6,
    minValue: 1,
    description: 'Maximum number of workers',
  });
  // The image is synthesized for amd64 (the default instance type's): a Graviton type would get it.
  const instanceType = parameter('InstanceType', {
    type: 'String',
    default: 'c5d.2xlarge',
    description: 'EC2 instance type of the workers (amd64: Graviton workers are deployed with the CDK app)',
    allowedPattern: AMD64_INSTANCE_TYPE_PATTERN,
    constraintDescription: 'an amd64 EC2 instance type such as c5d.2xlarge (not Graviton)',
  });
  const capacity = parameter('Capacity', {
    type: 'String',
    default: 'spot',
    allowedValues: ['spot', 'ondemand'],
    description: 'Spot or on-demand instances',
  });
  const spotMaxPrice = parameter('SpotMaxPrice', {
    type: 'String',
    default: '0.3',
    description: 'Maximum Spot price, USD per hour (Spot only)',
    allowedPattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$',
    constraintDescription: 'a decimal price such as 0.3',
  });
  const start = parameter('ScheduledStart', {
    type: 'String',
    default: '',
    description: 'Cron (UTC) at which the workers start, e.g. "0 7 * * MON-FRI"; empty: always on',
    allowedPattern: CRON_OR_NOTHING,
    constraintDescription: 'empty, or a cron expression of 5 fields',
  });
  const stop = parameter('ScheduledStop', {
    type: 'String',
    default: '',
    description:
      'Cron (UTC) at which the workers stop (scale to zero), e.g. "0 20 * * MON-FRI"; empty: never',
    allowedPattern: CRON_OR_NOTHING,
    constraintDescription: 'empty, or a cron expression of 5 fields',
  });
  const debug = parameter('DebugMode', {
    type: 'String',
    default: 'false',
    allowedValues: ['true', 'false'],
    description:
      'Keep a worker that fails to boot, out of the fleet, for debugging (instead of replacing it)',
  });
  const version = parameter('WorkerVersion', {
    type: 'String',
    default: '',
    description: "Pin the Concourse worker version; empty: follow the scheduler's",
    allowedPattern: `^$|${CONCOURSE_VERSION_PATTERN_SOURCE}`,
    constraintDescription: 'empty, or a Concourse version such as 7.11.2',
  });

  const isSpot = new CfnCondition(stack, 'IsSpot', {
    expression: Fn.conditionEquals(capacity.valueAsString, 'spot'),
  });
  const hasStart = new CfnCondition(stack, 'HasScheduledStart', {
    expression: Fn.conditionNot(Fn.conditionEquals(start.valueAsString, '')),
  });
  const hasStop = new CfnCondition(stack, 'HasScheduledStop', {
    expression: Fn.conditionNot(Fn.conditionEquals(stop.valueAsString, '')),
  });
  const isPinned = new CfnCondition(stack, 'IsVersionPinned', {
    expression: Fn.conditionNot(Fn.conditionEquals(version.valueAsString, '')),
  });

  const { fleet } = stack;
  const policy = fleet.group.mixedInstancesPolicy as
    | autoscaling.CfnAutoScalingGroup.MixedInstancesPolicyProperty
    | undefined;
  // Synthesized as a Spot group of one type: the Capacity parameter sets its on-demand share.
  if (!policy || stack.workers.config.instanceType.length !== 1)
    throw new Error('the one-click template launches one instance type (InstanceType), Spot or on-demand');
  fleet.group.minSize = min.valueAsString;
  fleet.group.maxSize = max.valueAsString;
  fleet.group.desiredCapacity = count.valueAsString;
  fleet.group.capacityRebalance = Fn.conditionIf(isSpot.logicalId, true, false);
  const template = policy.launchTemplate as autoscaling.CfnAutoScalingGroup.LaunchTemplateProperty;
  fleet.group.mixedInstancesPolicy = {
    launchTemplate: { ...template, overrides: [{ instanceType: instanceType.valueAsString }] },
    instancesDistribution: {
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: Token.asNumber(
        Fn.conditionIf(isSpot.logicalId, 0, ON_DEMAND_ONLY_PERCENTAGE),
      ),
      spotAllocationStrategy: 'price-capacity-optimized',
      spotMaxPrice: Token.asString(
        Fn.conditionIf(isSpot.logicalId, spotMaxPrice.valueAsString, Aws.NO_VALUE),
      ),
    },
  };
  // What the fallback restores once Spot launches again: the share the launch chose.
  const fallback = stack.workers.spotFallback?.function.function.node.defaultChild as
    | lambda.CfnFunction
    | undefined;
  fallback?.addPropertyOverride(
    'Environment.Variables.ON_DEMAND_PERCENTAGE',
    Fn.conditionIf(isSpot.logicalId, '0', String(ON_DEMAND_ONLY_PERCENTAGE)),
  );
  const schedules: Array<[string, CfnCondition, CfnParameter, boolean]> = [
    ['ScheduledStart', hasStart, start, true],
    ['ScheduledStop', hasStop, stop, false],
  ];
  for (const [id, condition, recurrence, starts] of schedules) {
    const action = fleet.node.findChild(id) as autoscaling.CfnScheduledAction;
    action.recurrence = recurrence.valueAsString;
    action.maxSize = max.valueAsNumber;
    if (starts) {
      action.minSize = min.valueAsNumber;
      action.desiredCapacity = count.valueAsNumber;
    }
    action.cfnOptions.condition = condition;
  }
  // The version check builds the pinned version (and the image build reads what it asks for).
  const versionCheck = stack.versionCheck.function.function.node.defaultChild as lambda.CfnFunction;
  versionCheck.addPropertyOverride(
    'Environment.Variables.WORKER_VERSION',
    Fn.conditionIf(isPinned.logicalId, version.valueAsString, Aws.NO_VALUE),
  );
  // Absent when workerAmiId pins the AMI: nothing resolves it at deploy time then.
  const currentAmiResolution = fleet.node.tryFindChild('CurrentAmi')?.node.defaultChild as
    | CfnElement
    | undefined;
  const currentAmi = currentAmiResolution && stack.getLogicalId(currentAmiResolution);

  const ref = (p: CfnParameter) => ({ Ref: stack.getLogicalId(p) });
  return {
    /** Rewrites what exists only as text in the synthesized template: settings, tags, the AMI fingerprint. */
    finish(template: Template): Template {
      const substitutions: Array<[string, Json[]]> = [
        [KEY_PARAMETER_STAND_IN, [ref(keyParameter)]],
        [KEEPRUNNING_SETTING, ["EW_KEEPRUNNING_DEFAULT='", ref(debug), "'"]],
        [WORKER_VERSION_SETTING, ["EW_WORKER_VERSION='", ref(version), "'"]],
      ];
      for (const resource of Object.values(template.Resources)) {
        if (resource.Properties)
          resource.Properties = substitute(resource.Properties, substitutions) as Record<string, Json>;
      }
      setKeeprunningTags(template, ref(debug));
      // A launch with other choices re-resolves the AMI before the launch template changes.
      if (currentAmi) {
        const fingerprint = template.Resources[currentAmi]?.Properties?.Fingerprint as {
          'Fn::Join': [string, Json[]];
        };
        fingerprint['Fn::Join'][1].push(
          ...[instanceType, capacity, spotMaxPrice, keyParameter, debug, version].map(ref),
        );
      }
      const leftOver = JSON.stringify(template.Resources);
      for (const standIn of [KEY_PARAMETER_STAND_IN, SCHEDULE_STAND_IN, KEEPRUNNING_SETTING]) {
        if (leftOver.includes(standIn))
          throw new Error(`one-click template: ${standIn} left in the template`);
      }
      return template;
    },
  };
}

/** The keeprunning tag the synthesis set (DebugMode's stand-in) carries the parameter's value. */
function setKeeprunningTags(template: Template, value: Json): void {
  let found = 0;
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.Key === 'keeprunning' && record.Value === 'true') {
        record.Value = value;
        found++;
      }
      Object.values(record).forEach(visit);
    }
  };
  visit(template.Resources);
  if (found === 0) throw new Error('one-click template: no keeprunning tag to wire to DebugMode');
}
