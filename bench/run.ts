// First: registers the module resolution and the quiet environment the imports below rely on.
import './setup';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synth } from '../test/support/stack';
import { benchBundles } from './bundles';
import { countTemplate, DEFAULT_ASSUMPTIONS, invocations, type Measured, monthlyCost } from './cost';
import { allCustomMetricSeries } from './custom-metrics';
import { functionEnvironments } from './function-env';
import { duration, table, usd } from './markdown';
import { benchReplacement } from './replacement';
import { AMIS, benchRetention, type RetentionRun } from './retention';
import { QUIET } from './setup';
import { benchSuite, SUITE_LINE_BUDGET, SUITE_TARGET_SECONDS, suiteSection } from './suite';
import { benchTransitions } from './transitions';

/**
 * `npm run bench`: sizes and cold starts of every Lambda bundle, AMI retention at scale, state
 * transitions per flow, the time to a working replacement (bench/replacement.ts), the monthly cost
 * of the control plane and the test suite's wall time.
 * Budgets on sizes and counts make it exit non-zero; a time is judged as a ratio to another measured
 * on the same machine, except the suite's, judged against its two-core target by its CPU time, and
 * by its wall time when the machine was otherwise idle (bench/suite.ts).
 */
const BUDGET = {
  bundleBytes: 600 * 1024,
  coldRatio: 0.35,
  listingCalls: 13,
  retentionOverFloor: 1.2,
  healthyLaunchTransitions: 30,
  monthlyUsd: 8,
};
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const LAMBDA_TIMEOUT_SECONDS = 900;

