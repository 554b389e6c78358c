/**
 * Simulated time: `sleep` never waits, it schedules a wake-up; `run` moves the clock to the
 * earliest wake-up whenever every pending promise is blocked on one. Concurrent sleepers (the
 * listings run in parallel) therefore overlap as they would in real time instead of adding up.
 */
export class VirtualClock {
  private current = 0;
  private sequence = 0;
  private readonly timers: Array<{ at: number; sequence: number; wake: () => void }> = [];

  readonly now = (): number => this.current;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((wake) => {
      this.timers.push({ at: this.current + Math.max(0, ms), sequence: this.sequence++, wake });
    });

  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    while (!settled) {
      // Nothing here does real I/O: once the macrotask queue is reached, every microtask has run.
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) break;
      this.timers.sort((a, b) => a.at - b.at || a.sequence - b.sequence);
      const next = this.timers.shift();
      if (!next) throw new Error('simulation stalled: nothing is running and nothing is sleeping');
      this.current = next.at;
      next.wake();
    }
    return watched;
  }
}
