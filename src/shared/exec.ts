/**
 * Child processes: always an argv array (never a shell string), output streamed line by line to the log (masked,
 * ANSI stripped), a bounded tail kept for error messages, a timeout that kills the whole process tree, and an
 * environment from which secrets are removed unless passed on purpose.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import type { Logger } from '../types';
import { TimeoutError, ToolError } from './errors';
import type { Masker } from './mask';

/** Options of {@link exec}. */
export interface ExecOptions {
  cwd?: string;
  /** Variables added to the child's environment on purpose (may hold secrets the child needs). */
  env?: Record<string, string | undefined>;
  /** Base environment before scrubbing (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Kill the process tree after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL (default 5 s). */
  killGraceMs?: number;
  /**
   * How long to wait for stdout/stderr to end after the child exited (default 2 s). A grandchild that keeps the
   * pipes open past that is killed with the rest of the process group and its output is cut off.
   */
  streamGraceMs?: number;
  /** Written to the child's stdin, then stdin is closed. */
  input?: string | Buffer | Readable;
  /**
   * What to do with stdout: `log` (default) streams lines to the log; `capture` keeps it (bounded) for the caller
   * and never logs it (for output that holds user data); `pipe` writes raw bytes to `stdoutTo`.
   */
  stdout?: 'log' | 'capture' | 'pipe';
  stdoutTo?: Writable;
  /** stderr lines go to the log as debug instead of info. */
  quietStderr?: boolean;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: number[];
  /** Tool name for messages (default the file's basename). */
  label?: string;
  /** Called for every stdout/stderr line (after masking), e.g. to drive progress. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  log?: Logger;
  masker?: Masker;
  /** Largest captured stdout (default 8 MiB); more is an error. */
  maxCaptureBytes?: number;
  /**
   * Aborting kills the process tree (SIGTERM, then SIGKILL after killGraceMs); the promise then rejects with the
   * signal's reason when it is an Error, else with a ToolError saying the tool was stopped.
   */
  signal?: AbortSignal;
}

/** Result of a finished child. */
export interface ExecResult {
  exitCode: number;
  /** Captured stdout (only with stdout: 'capture'). */
  stdout: string;
  /** The last stderr lines (masked), for messages. */
  stderrTail: string[];
}

const TAIL_LINES = 20;
// eslint-disable-next-line no-control-regex -- matching ESC/BEL of terminal escape sequences is the point
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

/** Environment variables that CI systems use for secrets and tokens; never passed to children. */
const SECRET_ENV = /^(INPUT_|SECRET_|ENDPOINT_AUTH|SECUREFILE_|ACTIONS_RUNTIME_TOKEN$|ACTIONS_ID_TOKEN_REQUEST_|SYSTEM_ACCESSTOKEN$|GITHUB_TOKEN$|VSTS_SECRET)/i;

/** Strips ANSI colour and cursor sequences. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/**
 * Per masker, whether an environment value holds a registered secret, while the set of secrets is unchanged: every
 * spawn passes the same values, and a release over many sites registers every kubeconfig line, so checking each value
 * against every secret on every spawn grew with sites × spawns. A new secret starts a fresh map.
 */
const verdicts = new WeakMap<Masker, { size: number; map: Map<string, boolean> }>();
function secretVerdicts(masker: Masker): Map<string, boolean> {
  let v = verdicts.get(masker);
  if (!v || v.size !== masker.size) verdicts.set(masker, (v = { size: masker.size, map: new Map() }));
  return v.map;
}

/**
 * The environment a child gets: the base minus CI secret variables and any variable whose value holds a registered
 * secret, plus `extra` (secrets passed on purpose).
 */
export function childEnv(
  base: NodeJS.ProcessEnv,
  masker: Masker | undefined,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const holds = masker ? secretVerdicts(masker) : undefined;
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || SECRET_ENV.test(k)) continue;
    if (holds) {
      let h = holds.get(v);
      if (h === undefined) holds.set(v, (h = masker!.contains(v)));
      if (h) continue;
    }
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

const live = new Set<ChildProcess>();

/** Kills a child and everything it started (its process group on POSIX, taskkill /T on Windows). */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null;
  try {
    if (process.platform === 'win32') {
      if (exited) return; // taskkill /T needs the parent to walk the tree
      spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    } else {
      // The group outlives its leader while grandchildren run (and its id is not reused while the group exists),
      // so it is signalled even after the leader has exited; ESRCH when nothing is left.
      process.kill(-child.pid, signal);
    }
  } catch {
    if (exited) return;
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** Kills every child still running (used when the step is cancelled). */
export function killAllChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const c of live) killTree(c, signal);
}

/** Splits a byte stream into lines and calls `fn` for each (the last partial line at end). */
function lines(stream: Readable, fn: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        fn(buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
      }
      // a progress bar without newlines must not grow the buffer without bound
      if (buf.length > 64 * 1024) {
        fn(buf);
        buf = '';
      }
    });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (buf !== '') fn(buf.replace(/\r$/, ''));
      resolve();
    };
    stream.on('end', end);
    stream.on('close', end); // destroyed after the stream grace period
    stream.on('error', () => resolve());
  });
}

