import { DescribeInstanceRefreshesCommand, type InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import { GetImageCommand, StartImagePipelineExecutionCommand } from '@aws-sdk/client-imagebuilder';
import { cli, GROUP, mockedClients, PIPELINE, STACK } from './mocked';

const started = new Date('2026-12-01T11:50:00Z');
const refresh = (r: Partial<InstanceRefresh>): { InstanceRefreshes: InstanceRefresh[] } => ({
  InstanceRefreshes: [
    {
      InstanceRefreshId: 'refresh-1',
      AutoScalingGroupName: GROUP,
      StartTime: started,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '7' } },
      ...r,
    },
  ],
});

describe('rollout status', () => {
  test('follows the instance refresh until it succeeds, one line per change', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling
      .on(DescribeInstanceRefreshesCommand, { AutoScalingGroupName: GROUP, MaxRecords: 1 })
      .resolvesOnce(refresh({ Status: 'Pending' }))
      .resolvesOnce(refresh({ Status: 'InProgress', PercentageComplete: 0, InstancesToUpdate: 2 }))
      .resolvesOnce(refresh({ Status: 'InProgress', PercentageComplete: 0, InstancesToUpdate: 2 }))
      .resolvesOnce(refresh({ Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 1 }))
      .resolves(refresh({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 }));
    const { code, out, err, waitedMs } = await cli(clients, ['rollout', 'status', '--stack', STACK]);
    expect(code).toBe(0);
    expect(err).toEqual([
      '     10m  Pending, to launch template version 7',
      '     10m  InProgress, 0% done, 2 to replace, to launch template version 7',
      '     10m  InProgress, 50% done, 1 to replace, to launch template version 7',
    ]);
    expect(out).toEqual([
      `instance refresh refresh-1 of ${GROUP}, started 2026-12-01 11:50 UTC`,
      '     11m  Successful, 100% done, 0 to replace, to launch template version 7',
    ]);
    expect(waitedMs).toBe(4 * 15_000);
  });

  test('a refresh that rolled back is an error for scripts (exit code 5), with its reason', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling.on(DescribeInstanceRefreshesCommand).resolves(
      refresh({
        Status: 'RollbackSuccessful',
        StatusReason: 'The instance refresh was rolled back',
        RollbackDetails: { RollbackReason: 'Instances failed to launch: launch abandoned' },
      }),
    );
    const { code, out, err } = await cli(clients, ['rollout', 'status', '--stack', STACK]);
    expect(code).toBe(5);
    expect(out[1]).toBe(
      '     10m  RollbackSuccessful, to launch template version 7 — The instance refresh was rolled back',
    );
    expect(err).toEqual([
      'external-worker: the instance refresh ended RollbackSuccessful (rollback: Instances failed to launch: launch abandoned)',
    ]);
  });

  test('--no-wait reads once; a group never refreshed says so', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling.on(DescribeInstanceRefreshesCommand).resolvesOnce(refresh({ Status: 'InProgress' }));
    const once = await cli(clients, ['rollout', 'status', '--no-wait', '--stack', STACK]);
    expect(once).toMatchObject({ code: 0, waitedMs: 0 });
    expect(mocks.autoscaling.commandCalls(DescribeInstanceRefreshesCommand)).toHaveLength(1);

    mocks.autoscaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
    expect(await cli(clients, ['rollout', 'status', '--stack', STACK])).toMatchObject({
      code: 0,
      out: [`no instance refresh of ${GROUP} yet`],
    });
  });
});

describe('rebuild', () => {
  const image = `arn:aws:imagebuilder:eu-west-1:123456789012:image/${STACK}-worker/1.0.0/5`;

  test('starts the stack pipeline, and with --wait follows the build until it is available', async () => {
    const { clients, mocks } = mockedClients();
    mocks.imagebuilder.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: image });
    mocks.imagebuilder
      .on(GetImageCommand, { imageBuildVersionArn: image })
      .resolvesOnce({ image: { state: { status: 'BUILDING' } } })
      .resolvesOnce({ image: { state: { status: 'TESTING' } } })
      .resolves({ image: { state: { status: 'AVAILABLE' } } });
    const { code, out, err } = await cli(clients, ['rebuild', '--wait', '--stack', STACK]);
    expect(code).toBe(0);
    const start = mocks.imagebuilder.commandCalls(StartImagePipelineExecutionCommand);
    expect(start).toHaveLength(1);
    expect(start[0]?.args[0].input).toEqual({ imagePipelineArn: PIPELINE, clientToken: expect.any(String) });
    expect(out).toEqual([
      `image build started: ${image}`,
      'image available: the rollout starts now (external-worker rollout status)',
    ]);
    expect(err).toEqual(['      0s  BUILDING', '     30s  TESTING', '      1m  AVAILABLE']);
  });

  test('a failed build is exit code 5 with its reason', async () => {
    const { clients, mocks } = mockedClients();
    mocks.imagebuilder.on(StartImagePipelineExecutionCommand).resolves({ imageBuildVersionArn: image });
    mocks.imagebuilder
      .on(GetImageCommand)
      .resolves({ image: { state: { status: 'FAILED', reason: 'Step RunPlaybook failed' } } });
    const { code, err } = await cli(clients, ['rebuild', '--wait', '--stack', STACK]);
    expect(code).toBe(5);
    expect(err.at(-1)).toBe('external-worker: image build FAILED: Step RunPlaybook failed');
  });
});
