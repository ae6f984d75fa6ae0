/** Typed failures of traffic operations. */
import { PreconditionError, StackHubError } from '../shared/errors';
import type { TrafficFailureInfo, TrafficState } from './api';

/**
 * The routing was changed by someone else between our read and our write (Traffic Manager re-read differs, an
 * RFC 2136 prerequisite failed with NXRRSET/YXRRSET, a Hub DNS write answered 412). Nothing was written.
 */
export class TrafficConflictError extends PreconditionError {
  constructor(what: string, detail?: string) {
    super(`${what} was changed by someone else since it was read${detail ? ` (${detail})` : ''}: nothing was written; read the new state (status) and run again`);
  }
}

/** The change was written but the provider did not confirm it in time (it was reverted, or could not be). */
export class TrafficVerificationError extends StackHubError {}

/** Attaches what an undo needs to an error thrown during an operation (see {@link TrafficFailureInfo}). */
export function withTrafficInfo(err: unknown, info: TrafficFailureInfo): unknown {
  if (err === null || typeof err !== 'object') return err;
  const e = err as TrafficFailureInfo & { outputs?: Record<string, unknown> };
  if (info.previousState && !e.previousState) {
    e.previousState = info.previousState;
    e.outputs = { ...(e.outputs ?? {}), previousState: info.previousState, changed: info.written && !info.reverted ? 'true' : 'false' };
  }
  if (info.written !== undefined && e.written === undefined) e.written = info.written;
  if (info.reverted !== undefined && e.reverted === undefined) e.reverted = info.reverted;
  return err;
}

/** The previous state an error carries, if any. */
export function previousStateOf(err: unknown): TrafficState | undefined {
  return (err as TrafficFailureInfo | undefined)?.previousState;
}