/**
 * Runs `file` with `args` and resolves when it exits with an OK code. A non-OK exit rejects with {@link ToolError}
 * (exit code + masked stderr tail); a timeout rejects with {@link TimeoutError} after killing the process tree; a
 * missing executable rejects with a ToolError that says so.
 */
export function exec(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const label = opts.label ?? file.split(/[\\/]/).pop() ?? file;
  const scrub = (s: string): string => (opts.masker ? opts.masker.scrub(s) : s);
  const stdoutMode = opts.stdout ?? 'log';
  const maxCapture = opts.maxCaptureBytes ?? 8 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 10 * 60 * 1000;
  const okCodes = opts.okExitCodes ?? [0];

  return new Promise<ExecResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], {
        cwd: opts.cwd,
        env: childEnv(opts.baseEnv ?? process.env, opts.masker, opts.env),
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
        windowsHide: true,
        shell: false,
      });
    } catch (e) {
      reject(new ToolError(label, null, [], `cannot start ${label}: ${(e as Error).message}`));
      return;
    }
    live.add(child);
    const tail: string[] = [];
    const captured: Buffer[] = [];
    let capturedBytes = 0;
    let failure: Error | undefined;
    let timedOut = false;

    const onLine = (line: string, stream: 'stdout' | 'stderr'): void => {
      const clean = scrub(stripAnsi(line));
      if (stream === 'stderr') {
        tail.push(clean);
        if (tail.length > TAIL_LINES) tail.shift();
        if (opts.quietStderr) opts.log?.debug(clean);
        else opts.log?.toolOutput(clean);
      } else {
        opts.log?.toolOutput(clean);
      }
      opts.onLine?.(clean, stream);
    };

    const done: Promise<void>[] = [];
    if (stdoutMode === 'log') done.push(lines(child.stdout!, (l) => onLine(l, 'stdout')));
    else if (stdoutMode === 'capture') {
      child.stdout!.on('data', (b: Buffer) => {
        capturedBytes += b.length;
        if (capturedBytes > maxCapture) {
          failure ??= new ToolError(label, null, [], `${label} printed more than ${maxCapture} bytes`);
          killTree(child);
          return;
        }
        captured.push(b);
      });
      done.push(new Promise((r) => child.stdout!.on('end', r).on('close', r).on('error', () => r(undefined))));
    } else {
      if (!opts.stdoutTo) throw new Error('bug: stdout pipe without stdoutTo');
      child.stdout!.pipe(opts.stdoutTo, { end: false });
      done.push(new Promise((r) => child.stdout!.on('end', r).on('close', r).on('error', () => r(undefined))));
    }
    done.push(lines(child.stderr!, (l) => onLine(l, 'stderr')));

    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', (e: NodeJS.ErrnoException) => {
        // EPIPE: the child exited without reading all of its input; its exit code tells the story.
        if (e.code !== 'EPIPE') failure ??= e;
      });
      if (opts.input instanceof Readable) opts.input.pipe(child.stdin);
      else child.stdin.end(opts.input);
    }

    let killTimer: NodeJS.Timeout | undefined;
    let aborted = false;
    const onAbort = (): void => {
      if (aborted) return;
      aborted = true;
      const reason: unknown = opts.signal?.reason;
      failure ??= reason instanceof Error ? reason : new ToolError(label, null, tail, `${label} was stopped`);
      killTree(child, 'SIGTERM');
      killTimer = setTimeout(() => killTree(child, 'SIGKILL'), opts.killGraceMs ?? 5000);
      killTimer.unref();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child, 'SIGTERM');
      killTimer = setTimeout(() => killTree(child, 'SIGKILL'), opts.killGraceMs ?? 5000);
      killTimer.unref();
    }, timeoutMs);

    child.on('error', (e: NodeJS.ErrnoException) => {
      failure ??=
        e.code === 'ENOENT'
          ? new ToolError(label, null, [], `${label} not found: ${file}`)
          : new ToolError(label, null, [], `cannot run ${label}: ${e.message}`);
    });
    // After the leader exits, wait a bounded time for the pipes: a grandchild (a daemon, or one that ignores
    // SIGTERM) may hold them open. Past that, the process group is killed and the streams are cut.
    let streamTimer: NodeJS.Timeout | undefined;
    child.on('exit', () => {
      streamTimer = setTimeout(() => {
        killTree(child, 'SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, opts.streamGraceMs ?? 2000);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (streamTimer) clearTimeout(streamTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      live.delete(child);
      // the group may still hold grandchildren that kept no pipe open; they belong to this step
      if (timedOut || aborted) killTree(child, 'SIGKILL');
      void Promise.all(done).then(() => {
        if (killTimer) clearTimeout(killTimer);
        if (timedOut) {
          reject(new TimeoutError(`${label} did not finish within ${Math.round(timeoutMs / 1000)} s; its process tree was killed`));
          return;
        }
        if (failure) {
          reject(failure);
          return;
        }
        const exitCode = code ?? 128;
        if (!okCodes.includes(exitCode)) {
          reject(
            new ToolError(
              label,
              code,
              tail,
              signal ? `${label} was killed by ${signal}` : undefined,
            ),
          );
          return;
        }
        resolve({ exitCode, stdout: Buffer.concat(captured).toString('utf8'), stderrTail: tail });
      });
    });
  });
}
