/**
 * Mongo backup pipeline speed and memory (issue 3), in the same run against two baselines on the same Azurite (the
 * restore has its own bench: bench/mongo-restore.ts):
 *  (a) a plain `@azure/storage-blob` `uploadStream` of the same mongodump stdout — the pipeline's throughput should
 *      be ≥ 0.85 of it;
 *  (b) "dump to a file, then upload it" (how mgob works) —
 *      the pipeline's wall time should be ≤ 0.6 of it when dump and upload take similar time;
 * and the peak RSS of every process (goal: flat across sizes, ≤ 200 MB). The source is the mongodump double
 * (tests/helpers/mongo-doubles: a deterministic archive of one collection of the given size) so all three read the
 * same bytes from a child process; the pipeline is the ADO task bundle. 256 MB always; 2 GB with
 * STACKHUB_BENCH_MONGO_2G=1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { startAzurite, type AzuriteServer } from '../tests/helpers/storage-servers';
import { MB, TASK, fakeMongo, measure, type Measured } from './mongo-common';



/** The baselines as one small Node program (run with the same Node, from the repo so it finds the SDK). */
const BASELINE = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { BlobServiceClient } = require('@azure/storage-blob');
const [mode, cs, blob, cfg, file] = process.argv.slice(1);
const c = BlobServiceClient.fromConnectionString(cs).getContainerClient('bench').getBlockBlobClient(blob);
const run = (tool, args, stdin) => new Promise((res, rej) => {
  const p = spawn(tool, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
  p.on('close', (code) => (code === 0 ? res() : rej(new Error(tool + ' exited ' + code))));
  if (stdin) stdin.pipe(p.stdin);
  return p;
});
(async () => {
  if (mode === 'backup-a') {
    const p = spawn('mongodump', ['--archive', '--gzip', '--config=' + cfg, '--db=bench'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const done = new Promise((res) => p.on('close', res));
    await c.uploadStream(p.stdout, 8 * 1048576, 4);
    await done;
  } else if (mode === 'backup-b') {
    await run('mongodump', ['--archive=' + file, '--gzip', '--config=' + cfg, '--db=bench']);
    await c.uploadFile(file, { blockSize: 8 * 1048576, concurrency: 4 });
    fs.rmSync(file);
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function benchSize(az: AzuriteServer, sizeMB: number, reps: number): Promise<(string | number)[][]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mongo-'));
  const { servers, cfg, uri, env: base } = fakeMongo(work, sizeMB);
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const env: NodeJS.ProcessEnv = { ...base, CS: az.connectionString, URI: uri };
  const task = (inputs: Record<string, string>): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...env, AGENT_TEMPDIRECTORY: work, SYSTEM_DEBUG: 'false' };
    const all = { site: 'bench', scope: 'database', database: 'bench', storageKind: 'azure-blob', storageContainer: 'bench', storageConnectionString: az.connectionString, connectionString: env.URI!, storagePrefix: `p${sizeMB}`, ...inputs };
    for (const [k, v] of Object.entries(all)) e[`INPUT_${k.toUpperCase()}`] = v;
    return e;
  };
  const node = process.execPath;
  const t: Record<string, Measured[]> = {};
  const add = (k: string, m: Measured): void => void (t[k] ??= []).push(m);
  // calibrate: an unthrottled plain upload gives the upload rate; the dump is then made to take as long as the upload
  // ("when dump and upload take similar time", the case the wall-time goal is about)
  const cal = await measure(node, ['-e', BASELINE, 'backup-a', az.connectionString, `cal-${sizeMB}`, cfg], env);
  const state = path.join(servers, 'bench-mongo_27017.json');
  const doc = JSON.parse(fs.readFileSync(state, 'utf8')) as Record<string, unknown>;
  doc.bytesPerSecond = Math.round((sizeMB * MB) / cal.seconds);
  fs.writeFileSync(state, JSON.stringify(doc));
  for (let i = 0; i < reps; i++) {
    // interleaved, so that each sees the same machine load
    add('backup-a', await measure(node, ['-e', BASELINE, 'backup-a', az.connectionString, `plain-${sizeMB}`, cfg], env));
    add('backup-b', await measure(node, ['-e', BASELINE, 'backup-b', az.connectionString, `file-${sizeMB}`, cfg, path.join(work, 'dump.archive')], env));
    add('backup-p', await measure(node, [TASK], task({ command: 'backup', encryptionRecipients: recipient })));
  }
  const dumpRate = Math.round((JSON.parse(fs.readFileSync(state, 'utf8')) as { bytesPerSecond: number }).bytesPerSecond / MB);
  fs.rmSync(work, { recursive: true, force: true });
  const sec = (k: string): number => median(t[k].map((m) => m.seconds));
  const rss = (k: string): number => Math.max(...t[k].map((m) => m.rssMB));
  const rows: (string | number)[][] = [];
  for (const op of ['backup']) {
    const p = sec(`${op}-p`);
    const a = sec(`${op}-a`);
    const b = sec(`${op}-b`);
    const thr = a / p;
    const wall = p / b;
    rows.push([
      `${sizeMB} MB`,
      op,
      p.toFixed(2),
      a.toFixed(2),
      b.toFixed(2),
      `${((sizeMB / p)).toFixed(0)} MB/s (dump ≤ ${dumpRate} MB/s)`,
      thr.toFixed(2),
      thr >= 0.85 ? 'met' : 'MISSED',
      wall.toFixed(2),
      wall <= 0.6 ? 'met' : 'MISSED',
      rss(`${op}-p`).toFixed(0),
      rss(`${op}-a`).toFixed(0),
      rss(`${op}-b`).toFixed(0),
      rss(`${op}-p`) <= 200 ? 'met' : 'MISSED',
    ]);
  }
  return rows;
}

export const benches: Bench[] = [
  {
    name: 'mongo backup pipeline into Azurite vs (a) plain uploadStream and (b) dump-to-file-then-upload (median; peak RSS per process)',
    figures: (r) =>
      r[1] === 'skipped'
        ? []
        : [
            { name: `mongo backup ${r[0]}: throughput vs plain uploadStream (a)`, value: Number(r[2]), baseline: Number(r[3]), ratio: Number(r[6]), goal: '≥0.85', met: r[7] === 'met' },
            { name: `mongo backup ${r[0]}: wall vs dump to file then upload (b)`, value: Number(r[2]), baseline: Number(r[4]), ratio: Number(r[8]), goal: '≤0.6', met: r[9] === 'met' },
            { name: `mongo backup ${r[0]}: peak RSS MB vs (a)`, value: Number(r[10]), baseline: Number(r[11]), ratio: Number(r[10]) / Number(r[11]), goal: '≤200 MB', met: r[13] === 'met' },
          ],
    columns: ['size', 'op', 'pipeline s', '(a) s', '(b) s', 'pipeline rate', 'throughput vs (a)', 'goal ≥0.85', 'wall vs (b)', 'goal ≤0.6', 'RSS MB pipeline', 'RSS (a)', 'RSS (b)', 'goal ≤200 MB'],
    async run() {
      if (!fs.existsSync(TASK)) throw new Error(`${TASK} missing: run npm run build`);
      const az = await startAzurite();
      try {
        await az.createContainer('bench');
        const rows = await benchSize(az, 256, 3);
        if (process.env.STACKHUB_BENCH_MONGO_2G === '1') rows.push(...(await benchSize(az, 2048, 1)));
        else rows.push(['2048 MB', 'skipped', 'set STACKHUB_BENCH_MONGO_2G=1', '', '', '', '', '', '', '', '', '', '', '']);
        return rows;
      } finally {
        await az.stop();
      }
    },
  },
];
