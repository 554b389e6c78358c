import { randomUUID } from 'node:crypto';
import { GetImageCommand, StartImagePipelineExecutionCommand } from '@aws-sdk/client-imagebuilder';
import type { Clients } from './clients';
import { OperationFailedError } from './errors';
import type { Io } from './io';
import type { WorkerStack } from './stack';
import { duration } from './text';

const POLL_MS = 30_000;
const DONE = new Set(['AVAILABLE', 'FAILED', 'CANCELLED', 'DEPRECATED', 'DELETED', 'DISABLED']);

/**
 * Starts a build of the worker image (same Concourse version, fresh OS packages). The version check
 * adopts a build started by hand, and the rollout follows when it is AVAILABLE.
 */
export async function rebuild(
  clients: Pick<Clients, 'imagebuilder'>,
  stack: WorkerStack,
  io: Io,
  options: { wait: boolean },
): Promise<void> {
  const { imageBuildVersionArn } = await clients.imagebuilder.send(
    new StartImagePipelineExecutionCommand({
      imagePipelineArn: stack.imagePipelineArn,
      clientToken: randomUUID(),
    }),
  );
  io.out(`image build started: ${imageBuildVersionArn}`);
  if (!options.wait || !imageBuildVersionArn) {
    io.out('the rollout starts by itself when it is available; follow it with: external-worker status');
    return;
  }
  const started = io.now().getTime();
  let last = '';
  for (;;) {
    const { image } = await clients.imagebuilder.send(new GetImageCommand({ imageBuildVersionArn }));
    const status = image?.state?.status ?? 'UNKNOWN';
    if (status !== last) {
      io.err(`  ${duration((io.now().getTime() - started) / 1000).padStart(6)}  ${status}`);
      last = status;
    }
    if (status === 'AVAILABLE') {
      io.out('image available: the rollout starts now (external-worker rollout status)');
      return;
    }
    if (DONE.has(status))
      throw new OperationFailedError(`image build ${status}: ${image?.state?.reason ?? 'no reason given'}`);
    await io.sleep(POLL_MS);
  }
}
