import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CfnGuardValidator as Validator } from '@cdklabs/cdk-validator-cfnguard';
import {
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
  Validations,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Name under which the cfn-guard plugin reports, and prefix of its acknowledgements. */
export const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/**
 * The validator, loaded when a synthesis runs it: the packaged construct acknowledges rules
 * (acknowledgeGuardRule) without depending on the validator, which only this project's checks run.
 */
function cfnGuard(): typeof Validator {
  return (require('@cdklabs/cdk-validator-cfnguard') as { CfnGuardValidator: typeof Validator })
    .CfnGuardValidator;
}

const controlTowerDir = () =>
  path.join(
    path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
    'rules',
    'control-tower',
  );
// The report of a whole stack is larger than the default 1 MiB output buffer of cfn-guard.
const MAX_BUFFER = 64 * 1024 * 1024;

interface GuardRule {
  /** File name without `.guard`, e.g. ct-ec2-pr-15: the name the plugin disables rules by. */
  name: string;
  file: string;
  resourceTypes: string[];
}

let rules: GuardRule[] | undefined;

/** Every Control Tower rule file with the resource types its metadata says it evaluates. */
function controlTowerRules(): GuardRule[] {
  if (rules) return rules;
  const metadata = new Map<string, string[]>();
  const metadataDir = path.join(controlTowerDir(), 'metadata');
  for (const file of fs.readdirSync(metadataDir, { recursive: true }).map(String)) {
    if (!file.endsWith('.metadata.json')) continue;
    const { EvaluatedResourceTypes } = JSON.parse(fs.readFileSync(path.join(metadataDir, file), 'utf8')) as {
      EvaluatedResourceTypes?: string[];
    };
    metadata.set(path.basename(file, '.metadata.json'), EvaluatedResourceTypes ?? []);
  }
  const rulesDir = path.join(controlTowerDir(), 'cfn-guard');
  rules = fs
    .readdirSync(rulesDir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.guard'))
    .map((file) => {
      const name = path.basename(file, '.guard');
      const resourceTypes = metadata.get(name);
      // Without its metadata, a rule is run on every template: never skipped by mistake.
      return { name, file: path.join(rulesDir, file), resourceTypes: resourceTypes ?? ['*'] };
    });
  return rules;
}

function resourceTypes(templatePaths: readonly string[]): Set<string> {
  const types = new Set<string>();
  for (const templatePath of templatePaths) {
    const { Resources = {} } = JSON.parse(fs.readFileSync(templatePath, 'utf8')) as {
      Resources?: Record<string, { Type: string }>;
    };
    for (const resource of Object.values(Resources)) types.add(resource.Type);
  }
  return types;
}

/** The Control Tower rules that evaluate a resource type present in the templates (the others skip). */
export function applicableGuardRules(templatePaths: readonly string[]): GuardRule[] {
  const present = resourceTypes(templatePaths);
  return controlTowerRules().filter((rule) =>
    rule.resourceTypes.some((type) => type === '*' || present.has(type)),
  );
}

/**
 * AWS Control Tower's proactive controls (cfn-guard rules) on the template at synth. A rule whose
 * resource types the template does not hold would skip: it is not run at all, which saves most of
 * cfn-guard's time and changes no result.
 */
class ControlTowerGuard implements IPolicyValidationPlugin {
  readonly name = GUARD_PLUGIN;

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const applicable = new Set(applicableGuardRules(context.templatePaths).map((rule) => rule.name));
    const disabledRules = controlTowerRules()
      .map((rule) => rule.name)
      .filter((name) => !applicable.has(name));
    return new (cfnGuard())({ disabledRules, maxBuffer: MAX_BUFFER }).validate(context);
  }
}

export function guardValidator(): IPolicyValidationPlugin {
  return new ControlTowerGuard();
}

/** Acknowledges a Control Tower rule (its guard rule name) on `scope` and what it holds, with the reason. */
export function acknowledgeGuardRule(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${GUARD_PLUGIN}::${rule}`, reason });
}
