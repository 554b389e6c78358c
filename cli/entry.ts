import * as readline from 'node:readline';
import { awsClients } from './clients';
import type { Io } from './io';
import { run } from './main';

/** The process's own input and output. */
const io: Io = {
  out: (...lines) => {
    for (const line of lines) process.stdout.write(`${line}\n`);
  },
  err: (...lines) => {
    for (const line of lines) process.stderr.write(`${line}\n`);
  },
  ask: (question) =>
    new Promise((resolve) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: false });
      let answered = false;
      process.stderr.write(question);
      rl.once('line', (line) => {
        answered = true;
        rl.close();
        resolve(line);
      });
      rl.once('close', () => {
        if (!answered) resolve(undefined);
      });
    }),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => new Date(),
};

run(process.argv.slice(2), { clients: awsClients, io }).then((code) => {
  process.exitCode = code;
});
