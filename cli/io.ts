/** Where a command writes, how it waits and what time it is: the process's, or a test's. */
export interface Io {
  /** Results: the text a user reads, or the JSON a script parses. */
  out(...lines: string[]): void;
  /** Progress and errors, on stderr so that `--json` output stays parseable. */
  err(...lines: string[]): void;
  /** One line typed by the user (destroy's confirmation); undefined at end of input. */
  ask(question: string): Promise<string | undefined>;
  sleep(ms: number): Promise<void>;
  now(): Date;
}
