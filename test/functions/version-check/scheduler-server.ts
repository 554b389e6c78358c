import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The answers a scheduler's /api/v1/info can give, good and bad. */
export type Answer =
  | { kind: 'version'; version: string }
  | { kind: 'status'; status: number }
  | { kind: 'slow' }
  | { kind: 'slow-body' }
  | { kind: 'text'; body: string }
  | { kind: 'json'; body: unknown }
  | { kind: 'redirect-loop' }
  | { kind: 'redirect-once'; version: string }
  | { kind: 'huge'; bytes: number; announce: boolean };

/** A real HTTP server on 127.0.0.1 standing in for the scheduler; `answer` is what it says next. */
export interface SchedulerServer {
  address: string;
  answer: Answer;
  requests: number;
  close(): Promise<void>;
}

export async function startSchedulerServer(): Promise<SchedulerServer> {
  const state = { answer: { kind: 'version', version: '7.11.2' } as Answer, requests: 0 };
  const server = http.createServer((request, response) => {
    state.requests++;
    const answer = state.answer;
    switch (answer.kind) {
      case 'version':
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ version: answer.version, worker_version: '2.5', external_url: 'x' }));
        return;
      case 'status':
        response.statusCode = answer.status;
        response.end('{"error":"boom"}');
        return;
      case 'slow':
        // Never answers: the client's timeout must end the exchange.
        return;
      case 'slow-body':
        // Headers and the start of a body, then nothing more.
        response.setHeader('content-type', 'application/json');
        response.write('{"version":');
        return;
      case 'text':
        response.end(answer.body);
        return;
      case 'json':
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(answer.body));
        return;
      case 'redirect-loop':
        response.statusCode = 302;
        response.setHeader('location', request.url ?? '/api/v1/info');
        response.end();
        return;
      case 'redirect-once':
        if (request.url === '/api/v1/info') {
          response.statusCode = 301;
          response.setHeader('location', '/moved/api/v1/info');
          response.end();
        } else {
          response.end(JSON.stringify({ version: answer.version }));
        }
        return;
      case 'huge': {
        response.setHeader('content-type', 'application/json');
        if (answer.announce) response.setHeader('content-length', String(answer.bytes));
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < answer.bytes) {
            sent += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
          response.end();
        };
        response.on('error', () => undefined);
        pump();
        return;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    get answer() {
      return state.answer;
    },
    set answer(value: Answer) {
      state.answer = value;
    },
    get requests() {
      return state.requests;
    },
    set requests(value: number) {
      state.requests = value;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
