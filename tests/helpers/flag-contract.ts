/**
 * Shared pieces of the flag-contract tests (tests/contract/*-double.test.ts): reading the flags a cobra/pflag tool
 * accepts from its `--help` text, and running many argvs with bounded parallelism.
 *
 * pflag prints one line per flag: `  -n, --namespace string   usage`, `      --wait WaitStrategy[=watcher]   usage`,
 * `      --dry-run   usage` (a bool: no type word). kubectl prints its own layout: `    -A, --all-namespaces=false:`
 * then the usage on the next lines (the default value after `=`; `true`/`false` for a bool).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closedPort } from './real-mongo-tools';

/** One flag as the help shows it. */
export interface HelpFlag {
  name: string;
  short?: string;
  /** 'bool', or pflag's type word (string, int, duration, stringArray, format, ...) */
  type: string;
  /** the value a bare `--flag` takes (pflag NoOptDefVal, shown as `[=x]`), when it takes one */
  noOptDefVal?: string;
  /** the default as kubectl prints it (kubectl layout only) */
  def?: string;
}

/** The flags of a pflag help text (every `Flags:` / `Global Flags:` section), by long name. */
export function pflagHelp(text: string): Map<string, HelpFlag> {
  const out = new Map<string, HelpFlag>();
  for (const line of text.split('\n')) {
    const m = /^ {2,}(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][A-Za-z0-9_-]*)(?: ([^\s[]+))?(?:\[=("?)([^\]]*?)\4\])?(?: {2,}|$)/.exec(line);
    if (!m) continue;
    const [, short, name, type, , nodef] = m;
    const f: HelpFlag = { name, type: type ?? 'bool' };
    if (short) f.short = short;
    if (nodef !== undefined) f.noOptDefVal = nodef;
    out.set(name, f);
  }
  return out;
}

/** The flags of a kubectl help text (`kubectl <cmd> --help` Options, or `kubectl options`), by long name. */
export function kubectlHelp(text: string): Map<string, HelpFlag> {
  const out = new Map<string, HelpFlag>();
  for (const line of text.split('\n')) {
    const m = /^ {4}(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][A-Za-z0-9_-]*)=(.*):$/.exec(line);
    if (!m) continue;
    const [, short, name, raw] = m;
    const def = raw.replace(/^'(.*)'$/, '$1');
    const f: HelpFlag = { name, type: def === 'true' || def === 'false' ? 'bool' : 'value', def };
    if (short) f.short = short;
    out.set(name, f);
  }
  return out;
}

/** Runs `fn` over `items` with at most `n` at a time, results in order. */
export async function pool<T, R>(items: readonly T[], n: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Accepted or rejected at flag parsing. */
export type Verdict = 'accept' | 'reject';

/**
 * pflag's (and cobra's) flag-parsing errors, as `Error: …` (helm, aks-engine) or `error: …` (kubectl); cobra's
 * flag groups (mutually exclusive, required together) are checked right after parsing and count as refusals too.
 */
export const PFLAG_ERROR = /^(?:Error|error): (unknown flag: |unknown shorthand flag: |flag needs an argument: |invalid argument ".*" for ".*" flag: |bad flag syntax: |if any flags in the group \[)/m;

/** The members of a cobra flag group an error names (`if any flags in the group [a b] are set …`), or undefined. */
export function flagGroup(stderr: string): string[] | undefined {
  const m = /if any flags in the group \[([^\]]+)\]/.exec(stderr);
  return m ? m[1].split(' ') : undefined;
}

/** Go's strconv.ParseBool. */
export const GO_BOOL = /^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/;
/** Go's strconv.ParseInt(s, 0, 64) syntax. */
export const GO_INT = /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9]*)$/;

/**
 * What pflag does with an argv, given a command's flags as its help shows them (the model of the real parser the
 * doubles are compared to where no real binary exists): long flags `--f`, `--f=v`, `--f v`; shorthands `-x`, `-xv`,
 * `-x=v`, `-x v` and clusters of bool shorthands; a bool takes a value only after `=` (strconv.ParseBool); `int`
 * values must parse (strconv.ParseInt); `--` ends the flags. Returns the verdict and the flags it set.
 */
export function pflagParse(flags: Map<string, HelpFlag>, args: readonly string[]): { verdict: Verdict; error?: string; set: string[] } {
  const byShort = new Map([...flags.values()].filter((f) => f.short).map((f) => [f.short!, f]));
  const set: string[] = [];
  const reject = (error: string) => ({ verdict: 'reject' as const, error, set });
  const value = (f: HelpFlag, v: string): string | undefined => {
    if (f.type === 'bool' && !GO_BOOL.test(v)) return `invalid argument "${v}" for --${f.name}: strconv.ParseBool`;
    if (f.type === 'int' && !GO_INT.test(v)) return `invalid argument "${v}" for --${f.name}: strconv.ParseInt`;
    return undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (!a.startsWith('-') || a === '-') continue;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const f = flags.get(name);
      if (!f) return reject(`unknown flag: --${name}`);
      set.push(name);
      let v: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
      if (v === undefined && f.type !== 'bool' && f.noOptDefVal === undefined) {
        if (i + 1 >= args.length) return reject(`flag needs an argument: --${name}`);
        v = args[++i];
      }
      const bad = v === undefined ? undefined : value(f, v);
      if (bad) return reject(bad);
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const f = byShort.get(a[k]);
      if (!f) return reject(`unknown shorthand flag: '${a[k]}' in ${a}`);
      set.push(f.name);
      const rest = a.slice(k + 1);
      if (f.type === 'bool' && !rest.startsWith('=')) continue;
      let v = rest.replace(/^=/, '');
      if (v === '' && !rest.startsWith('=')) {
        if (f.noOptDefVal !== undefined) break;
        if (i + 1 >= args.length) return reject(`flag needs an argument: '${a[k]}' in -${a[k]}`);
        v = args[++i];
      }
      const bad = value(f, v);
      if (bad) return reject(bad);
      break;
    }
  }
  return { verdict: 'accept', set };
}

