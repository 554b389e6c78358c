import { spawnSync } from 'node:child_process';
import { CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { applicableGuardRules, GUARD_PLUGIN, guardBinary, guardValidator } from '../../infra/guard';
import { type Synthesized, synth } from '../support/stack';

interface GuardRun {
  /** Rules that found resources of their type, and held for all of them. */
  passed: string[];
  /** Rule → logical ids of the resources it found at fault (before acknowledgements). */
  failed: Map<string, string[]>;
}

/** cfn-guard itself on the synthesized template, every Control Tower rule, no acknowledgement applied. */
function runGuard({ app, stack }: Synthesized): GuardRun {
  const templatePath = app.synth().getStackArtifact(stack.artifactId).templateFullPath;
  const report = guardValidator().validate({
    templatePaths: [templatePath],
    stackTemplates: [],
    appConstruct: app,
  });
  const failed = new Map<string, string[]>();
  for (const violation of report.violations) {
    const ids = violation.violatingResources.map((resource) => resource.resourceLogicalId ?? '?');
    failed.set(violation.ruleName, [...(failed.get(violation.ruleName) ?? []), ...ids]);
  }
  // The plugin reports violations only; the rules that held come from the binary's own summary,
  // over every Control Tower rule (those of resource types absent from the template skip).
  const { stdout } = spawnSync(
    guardBinary(),
    [
      'validate',
      ...applicableGuardRules([templatePath]).flatMap((rule) => ['--rules', rule.file]),
      '--data',
      templatePath,
      '--output-format',
      'json',
      '--show-summary',
      'none',
      '--structured',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const [result] = JSON.parse(stdout.toString()) as Array<{ compliant: string[] }>;
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

describe.each([
  ['the defaults', {}],
  [
    'mixed Spot types, a year of logs, aws-cn',
    { instanceType: 'c5d.2xlarge,c5ad.2xlarge', logRetentionDays: 365, region: 'cn-north-1' },
  ],
  ['on-demand in aws-us-gov', { capacity: 'ondemand', region: 'us-gov-west-1' }],
  [
    'a hibernated warm pool',
    { capacity: 'ondemand', instanceType: 'm5.large', warmPool: '{"poolState":"Hibernated"}' },
  ],
])("AWS Control Tower's rules, %s", (_, context) => {
  // synth() runs the guard plugin: it throws on any finding without an acknowledgement.
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
    // Fixed, not acknowledged: a single hop to the metadata service, KMS grants for AWS services only,
    // the same retention on every log group.
    expect(run.passed).toEqual(
      expect.arrayContaining([
        'ec2_launch_template_token_hop_limit_check',
        'kms_create_grant_aws_service_check',
      ]),
    );
    expect(run.passed.length + run.failed.size).toBeGreaterThanOrEqual(20);
  });
});
