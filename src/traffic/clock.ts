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
