import { AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import type { LambdaHandler } from '../../support/asl-harness';
import { type Moto, startMoto } from '../../support/moto';
import { output } from '../../support/output';

let moto: Moto;
let handler: LambdaHandler;
beforeAll(async () => {
  moto = await startMoto();
  // The group on version 2 of 2: nothing to prune, the versions are reported with their reasons.
  const { LaunchTemplate } = await new EC2Client({}).send(
    new CreateLaunchTemplateCommand({ LaunchTemplateName: 'ew-handler-worker', LaunchTemplateData: {} }),
  );
  const launchTemplateId = LaunchTemplate?.LaunchTemplateId as string;
  await new EC2Client({}).send(
    new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: launchTemplateId, LaunchTemplateData: {} }),
  );
  await new AutoScalingClient({}).send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'ew-handler-workers',
      MinSize: 0,
      MaxSize: 1,
      AvailabilityZones: ['eu-west-1a'],
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '2' },
    }),
  );
  Object.assign(process.env, {
    STACK_NAME: 'ew-handler',
    LAUNCH_TEMPLATE_ID: launchTemplateId,
    GROUP_NAME: 'ew-handler-workers',
    AMI_RETENTION: '1',
    CURRENT_AMI_PARAMETER: '/ew/handler/current-ami',
  });
  handler = (await import('../../../functions/ami-retention/handler')).handler as LambdaHandler;
});
afterAll(async () => moto.stop());

const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'ami-retention',
  awsRequestId: 'test',
};

describe('ami-retention handler', () => {
  test('a malformed input fails at once and deletes nothing', async () => {
    await expect(handler({ protectNewerThan: 'yesterday' }, context)).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
    await expect(handler({ protectAmis: ['not-an-ami'] }, context)).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
  });

  test.each([
    [{ dryrun: true }, 'unknown key "dryrun"'],
    [{ dryRun: true, protect: ['ami-1'] }, 'unknown key "protect"'],
    [{ source: 'manual' }, 'source'],
    [{ dryRun: 'yes' }, 'dryRun'],
  ])(
    '%j is refused, naming the key and the expected form, before anything is read or deleted',
    async (input, key) => {
      const ec2 = new EC2Client({});
      const { ImageId } = await ec2.send(
        new RegisterImageCommand({ Name: `typo-${key}`, RootDeviceName: '/dev/xvda' }),
      );
      await ec2.send(
        new CreateTagsCommand({
          Resources: [ImageId as string],
          Tags: [{ Key: 'external-worker:stack', Value: 'ew-handler' }],
        }),
      );
      const error = await handler(input, context).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'InvalidInputError' });
      expect(String((error as Error).message)).toContain(key);
      expect(String((error as Error).message)).toContain('expected {"dryRun"?: true|false');
      const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId as string] }));
      expect(Images).toHaveLength(1);
      await ec2.send(new DeregisterImageCommand({ ImageId: ImageId as string }));
    },
  );

  test('the daily run and the dry run report kept and deleted AMIs', async () => {
    const ec2 = new EC2Client({});
    const ids: string[] = [];
    for (const name of ['a', 'b']) {
      const { ImageId } = await ec2.send(
        new RegisterImageCommand({ Name: name, RootDeviceName: '/dev/xvda' }),
      );
      await ec2.send(
        new CreateTagsCommand({
          Resources: [ImageId as string],
          Tags: [{ Key: 'external-worker:stack', Value: 'ew-handler' }],
        }),
      );
      ids.push(ImageId as string);
    }
    const dry = (await handler({ source: 'schedule', dryRun: true }, context)) as {
      dryRun: boolean;
      kept: unknown[];
      deleted: unknown[];
    };
    expect(dry.dryRun).toBe(true);
    expect(dry.kept).toHaveLength(1);
    expect(dry.deleted).toHaveLength(1);
    // A dry run counts nothing: summing the records' counts sums real deletions only.
    const dryRecords = output.logs().filter((record) => record.message === 'AMI retention done');
    expect(dryRecords).toHaveLength(1);
    expect(dryRecords[0]).not.toHaveProperty('amisDeleted');
    output.clear();
    const real = (await handler({ source: 'schedule' }, context)) as {
      deleted: unknown[];
      keptVersions: unknown[];
      prunedVersions: unknown[];
    };
    expect(real.deleted).toEqual(dry.deleted);
    expect(real.prunedVersions).toEqual([]);
    expect(real.keptVersions).toEqual([
      { version: 2, reason: 'latest' },
      { version: 1, reason: 'default' },
    ]);
    // What it deleted is in its record (the dashboard and the CLI read it), not in metrics.
    expect(output.metrics()).toEqual({});
    expect(output).toHaveLogged({
      message: 'AMI retention done',
      dryRun: false,
      amisDeleted: 1,
      snapshotsDeleted: 1,
      versionsDeleted: 0,
    });
  });
});
