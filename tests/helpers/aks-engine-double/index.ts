/**
 * Installs the `aks-engine-azurestack` test double (double.js) as an executable in a directory of its own, with a
 * control/record directory, for tests and bundle runs (put `binDir` on PATH or pass `binary` as aksEnginePath).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DoubleControl {
  /** command → the error it returns (printed as cobra does: `Error: <message>` + the command's usage, exit 1). */
  fail?: Record<string, string>;
  /** command → a Go panic message (`panic: <message>` + goroutine trace on stderr, exit 2). */
  panic?: Record<string, string>;
  hang?: string[];
  ansi?: boolean;
  version?: string;
  versions?: { v: string; upgrades: string[]; create: boolean }[];
  image?: { publisher?: string; offer?: string; sku2204?: string; sku2004?: string; version?: string };
  noOutput?: boolean;
  /** deploy/scale/upgrade sign in to the apimodel's ADFS as the real binary does (MSAL Go's requests, msal-go.js). */
  signIn?: boolean;
}

export interface DoubleCall {
  cmd: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  flags?: Record<string, unknown>;
  exit?: number;
  error?: string;
  cloudFile?: string;
  hung?: boolean;
  /** The sign-in (control.signIn): the token endpoint's status and the form sent. */
  signIn?: { status?: number; tokenEndpoint?: string; form?: string; error?: string };
  /** Content of SSL_CERT_FILE as the double saw it. */
  sslCertFile?: string;
}

export interface AksEngineDouble {
  binDir: string;
  binary: string;
  /** Where calls.jsonl and control.json live (AKS_DOUBLE_DIR). */
  dir: string;
  control(c: DoubleControl): void;
  calls(): DoubleCall[];
  reset(): void;
  /** Environment the double needs (AKS_DOUBLE_DIR). */
  env: Record<string, string>;
}

/** Installs the double under `root`. `node` is the Node binary that runs it (default this process's). */
export function installDouble(root: string, node = process.execPath): AksEngineDouble {
  const binDir = path.join(root, 'bin');
  const dir = path.join(root, 'record');
  fs.mkdirSync(binDir, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  const binary = path.join(binDir, 'aks-engine-azurestack');
  fs.writeFileSync(binary, `#!/bin/sh\nexec "${node}" "${path.join(__dirname, 'double.js')}" "$@"\n`, { mode: 0o755 });
  const d: AksEngineDouble = {
    binDir,
    binary,
    dir,
    env: { AKS_DOUBLE_DIR: dir },
    control(c) {
      fs.writeFileSync(path.join(dir, 'control.json'), JSON.stringify(c));
    },
    calls() {
      const f = path.join(dir, 'calls.jsonl');
      if (!fs.existsSync(f)) return [];
      return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as DoubleCall);
    },
    reset() {
      fs.rmSync(path.join(dir, 'calls.jsonl'), { force: true });
      fs.rmSync(path.join(dir, 'control.json'), { force: true });
    },
  };
  return d;
}
