/**
 * Runs aks-engine-azurestack the safe way: a private working directory and a private TMPDIR per call (its temp files
 * hold the service-principal secret: they go with the directory, the shared /tmp is never swept), SSL_CERT_FILE =
 * system bundle + the Hub root, HOME private (no ~/.azure fallback), ANSI stripped from what is logged, a heartbeat
 * while it is quiet, and its process tree killed at the deadline.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunContext } from '../platform/capability';
import type { ProxySettings } from '../platform/types';
import { systemCaBundle } from '../shared/ca';
import { TimeoutError, ToolError } from '../shared/errors';
import type { ExecResult } from '../shared/exec';

/** Options of {@link AksEngineRunner}. */
export interface RunnerOptions {
  binary: string;
  /** Extra trusted CAs (the Hub root). */
  caCertificates: string[];
  /** Proxy for the Hub (from the agent settings); undefined keeps the environment's HTTPS_PROXY/NO_PROXY. */
  proxy?: ProxySettings;
  /** When the whole operation must end (ms since epoch). */
  deadline: number;
  /** Heartbeat interval (default 30 s). */
  heartbeatMs?: number;
  /** Base environment (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
}

/** One call's options. */
export interface CallOptions {
  /** Keep stdout (JSON answers) instead of logging it. */
  capture?: boolean;
  /** What the heartbeat says, e.g. `deploy`. */
  label?: string;
  /** Per-call cap (still bounded by the deadline). */
  timeoutMs?: number;
}

/** Runs aks-engine calls inside one capability run. */
export class AksEngineRunner {
  private sslCertFile?: string;

  constructor(
    private readonly ctx: RunContext,
    private readonly opts: RunnerOptions,
  ) {}

  /** A fresh private (0700) directory under the run's temp dir. */
  privateDir(name: string): string {
    const d = path.join(this.ctx.tempDir, `${name}-${crypto.randomBytes(4).toString('hex')}`);
    fs.mkdirSync(d, { mode: 0o700 });
    fs.chmodSync(d, 0o700);
    return d;
  }

  /** The environment of a call: TMPDIR, HOME, SSL_CERT_FILE, proxy. */
  env(tmpDir: string, home: string): Record<string, string | undefined> {
    if (this.sslCertFile === undefined && this.opts.caCertificates.length > 0) {
      this.sslCertFile = path.join(this.ctx.tempDir, 'ssl-cert-file.pem');
      fs.writeFileSync(this.sslCertFile, `${systemCaBundle().replace(/\n*$/, '\n')}${this.opts.caCertificates.join('\n')}\n`, { mode: 0o600 });
    }
    const env: Record<string, string | undefined> = { TMPDIR: tmpDir, HOME: home, USERPROFILE: home };
    if (this.sslCertFile) env.SSL_CERT_FILE = this.sslCertFile;
    if (this.opts.proxy) {
      const u = new URL(this.opts.proxy.url);
      if (this.opts.proxy.username) {
        u.username = encodeURIComponent(this.opts.proxy.username);
        u.password = encodeURIComponent(this.opts.proxy.password ?? '');
      }
      env.HTTPS_PROXY = u.href;
      env.https_proxy = u.href;
    }
    return env;
  }

  /**
   * Runs one call with a private CWD and TMPDIR that are removed afterwards (so are files aks-engine leaves there:
   * `translations/`, `azurestackcloud.json*`, `mergedApiModel*`). Throws ToolError / TimeoutError.
   */
  async run(args: readonly string[], call: CallOptions = {}): Promise<ExecResult> {
    const cwd = this.privateDir('aks-cwd');
    const tmp = this.privateDir('aks-tmp');
    const label = call.label ?? args[0];
    const remaining = this.opts.deadline - Date.now();
    if (remaining <= 0) throw new TimeoutError(`the operation ran out of time (timeoutMinutes) before aks-engine-azurestack ${label}`);
    const timeoutMs = Math.min(remaining, call.timeoutMs ?? remaining);
    const started = Date.now();
    let lastLine = Date.now();
    const reason = new ReasonPicker();
    const heartbeat = setInterval(() => {
      if (Date.now() - lastLine < (this.opts.heartbeatMs ?? 30_000) / 2) return;
      const s = Math.round((Date.now() - started) / 1000);
      this.ctx.log.progress(undefined, `aks-engine-azurestack ${label}: still running (${Math.floor(s / 60)}m ${s % 60}s)`);
    }, this.opts.heartbeatMs ?? 30_000);
    try {
      return await this.ctx.exec(this.opts.binary, args, {
        cwd,
        env: this.env(tmp, cwd),
        baseEnv: this.opts.baseEnv,
        timeoutMs,
        killGraceMs: 5000,
        stdout: call.capture ? 'capture' : 'log',
        // aks-engine logs to stdout; its stderr is cobra's `Error: ...` + the whole usage text, or a Go panic: all
        // of it goes to the debug log, and the one reason line becomes the failure message
        quietStderr: true,
        label: 'aks-engine-azurestack',
        onLine: (line, stream) => {
          lastLine = Date.now();
          reason.add(line, stream);
        },
      });
    } catch (e) {
      if (e instanceof TimeoutError) {
        throw new TimeoutError(`aks-engine-azurestack ${label} did not finish within ${Math.round(timeoutMs / 60000)} min (timeoutMinutes); its process tree was killed`);
      }
      const why = reason.reason();
      if (e instanceof ToolError && e.exitCode !== null && why) {
        // the full output is already in the log (stderr as tool output or debug); the one line is aks-engine's own
        throw new ToolError(e.tool, e.exitCode, e.stderrTail, `aks-engine-azurestack ${label} failed with exit code ${e.exitCode}: ${why}`);
      }
      throw e;
    } finally {
      clearInterval(heartbeat);
      fs.rmSync(cwd, { recursive: true, force: true });
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/**
 * Picks the reason of a failure from aks-engine's output, however long the usage text after it: cobra prints
 * `Error: <wrapped reason>` first and then the whole usage text (24-28 lines for deploy, scale and upgrade, longer than
 * any bounded tail), so the last line is always `--debug   enable verbose debug logs`. A Go panic's first line
 * (`panic: ...`) is the reason when the tool panics. Without either, the last logrus error (`ERRO[...] ...`) line.
 */
export class ReasonPicker {
  private error?: string;
  private panic?: string;
  private logged?: string;

  add(line: string, _stream: 'stdout' | 'stderr'): void {
    const l = line.trim();
    if (this.error === undefined && /^Error: \S/.test(l)) this.error = l;
    else if (this.panic === undefined && /^panic: /.test(l)) this.panic = l;
    else {
      const m = /^(?:ERRO|FATA)\[\d+\]\s*(.+)$/.exec(l) ?? /level=(?:error|fatal) msg="(.+)"$/.exec(l);
      if (m) this.logged = m[1];
    }
  }

  /** The one-line reason, or undefined when the output had none. */
  reason(): string | undefined {
    return this.panic ?? this.error ?? this.logged;
  }
}
