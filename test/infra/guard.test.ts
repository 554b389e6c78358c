import { isDeepStrictEqual } from 'node:util';
import { CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { configSchema, parseConfig } from '../../infra/config';
import { GUARD_PLUGIN, guardValidator } from '../../infra/guard';
import { GUARD_CHECKED } from '../support/checked-configs';
import { type Synthesized, synth } from '../support/stack';

interface GuardRun {
  /** Rules that found resources of their type, and held for all of them. */
  passed: string[];
  /** Rule → logical ids of the resources it found at fault (before acknowledgements). */
  failed: Map<string, string[]>;
}

/**
 * Where the guard plugin runs cfn-guard: its structured output holds the rules that held too, which
 * the plugin's report (violations only) leaves out, so that one run of cfn-guard gives both.
 */
const guardProcess = require('@cdklabs/cdk-validator-cfnguard/lib/utils') as {
  exec: (command: string[], options: unknown) => unknown;
};

/** cfn-guard itself on the synthesized template, every Control Tower rule, no acknowledgement applied. */
function runGuard({ app, stack }: Synthesized): GuardRun {
  const templatePath = app.synth().getStackArtifact(stack.artifactId).templateFullPath;
  const exec = jest.spyOn(guardProcess, 'exec');
  let report: ReturnType<ReturnType<typeof guardValidator>['validate']>;
  let output: unknown;
  try {
    report = guardValidator().validate({
      templatePaths: [templatePath],
      stackTemplates: [],
      appConstruct: app,
    });
    if (exec.mock.results.length !== 1) throw new Error(`cfn-guard ran ${exec.mock.results.length} times`);
    output = exec.mock.results[0]?.value;
  } finally {
    exec.mockRestore();
  }
  const failed = new Map<string, string[]>();
  for (const violation of report.violations) {
    const ids = violation.violatingResources.map((resource) => resource.resourceLogicalId ?? '?');
    failed.set(violation.ruleName, [...(failed.get(violation.ruleName) ?? []), ...ids]);
  }
  // Over every Control Tower rule of a resource type the template holds (the others skip).
  const [result] = output as Array<{ compliant: string[] }>;
  return { passed: result?.compliant ?? [], failed };
}

/** Guard acknowledgements (rule → reason) on a construct and on every scope above it. */
function guardAcknowledgements(construct: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (const scope of construct.node.scopes) {
    for (const entry of scope.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        if (id.startsWith(`${GUARD_PLUGIN}::`)) found.set(id.slice(GUARD_PLUGIN.length + 2), reason);
      }
    }
  }
  return found;
}

function resourcesByLogicalId(stack: Stack): Map<string, CfnResource> {
  const byId = new Map<string, CfnResource>();
  for (const construct of stack.node.findAll()) {
    if (CfnResource.isCfnResource(construct)) byId.set(stack.getLogicalId(construct), construct);
  }
  return byId;
}

describe.each(GUARD_CHECKED)("AWS Control Tower's rules, %s", (_, context) => {
  // Every finding is looked at here, with its acknowledgement: the synthesis needs no guard plugin of its own.
  const synthesized = synth(context);
  const run = runGuard(synthesized);
  const resources = resourcesByLogicalId(synthesized.stack);

  test('every finding is acknowledged on its resource or a scope above it, with a reason', () => {
    const unexplained: string[] = [];
    for (const [rule, ids] of run.failed) {
      for (const id of ids) {
        const resource = resources.get(id);
        const reason = resource && guardAcknowledgements(resource).get(rule);
        if (!reason || reason.trim().length < 20) unexplained.push(`${rule} on ${id}`);
      }
    }
    expect(unexplained).toEqual([]);
  });

  test('no acknowledgement is left without a finding to explain', () => {
    const acknowledged = new Set<string>();
    for (const construct of synthesized.stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const id of Object.keys(entry.data as Record<string, string>)) {
          if (id.startsWith(`${GUARD_PLUGIN}::`)) acknowledged.add(id.slice(GUARD_PLUGIN.length + 2));
        }
      }
    }
    expect([...acknowledged].filter((rule) => !run.failed.has(rule))).toEqual([]);
  });

  test('the rules that can be met are met', () => {
    // Fixed, not acknowledged: a single hop to the metadata service (unless buildsUseInstanceRole
    // asks for two), KMS grants for AWS services only, the same retention on every log group.
    expect(run.passed).toEqual(
      expect.arrayContaining([
        ...(synthesized.config.buildsUseInstanceRole ? [] : ['ec2_launch_template_token_hop_limit_check']),
        'kms_create_grant_aws_service_check',
      ]),
    );
    if (synthesized.config.buildsUseInstanceRole) {
      expect(run.failed.get('ec2_launch_template_token_hop_limit_check')).toHaveLength(1);
    }
    expect(run.passed.length + run.failed.size).toBeGreaterThanOrEqual(20);
  });
});

/** The values of a key that is a choice (an enum, optional or defaulted), every one of which is checked. */
function choices(schema: z.ZodType): readonly unknown[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return inner instanceof z.ZodEnum ? inner.options : [];
}

describe('the configurations guard-checked', () => {
  test('set every configuration key to something other than its default, and each choice to every value', () => {
    // The other tests synthesize without the guard rules: whatever a key adds to the template is
    // checked here or nowhere (test/support/checked-configs.ts).
    const defaults = parseConfig({}) as Record<string, unknown>;
    const checked = GUARD_CHECKED.map(([, context]) => parseConfig(context) as Record<string, unknown>);
    const unchecked: string[] = [];
    for (const [key, schema] of Object.entries(configSchema.shape)) {
      if (checked.every((config) => isDeepStrictEqual(config[key], defaults[key]))) {
        unchecked.push(`${key}: only its default`);
      }
      for (const choice of choices(schema as z.ZodType)) {
        if (!checked.some((config) => config[key] === choice))
          unchecked.push(`${key}: never ${String(choice)}`);
      }
    }
    expect(unchecked).toEqual([]);
  });
});