/** One kubectl flag as the double's table holds it. */
export interface KubectlFlag {
  short?: string;
  /** from the default kubectl's help prints: bool, int, duration, array ([]), string */
  type: 'bool' | 'int' | 'duration' | 'array' | 'string';
}

/** The commands the kubectl double answers (tests/helpers/mongo-doubles/kubectl). */
export const KUBECTL_COMMANDS = ['get', 'exec', 'auth can-i', 'version'] as const;

/** A kubectl help's flags as the double's table: the type read from the default kubectl prints. */
export function kubectlTable(help: string): Record<string, KubectlFlag> {
  const out: Record<string, KubectlFlag> = {};
  for (const line of help.split('\n')) {
    const m = /^ {4}(?:-([A-Za-z0-9]), )?--([A-Za-z0-9][A-Za-z0-9_-]*)=(.*):$/.exec(line);
    if (!m) continue;
    const [, short, name, raw] = m;
    const type: KubectlFlag['type'] = /^(true|false)$/.test(raw) ? 'bool' : raw.startsWith('[') ? 'array' : /^-?\d+$/.test(raw) ? 'int' : /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/.test(raw) ? 'duration' : 'string';
    out[name] = short ? { short, type } : { type };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The double's table for a real kubectl: `kubectl options` (global) and `kubectl <cmd> --help` per command. */
export function kubectlTables(bin: string, run: (args: string[]) => string): Record<string, Record<string, KubectlFlag>> {
  const out: Record<string, Record<string, KubectlFlag>> = { global: kubectlTable(run(['options'])) };
  for (const cmd of KUBECTL_COMMANDS) out[cmd] = kubectlTable(run([...cmd.split(' '), '--help']));
  void bin;
  return out;
}

/** Writes `<dir>/kubeconfig` for a cluster at 127.0.0.1 on a closed port: real tools get past parsing, then fail to connect. */
export async function unreachableKubeconfig(dir: string): Promise<{ kubeconfig: string; port: number }> {
  const port = await closedPort();
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`,
    { mode: 0o600 },
  );
  return { kubeconfig: file, port };
}
