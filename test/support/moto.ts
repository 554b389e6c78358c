import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

/** A moto server of its own for one test file, on a free loopback port. */
export interface Moto {
  endpoint: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

// A hang guard, not a speed budget: a loaded machine may take a minute to start moto. Below
// jest's own guard (jest.config.js), so that the process is ended here, not left behind.
const START_GUARD_MS = 5 * 60_000;

async function waitUntilUp(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_GUARD_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer within ${START_GUARD_MS / 60_000} minutes`);
}

/**
 * The public AMIs moto knows, instead of its own lists: on the first EC2 call after every start and
 * reset, moto builds each of the thousands of "latest" and ECS-optimized AMIs it ships for the region,
 * about 3 s of CPU each time; given MOTO_AMIS_PATH, it builds only these. The tests launch from the
 * one public AMI here (an Amazon-owned image, as DescribeImages with Owners ['amazon'] finds it).
 */
const PUBLIC_AMIS = path.join(__dirname, '..', 'fixtures', 'moto', 'public-amis.json');

/**
 * Starts moto and points the AWS SDK at it (AWS_ENDPOINT_URL, dummy credentials, region).
 * Call from beforeAll; stop() in afterAll.
 */
export async function startMoto(region = 'eu-west-1'): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, MOTO_AMIS_PATH: PUBLIC_AMIS },
  });
  const spawnFailure = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(new Error(`moto_server could not start (${error.message}); see scripts/test-prerequisites.sh`)),
    ),
  );
  try {
    await Promise.race([waitUntilUp(endpoint, child), spawnFailure]);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  });
  return {
    endpoint,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve),
      );
    },
  };
}
