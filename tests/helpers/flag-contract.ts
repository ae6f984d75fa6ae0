/**
 * Shared pieces of the flag-contract tests (tests/contract/*-double.test.ts): reading the flags a cobra/pflag tool
 * accepts from its `--help` text, and running many argvs with bounded parallelism.
 *
 * pflag prints one line per flag: `  -n, --namespace string   usage`, `      --wait WaitStrategy[=watcher]   usage`,
 * `      --dry-run   usage` (a bool: no type word). kubectl prints its own layout: `    -A, --all-namespaces=false:`
 * then the usage on the next lines (the default value after `=`; `true`/`false` for a bool).
 */

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
