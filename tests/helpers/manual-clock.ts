/** A traffic clock that never waits (test-only: moved out of src/traffic/clock.ts). */
import type { TrafficClock } from '../../src/traffic/clock';

/**
 * A clock that never waits: `sleep` advances its own time at once. For tests and benches; `slept` records every
 * wait asked for.
 */
export class ManualClock implements TrafficClock {
  readonly slept: number[] = [];
  constructor(private time = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.time += Math.max(0, ms);
  }
  /** Moves the time forward without a sleep (e.g. from a test's fake server). */
  advance(ms: number): void {
    this.time += ms;
  }
}
