/** Time as the traffic operations see it: injectable, so tests never sleep for a real TTL or monitor interval. */
import { setTimeout as delay } from 'node:timers/promises';

/** A clock: the current time and a way to wait. */
export interface TrafficClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const realClock: TrafficClock = {
  now: () => Date.now(),
  sleep: (ms) => (ms > 0 ? delay(ms) : Promise.resolve()),
};

/**
 * A clock that never waits: `sleep` advances its own time at once. For tests and dry runs; `slept` records every
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
