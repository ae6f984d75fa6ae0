/**
 * Typed errors. `runCapability` turns each into exactly one line for the user; a stack trace is printed only in
 * debug mode. Anything that is not a {@link StackHubError} is a bug and is reported as such.
 */

/** Base class of every expected failure. */
export class StackHubError extends Error {
  /**
   * Outputs that hold even though the run failed (e.g. the state an `undo` needs after a change that could not be
   * verified). `runCapability` sets those the capability declares before marking the run failed. Never secrets.
   */
  outputs?: Record<string, unknown>;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An input is missing or malformed. The message names the input and what was expected. */
export class InputError extends StackHubError {
  constructor(
    /** The input's name as in task.json / action.yml (camelCase). */
    readonly input: string,
    /** What was expected, e.g. "expected one of helm, kubectl". */
    readonly expected: string,
  ) {
    super(`input '${input}': ${expected}`);
  }
}

/** The world is not in a state where the operation may run (an endpoint is unhealthy, state is missing, ...). */
export class PreconditionError extends StackHubError {}

/** A child tool failed. Carries its exit code and the last lines of its stderr (already masked). */
export class ToolError extends StackHubError {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly stderrTail: string[],
    message?: string,
  ) {
    const last = stderrTail.filter((l) => l.trim() !== '').slice(-1)[0];
    super(
      message ??
        `${tool} failed${exitCode === null ? '' : ` with exit code ${exitCode}`}${last ? `: ${last.trim()}` : ''}`,
    );
  }
}

/** A child tool or an HTTP call did not finish in time. */
export class TimeoutError extends StackHubError {}

/** Renders any thrown value as one line (no newlines), for the failure message. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\r?\n\s*/g, ' ').trim();
}
