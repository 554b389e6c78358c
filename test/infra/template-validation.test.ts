import * as fs from 'node:fs';
import * as path from 'node:path';
import { FULLEST_ONDEMAND, FULLEST_SPOT } from '../support/checked-configs';
import { synth } from '../support/stack';

/**
 * CDK's built-in CloudFormation validation (resource schemas and the default rules, errors failing
 * synthesis as cdk.json asks with @aws-cdk/core:validateAgainstDefaultRules) is the slowest part of
 * a synthesis, so the other tests skip it. It runs here on the default configuration, and on the
 * two fullest ones: every optional resource and property any configuration adds is in one of them
 * (test/support/checked-configs.ts).
 */

/** What the validation found, as CDK writes it beside the synthesized templates. */
function findings(context: Record<string, unknown>): unknown[] {
  const { app } = synth(context, { validate: true });
  const report = path.join(app.outdir, 'validation-report.json');
  const json = JSON.parse(fs.readFileSync(report, 'utf8')) as {
    pluginReports?: Array<{ pluginName?: string; violations?: unknown[]; conclusion?: unknown }>;
  };
  return (json.pluginReports ?? [])
    .filter((r) => r.pluginName === 'CloudFormation Validate')
    .flatMap((r) => r.violations ?? []);
}

describe('CloudFormation validation of the synthesized template', () => {
  test.each([
    ['the default configuration', {}],
    ['the fullest Spot configuration', FULLEST_SPOT],
    ['the fullest on-demand configuration', FULLEST_ONDEMAND],
  ])('%s: no error, no warning', (_name, context) => {
    expect(findings(context)).toEqual([]);
  });
});
