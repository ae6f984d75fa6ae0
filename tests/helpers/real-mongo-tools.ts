/**
 * The REAL MongoDB Database Tools 100.8.0 (mongodump, mongorestore, bsondump) in
 * ../shared/tools/mongodb-database-tools/100.8.0/linux-x64, verified against the SHA256SUMS beside them before
 * use. Tests that need them call `realMongoTools(this)` in `before` and are skipped with a printed reason when the
 * directory is absent (a clone without ../shared). A directory that exists but does not match its pins fails.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './harness';

export const REAL_MONGO_TOOLS_VERSION = '100.8.0';
export const REAL_MONGO_TOOLS_DIR = path.resolve(ROOT, '..', 'shared', 'tools', 'mongodb-database-tools', REAL_MONGO_TOOLS_VERSION, 'linux-x64');
export const REAL_MONGO_TOOLS = ['mongodump', 'mongorestore', 'bsondump'] as const;
export type RealMongoTool = (typeof REAL_MONGO_TOOLS)[number];

export interface RealMongoTools {
  dir: string;
  version: string;
  bin: Record<RealMongoTool, string>;
  sha256: Record<RealMongoTool, string>;
}

let verified: RealMongoTools | undefined;

/** Verifies the binaries against SHA256SUMS (once per process). Throws when a pin does not match. */
export function loadRealMongoTools(): RealMongoTools | undefined {
  if (verified) return verified;
  const sums = path.join(REAL_MONGO_TOOLS_DIR, 'SHA256SUMS');
  if (!fs.existsSync(sums)) return undefined;
  const pins = new Map<string, string>();
  for (const line of fs.readFileSync(sums, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (m) pins.set(m[2], m[1]);
  }
  const bin = {} as Record<RealMongoTool, string>;
  const sha = {} as Record<RealMongoTool, string>;
  for (const t of REAL_MONGO_TOOLS) {
    const file = path.join(REAL_MONGO_TOOLS_DIR, t);
    const want = pins.get(t);
    if (!want) throw new Error(`${sums} pins no ${t}`);
    const got = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    if (got !== want) throw new Error(`${file}: sha256 ${got} does not match SHA256SUMS (${want})`);
    bin[t] = file;
    sha[t] = got;
  }
  verified = { dir: REAL_MONGO_TOOLS_DIR, version: REAL_MONGO_TOOLS_VERSION, bin, sha256: sha };
  return verified;
}

/** In a mocha `before`: the verified tools, or the suite is skipped with a printed reason. */
export function realMongoTools(ctx: Mocha.Context): RealMongoTools {
  const t = loadRealMongoTools();
  if (!t) {
    console.log(`      SKIPPED: the real MongoDB Database Tools are absent (${REAL_MONGO_TOOLS_DIR}); restore ../shared/tools to run these tests`);
    ctx.skip();
  }
  return t as RealMongoTools;
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a binary with argv (no shell), optional stdin, a kill timer as a safety net (not an assertion). */
export function runTool(file: string, args: readonly string[], opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv; cwd?: string; killAfterMs?: number } = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound once, then closed). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * The flags a real tool accepts, from its `--help` text (go-flags layout: `  -d, --db=<database-name>  …`,
 * `      --gzip   …`): `--name` and `-x` → 'value' (takes an argument) or 'bool'. Continuation lines of wrapped
 * descriptions are indented further and ignored.
 */
export function flagsFromHelp(help: string): Record<string, FlagKind> {
  const flags: Record<string, FlagKind> = {};
  for (const line of help.split('\n')) {
    const m = /^ {2,8}(?:(-[A-Za-z]), +)?(--[A-Za-z][A-Za-z0-9-]*)(=\S*)?(?: |$)/.exec(line);
    if (!m) continue;
    const [, short, long, val] = m;
    const kind: FlagKind = val ? 'value' : 'bool';
    flags[long] = kind;
    if (short) flags[short] = kind;
  }
  return flags;
}

export type FlagKind = 'value' | 'bool' | 'optional' | 'int';

/**
 * What `--help` cannot show, read from the mongo-tools 100.8.0 source (the go-flags struct tags):
 * - `optional:"true"` flags take a value only as `--flag=value` (common/options/options.go `--verbose`;
 *   mongodump/options.go and mongorestore/options.go `--archive`, optional-value "-");
 * - `hidden:"true"` flags are accepted but not listed (failpoints only exists in failpoint builds: refused here) (common/options/options.go: numThreads, trace,
 *   dialTimeout, socketTimeout, TCPKeepAliveSeconds, serverSelectionTimeout, compressors,
 *   sslAllowInvalidCertificates, sslAllowInvalidHostnames; mongorestore/options.go: tempUsersColl, tempRolesColl,
 *   batchSize). The contract test runs each of them through the real tool, so this list cannot be wrong unnoticed.
 */
export const OPTIONAL_FLAGS = ['--verbose', '--archive'];
export const HIDDEN_FLAGS: Record<'mongodump' | 'mongorestore', Record<string, FlagKind>> = {
  mongodump: {
    '--numThreads': 'value', '--trace': 'bool', '--dialTimeout': 'value', '--socketTimeout': 'value',
    '--TCPKeepAliveSeconds': 'value', '--serverSelectionTimeout': 'value', '--compressors': 'value',
    '--sslAllowInvalidCertificates': 'bool', '--sslAllowInvalidHostnames': 'bool',
  },
  mongorestore: {
    '--numThreads': 'value', '--trace': 'bool', '--dialTimeout': 'value', '--socketTimeout': 'value',
    '--TCPKeepAliveSeconds': 'value', '--serverSelectionTimeout': 'value', '--compressors': 'value',
    '--sslAllowInvalidCertificates': 'bool', '--sslAllowInvalidHostnames': 'bool',
    '--tempUsersColl': 'value', '--tempRolesColl': 'value', '--batchSize': 'value',
  },
};

/**
 * The value flags go-flags parses as int (`invalid argument for flag … (expected int)`), which `--help` does not show
 * (the struct fields' types in common/options/options.go, mongodump/options.go, mongorestore/options.go). The
 * contract test tests/contract/mongo-doubles.test.ts gives every value flag a non-number through the real tools, so
 * this list cannot be wrong unnoticed.
 */
export const INT_FLAGS = ['--numParallelCollections', '-j', '--numInsertionWorkersPerCollection', '--batchSize', '--numThreads', '--dialTimeout', '--socketTimeout', '--TCPKeepAliveSeconds', '--serverSelectionTimeout'];

/** The full flag table of a real tool: `--help` + hidden flags, optional-value and int flags marked. Sorted keys. */
export function flagTable(help: string, tool: 'mongodump' | 'mongorestore'): Record<string, FlagKind> {
  const t: Record<string, FlagKind> = { ...flagsFromHelp(help), ...HIDDEN_FLAGS[tool] };
  for (const f of OPTIONAL_FLAGS) if (t[f]) t[f] = 'optional';
  for (const f of INT_FLAGS) if (t[f]) t[f] = 'int';
  if (t['-v']) t['-v'] = 'bool'; // -v counts (-vvv); a level goes with --verbose=N
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => a.localeCompare(b)));
}
