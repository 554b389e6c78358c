import {
  DeleteSnapshotCommand,
  type DeleteSnapshotReturnCode,
  type DeregisterImageCommandInput,
  type DeregisterImageCommandOutput,
  DescribeImagesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';

/**
 * moto ignores DeregisterImage's `DeleteAssociatedSnapshots`: it deregisters the AMI and leaves its
 * snapshots. This middleware makes a client do what EC2 documents
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html): the AMI's
 * snapshots are deleted with it, except one another AMI is still associated with (`skipped`), and
 * the outcome of each is reported in `DeleteSnapshotResults`. Our own calls go through a plain
 * client to the same endpoint.
 */
export function deregisterWithSnapshots(ec2: EC2Client): EC2Client {
  const plain = new EC2Client({});
  ec2.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as DeregisterImageCommandInput;
      if (context.commandName !== 'DeregisterImageCommand' || !input.DeleteAssociatedSnapshots)
        return next(args);
      const { Images = [] } = await plain.send(
        new DescribeImagesCommand({ ImageIds: [input.ImageId ?? ''] }),
      );
      const snapshots = (Images[0]?.BlockDeviceMappings ?? []).flatMap((m) =>
        m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
      );
      const { DeleteAssociatedSnapshots: _asked, ...rest } = input;
      const result = await next({ ...args, input: rest });
      const DeleteSnapshotResults: DeleteSnapshotReturnCode[] = [];
      for (const SnapshotId of snapshots) {
        try {
          await plain.send(new DeleteSnapshotCommand({ SnapshotId }));
          DeleteSnapshotResults.push({ SnapshotId, ReturnCode: 'success' });
        } catch (error) {
          if ((error as Error).name !== 'InvalidSnapshot.InUse') throw error;
          DeleteSnapshotResults.push({ SnapshotId, ReturnCode: 'skipped' });
        }
      }
      const output = result.output as DeregisterImageCommandOutput;
      return { ...result, output: { ...output, DeleteSnapshotResults } };
    },
    { step: 'initialize', name: 'deregisterWithSnapshots' },
  );
  return ec2;
}
