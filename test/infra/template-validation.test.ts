import * as fs from 'node:fs';
import * as path from 'node:path';
import { synth } from '../support/stack';

/**
 * CDK's built-in CloudFormation validation (resource schemas and the default rules, errors failing
 * synthesis as cdk.json asks with @aws-cdk/core:validateAgainstDefaultRules) is the slowest part of
 * a synthesis, so the other tests skip it. It runs here on the default configuration, and on the
 * two fullest ones: every optional resource and property any configuration adds is in one of them.
 */
const FULLEST_SPOT = {
  customer: 'acme',
  teamId: 'acme',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  bastionSecurityGroupId: 'sg-0123456789abcdef0',
  metricsSecurityGroupId: 'sg-0fedcba9876543210',
  securityGroupIds: 'sg-0123456789abcdef0,sg-0fedcba9876543210',
  associatePublicIp: true,
  workerEnvironment: { CONCOURSE_CONTAINERD_MAX_CONTAINERS: '250' },
  keyPairName: 'ops',
  extraTags: { team: 'ci' },
  instanceType: 'c5d.2xlarge,m5d.2xlarge',
  schedule: { start: '0 7 * * 1-5', stop: '0 20 * * 1-5' },
  desiredCapacity: 2,
  minSize: 1,
  maxSize: 9,
  rootVolumeSize: 30,
  dataVolumeSize: 200,
  workerTag: 'fast',
  workerDnsServer: '10.0.0.2',
  workerVersion: '7.11.2',
  keepRunningOnBootFailure: true,
  notificationEmail: 'ops@example.com',
  logRetentionDays: 90,
  amiRetention: 5,
};

const FULLEST_ONDEMAND = {
  capacity: 'ondemand',
  associatePublicIp: false,
  ebsOptimized: false,
  workerAmiId: 'ami-0123456789abcdef0',
  workerKeyParameter: '/ci/secret/key',
  fsVolumeType: 'ext4',
  useLocalDevice: true,
  varLibDevice: '/dev/xvdf',
  bootTimeout: '20m',
  drainTimeout: '3h',
  versionCheckInterval: '15m',
};

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
