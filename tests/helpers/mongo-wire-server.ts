/**
 * A MongoDB-wire-compatible server the REAL mongodump/mongorestore can talk to: CongoDB from the npm package
 * @push.rocks/smartmongo 2.2.0 (pure JavaScript, in memory; nothing is downloaded), run as a child process
 * (it is an ES module) bound to 127.0.0.1 port 0, stopped by the test. It does not check credentials (its
 * saslStart answers "done"), speaks wire version 21 and has no oplog: no replica set, so no --oplog.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ROOT } from './harness';

const SCRIPT = path.join(__dirname, 'mongo-wire', 'congo-server.mjs');

/** Canonical extended JSON documents per database and collection. */
export type Snapshot = Record<string, Record<string, Record<string, unknown>[]>>;

export interface WireServer {
  port: number;
  uri: string;
  /** Every document the server holds, as canonical extended JSON. */
  snapshot(): Promise<Snapshot>;
  /** Inserts canonical extended JSON documents. */
  seed(db: string, collection: string, docs: Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/** True when the package is installed (it is a devDependency; a clone without it skips with a printed reason). */
export function wireServerAvailable(): boolean {
  return fs.existsSync(path.join(ROOT, 'node_modules', '@push.rocks', 'smartmongo', 'dist_ts', 'congodb', 'index.js'));
}

/** Starts the server; resolves once it listens. */
export async function startWireServer(): Promise<WireServer> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const lines = readline.createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on('line', (l) => (waiting.length ? waiting.shift()!(l) : early.push(l)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const nextLine = (): Promise<string> =>
    early.length
      ? Promise.resolve(early.shift()!)
      : new Promise((resolve, reject) => {
          waiting.push(resolve);
          void exited.then(() => reject(new Error(`the wire server exited: ${stderr}`)));
        });
  const { port } = JSON.parse(await nextLine()) as { port: number };
  let chain = Promise.resolve<unknown>(undefined);
  const call = <T>(req: object): Promise<T> => {
    const p = chain.then(async () => {
      child.stdin!.write(JSON.stringify(req) + '\n');
      const res = JSON.parse(await nextLine()) as T & { error?: string };
      if (res.error) throw new Error(res.error);
      return res;
    });
    chain = p.catch(() => undefined);
    return p;
  };
  return {
    port,
    uri: `mongodb://127.0.0.1:${port}`,
    snapshot: async () => (await call<{ databases: Snapshot }>({ op: 'snapshot' })).databases,
    seed: async (db, collection, docs) => void (await call({ op: 'seed', db, collection, docs })),
    close: async () => {
      if (child.exitCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