async function main() {
  // The in-process logger and metrics read these when loaded; the bundles' cold starts run as in Lambda.
  for (const key of Object.keys(QUIET)) delete process.env[key];
  const failures: string[] = [];
  const lines: string[] = [];
  const { template } = synth({}, { bundle: false });
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-bench-'));

  const bundles = await benchBundles(outDir, RUNS, functionEnvironments(template));
  lines.push(
    '### Lambda bundles',
    '',
    `Median of ${RUNS} cold loads + init in fresh Node ${process.versions.node} processes, as the CPU time each takes (user + system, all threads: Lambda gives a function CPU in proportion to its memory, so its init lasts as long as the CPU it needs), each bundle loaded in alternation with its runtime-SDK build (the same code with \`@aws-sdk/*\` left to the Lambda runtime's CommonJS SDK), after what Lambda's runtime loads before any handler (\`node:http\`, for its Runtime API client). Budgets: ${BUDGET.bundleBytes / 1024} KB a bundle; for a function that sends SDK commands, cold load + init ≤ ${BUDGET.coldRatio} of its runtime-SDK build.`,
    '',
  );
  lines.push(
    ...table(
      [
        'function',
        'bytes',
        'runtime-SDK build bytes',
        'cold CPU ms',
        'runtime-SDK build cold CPU ms',
        'ratio',
      ],
      bundles.map((b) => [
        b.name,
        b.bytes,
        b.runtimeSdkBytes,
        b.coldMs.toFixed(1),
        b.runtimeSdkColdMs.toFixed(1),
        b.usesSdk
          ? `${(b.coldMs / b.runtimeSdkColdMs).toFixed(3)} (budget ≤ ${BUDGET.coldRatio})`
          : 'no SDK client',
      ]),
    ),
  );
  for (const b of bundles) {
    if (b.bytes > BUDGET.bundleBytes) failures.push(`${b.name}: ${b.bytes} bytes > ${BUDGET.bundleBytes}`);
    const ratio = b.coldMs / b.runtimeSdkColdMs;
    if (b.usesSdk && !(ratio <= BUDGET.coldRatio))
      failures.push(
        `${b.name}: cold start ${ratio.toFixed(3)} of the runtime-SDK build > ${BUDGET.coldRatio}`,
      );
  }

  const retention = [
    await benchRetention('quiet account'),
    // Other callers (launches, tags, consoles) take 80 % of every bucket's refill.
    await benchRetention('busy account', { mutating: 4, 'non-mutating': 16, 'unfiltered-non-mutating': 8 }),
  ];
  lines.push('', `### AMI retention over ${AMIS.toLocaleString('en-US')} AMIs`, '');
  lines.push(
    'In-memory EC2 (test/support/fake-account.ts) metered with EC2\'s request token buckets (non-mutating 100 + 20/s, unfiltered and unpaginated 50 + 10/s, mutating 200 + 5/s, per action), simulated clock; 1-2 snapshots an AMI, retention 3, some AMIs referenced by launch template versions, instances and the current-AMI parameter; 200 AMIs of another stack beside them; 50 snapshots an earlier run tagged and left, and 50 untagged ones of another stack. Simulated round trips: a DescribeImages page 1 s, other reads 0.2-0.3 s, each deletion 0.15-0.2 s. "Busy account": other callers take 80 % of every refill. Each EC2 action is paced by its own adaptive pacer, capped at 80 % of its bucket\'s refill. Floor: each action draws from its own bucket, so the slowest bounds the run: max over actions of (successful calls - bucket size) / rate, the rate being 80 % of the refill or what the other callers leave, if less.',
    '',
  );
  const row = (label: string, value: (r: RetentionRun) => string | number) => [
    label,
    ...retention.map(value),
  ];
  const overFloor = (r: RetentionRun) => r.simulatedSeconds / r.floorSeconds;
  lines.push(
    ...table(
      ['', ...retention.map((r) => r.scenario)],
      [
        row(
          `listing calls (DescribeImages, DescribeLaunchTemplateVersions, DescribeInstances, DescribeSnapshots pages; budget ≤ ${BUDGET.listingCalls})`,
          (r) => r.listingCalls,
        ),
        row('other reads (group, parameter)', (r) => r.otherReads),
        row('AMIs deregistered', (r) => r.deregistered),
        row('snapshots deleted (with their AMI, and swept)', (r) => r.snapshotsDeleted),
        row('of which swept (tagged by an earlier run, AMI gone)', (r) => r.sweptSnapshots),
        row('Image Builder images deleted', (r) => r.imageBuilderDeleted),
        row('AMIs kept', (r) => r.kept),
        row('EC2 mutating calls (DeregisterImage, CreateTags, DeleteSnapshot)', (r) =>
          ['DeregisterImage', 'CreateTags', 'DeleteSnapshot'].map((a) => r.mutations[a] ?? 0).join(', '),
        ),
        row('throttles hit (RequestLimitExceeded from the fake)', (r) => r.throttlesHit),
        row('throttling errors surfacing (budget 0)', (r) => r.throttlingSurfaced),
        row('AMIs or snapshots deleted that had to stay (budget 0)', (r) => r.wrongDeletions),
        row("this stack's snapshots left orphaned (budget 0)", (r) => r.orphansLeft),
        row('simulated elapsed time', (r) => duration(r.simulatedSeconds)),
        row('floor (EC2 buckets at the rate this caller may take)', (r) => duration(r.floorSeconds)),
        row(`measured / floor (budget ≤ ${BUDGET.retentionOverFloor})`, (r) => overFloor(r).toFixed(3)),
        row('floor with the whole refill (no share kept back, nobody else calling)', (r) =>
          duration(r.wholeRefillFloorSeconds),
        ),
        row('15-minute Lambda runs needed (function timeout)', (r) =>
          Math.ceil(r.simulatedSeconds / LAMBDA_TIMEOUT_SECONDS),
        ),
      ],
    ),
  );
  for (const r of retention) {
    if (r.listingCalls > BUDGET.listingCalls)
      failures.push(`retention (${r.scenario}): ${r.listingCalls} listing calls > ${BUDGET.listingCalls}`);
    if (r.throttlingSurfaced > 0) failures.push(`retention (${r.scenario}): a throttling error surfaced`);
    if (r.wrongDeletions > 0)
      failures.push(
        `retention (${r.scenario}): ${r.wrongDeletions} AMIs or snapshots deleted that had to stay`,
      );
    if (r.orphansLeft > 0)
      failures.push(`retention (${r.scenario}): ${r.orphansLeft} snapshots left orphaned`);
    if (!(overFloor(r) <= BUDGET.retentionOverFloor))
      failures.push(
        `retention (${r.scenario}): ${overFloor(r).toFixed(3)} × the floor > ${BUDGET.retentionOverFloor}`,
      );
  }

  const flows = await benchTransitions();
  lines.push(
    '',
    '### State transitions per flow',
    '',
    'Counted by the local harness (states entered) against moto, the calls moto lacks mocked.',
    '',
  );
  lines.push(
    ...table(
      ['flow', 'transitions'],
      flows.flows.map((f, i) => [
        i === 0 ? `${f.flow} (budget ≤ ${BUDGET.healthyLaunchTransitions})` : f.flow,
        f.transitions,
      ]),
    ),
  );
  if (flows.launch > BUDGET.healthyLaunchTransitions) {
    failures.push(`healthy launch: ${flows.launch} transitions > ${BUDGET.healthyLaunchTransitions}`);
  }

  const replacement = await benchReplacement(Object.fromEntries(bundles.map((b) => [b.name, b.coldMs])));
  lines.push('', ...replacement.lines);
  failures.push(...replacement.failures);

  const a = DEFAULT_ASSUMPTIONS;
  const counts = countTemplate(template.toJSON() as Parameters<typeof countTemplate>[0]);
  const series = allCustomMetricSeries();
  const measured: Measured = {
    // A launch is costed with 3 pending polls: boots are rarely done at the first look.
    flows: { ...flows, launch: flows.launchAfterPolls },
    lambdaPerLaunch: flows.lambdaPerLaunch,
    lambdaPerDrain: flows.lambdaPerDrain,
    lambdaPerRollout: flows.lambdaPerRollout,
    coldMs: Object.fromEntries(bundles.map((b) => [b.name, b.coldMs])),
    template: counts,
    customMetrics: series.length,
  };
  const cost = monthlyCost(measured, a);
  const totalUsd = cost.reduce((s, c) => s + c.usd, 0);
  const calls = invocations(measured, a);
  const dimensionSets = [...new Set(series.map((m) => m.dimensions.join(' + ')))];
  lines.push('', `### Monthly cost of the control plane, ${a.workers} workers`, '');
  lines.push(
    "Counts from the synthesized template (alarms and the metrics they evaluate, dashboards and their Logs Insights widgets, keys, schedules, rules, log retention, tracing, group metrics) and from the EMF documents the functions' Metrics print for every metric name their code emits; volumes from the flows the bench ran and the assumptions below.",
    '',
  );
  lines.push(
    ...table(
      ['assumption', 'value'],
      [
        ['version check every', `${a.versionCheckMinutes} min`],
        ['launches (and drains) a worker a month', a.launchesPerWorker],
        ['launch costed as', `healthy after 3 pending polls (${flows.launchAfterPolls} transitions)`],
        ['rollouts a month × refresh minutes', `${a.rolloutsPerMonth} × ${a.rolloutMinutes}`],
        ['Spot interruptions a worker a month', a.spotInterruptionsPerWorker],
        ['Spot launch failures a month', a.spotLaunchFailures],
        ['Lambda', `arm64, ${a.lambdaMb} MB, every invocation cold (measured init) + handler time`],
        ...Object.entries(calls).map(([name, n]) => [
          `${name}: invocations, handler ms`,
          `${Math.round(n)}, ${a.handlerMs[name] ?? 0}`,
        ]),
        [
          'alarms (metrics they evaluate), dashboards, KMS keys',
          `${counts.alarms} (${counts.standardAlarmMetrics + counts.highResolutionAlarmMetrics}), ${counts.dashboards}, ${counts.kmsKeys} (from the template)`,
        ],
        [
          'custom metrics',
          `${series.length} (${series.map((m) => m.name).join(', ')}), dimensions ${dimensionSets.join('; ')}: each read by an alarm`,
        ],
        [
          'dashboard Logs Insights widgets (log groups each scans)',
          counts.logWidgets.map((w) => `${w.title} (${w.sources.length})`).join(', '),
        ],
        [
          'dashboard loads a month, range each',
          `${a.dashboardViews}, ${counts.dashboardRangeDays} day${counts.dashboardRangeDays === 1 ? '' : 's'} (the dashboard's default); a control-plane log group scanned as if it held all ${a.logGb} GB, the worker logs ${a.workerLogGb} GB a month`,
        ],
        [
          'control-plane logs a month',
          `${a.logGb} GB (function records, state machine logs at level ALL), kept ${counts.logRetentionDays} days`,
        ],
        ['notifications a month', `${a.notifications}, each e-mailed once`],
        [
          'free',
          `AWS service events and scheduled rules on the default bus (${counts.rules} rules); Auto Scaling group metrics at 1-minute granularity (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-metrics.html); SSM standard parameters (the functions write Standard tier); AWS/Lambda, AWS/States, AWS/SQS metrics`,
        ],
        [
          'prices',
          'us-east-1/eu-west-1 list prices, free tiers ignored; an alarm billed per metric it evaluates, $0.30 at high resolution (https://aws.amazon.com/cloudwatch/pricing/)',
        ],
      ],
    ),
    '',
  );
  lines.push(
    ...table(
      ['item', 'quantity', 'USD / month'],
      [
        ...cost.map((c) => [c.item, c.quantity, usd(c.usd)]),
        [`**total** (budget ≤ ${usd(BUDGET.monthlyUsd)})`, '', `**${usd(totalUsd)}**`],
      ],
    ),
  );
  if (totalUsd > BUDGET.monthlyUsd) {
    failures.push(`monthly cost: ${usd(totalUsd)} > ${usd(BUDGET.monthlyUsd)}`);
  }

  if (process.env.BENCH_SUITE !== '0') {
    const suite = benchSuite(path.join(__dirname, '..'));
    lines.push('', ...suiteSection(suite));
    if (suite.failed > 0 || suite.failures.length > 0)
      failures.push(`test suite: ${suite.failed} tests failed`, ...suite.failures.map((f) => `  ${f}`));
    if (suite.verdict === 'over')
      failures.push(`test suite: over ${SUITE_TARGET_SECONDS / 60} min (${suite.reason})`);
    if (suite.lines >= SUITE_LINE_BUDGET)
      failures.push(`test suite: a passing run printed ${suite.lines} lines (budget < ${SUITE_LINE_BUDGET})`);
  }

  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  fs.writeFileSync(path.join(__dirname, 'results.md'), `# Benchmark results\n\n${text}`);
  if (failures.length) {
    process.stderr.write(`budgets exceeded:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.exit(1);
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
