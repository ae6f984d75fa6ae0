/**
 * What the Mongo benches share: paths of the task bundle and the executable doubles, a child measured under
 * /usr/bin/time (wall time and peak RSS), and a fake MongoDB server for the doubles with its 0600 tools config.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
export const DOUBLES = path.join(ROOT, 'tests', 'helpers', 'mongo-doubles');
/** The pipeline runs as the agents run it: the Azure Pipelines task bundle (heavy SDKs in vendor/ sidecars). */
export const TASK = path.join(ROOT, 'tasks', 'StackHubMongoBackupV1', 'dist', 'index.js');
export const MB = 1024 * 1024;

export interface Measured {
  seconds: number;
  rssMB: number;
}

/** Runs a process under /usr/bin/time: wall time and peak RSS. */
export function measure(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'PEAKRSS %M', file, ...args], { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-20000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const rss = /PEAKRSS (\d+)/.exec(err);
      if (code !== 0 || !rss) reject(new Error(`${path.basename(file)} ${args.slice(0, 3).join(' ')} failed (${code}): ${err.slice(-2000)}`));
      else resolve({ seconds, rssMB: Number(rss[1]) / 1024 });
    });
  });
}

/** A fake MongoDB server (`bench-mongo:27017`, one `bench.data` collection of `sizeMB`) in `work`, for the doubles. */
export function fakeMongo(work: string, sizeMB: number): { servers: string; cfg: string; uri: string; env: NodeJS.ProcessEnv } {
  const servers = path.join(work, 'servers');
  fs.mkdirSync(servers);
  const password = 'bench-password';
  fs.writeFileSync(path.join(servers, 'bench-mongo_27017.json'), JSON.stringify({ users: { b: { password, roles: ['root'] } }, databases: { bench: { data: { count: 1000, bytes: sizeMB * MB } } } }));
  const cfg = path.join(work, 'tools.yaml');
  fs.writeFileSync(cfg, `uri: mongodb://b@bench-mongo:27017/\npassword: ${password}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { PATH: `${DOUBLES}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: os.homedir(), TMPDIR: work, MONGO_DOUBLE_SERVERS: servers };
  return { servers, cfg, uri: `mongodb://b:${password}@bench-mongo:27017/`, env };
}
