/**
 * Mongo restore speed and memory (issue 11 item 1), in the same run and on the same server (Azurite, then s3rver),
 * against baselines that read the same stored bytes with the plain SDK:
 *  (d) a plain download to nowhere (`@azure/storage-blob` `download` / `@aws-sdk/client-s3` `GetObject` stream) —
 *      goal: restore throughput ≥ 0.9 of it;
 *  (a) the plain download piped straight into mongorestore's stdin (no verification at all);
 *  (b) download to a file, then mongorestore from it (what people script by hand) — the wall-time ratio;
 * and the peak RSS of every process (goal ≤ 200 MB). The restore is the ADO task bundle; it restores a backup the
 * task made (age-encrypted, signed); the baselines read the same archive stored unencrypted, so they move fewer
 * bytes (the ciphertext is 16 bytes per 64 KiB longer). mongorestore is the sh sink of bench/mongorestore-sink.ts
 * (argv checked against the real tool's contract, then `wc -c` of its input, checked here against the archive's
 * size after every run), so what is measured is the restore, not a Node double's gunzip and BSON parsing (that
 * consumption is a stage of bench/mongo-restore-breakdown.ts). Sizes: `--size=256,2048` or STACKHUB_BENCH_MB
 * (default 256; STACKHUB_BENCH_MONGO_2G=1 adds 2048 — about 10 minutes on a loaded 2-core machine, so not by
 * default); STACKHUB_BENCH_RESTORE_REPS runs each (default 3, interleaved, median).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bench, Figure } from '../scripts/bench';
import { median } from '../scripts/bench';
import { startAzurite, startS3rver } from '../tests/helpers/storage-servers';
import { DOUBLES, TASK, fakeMongo, measure, type Measured } from './mongo-common';
import { installRestoreSink, type RestoreSink } from './mongorestore-sink';



/** The baselines: one small Node program using the SDKs directly (run from the repo so it finds them). */
const BASELINE = `
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { pipeline } = require('node:stream/promises');
const { Writable } = require('node:stream');
const [mode, kind, conn, key, cfg, file] = process.argv.slice(1);
const c = JSON.parse(conn);
async function open() {
  if (kind === 'azure-blob') {
    const { BlobServiceClient } = require('@azure/storage-blob');
    const b = BlobServiceClient.fromConnectionString(c.cs).getContainerClient(c.container).getBlockBlobClient(key);
    return { get: async () => (await b.download(0)).readableStreamBody, toFile: (f) => b.downloadToFile(f, 0, undefined, { maxRetryRequests: 3 }), put: (f) => b.uploadFile(f, { blockSize: 8 * 1048576, concurrency: 4 }) };
  }
  const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
  const { Upload } = require('@aws-sdk/lib-storage');
  const s3 = new S3Client({ endpoint: c.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: c.id, secretAccessKey: c.secret }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const get = async () => (await s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: key }))).Body;
  return { get, toFile: async (f) => pipeline(await get(), fs.createWriteStream(f)), put: (f) => new Upload({ client: s3, params: { Bucket: c.bucket, Key: key, Body: fs.createReadStream(f) }, partSize: 8 * 1048576, queueSize: 4 }).done() };
}
const run = (tool, args, stdin) => new Promise((res, rej) => {
  const p = spawn(tool, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
  p.on('close', (code) => (code === 0 ? res() : rej(new Error(tool + ' exited ' + code))));
  if (stdin) stdin.pipe(p.stdin);
  return p;
});
(async () => {
  const s = await open();
  if (mode === 'put') await s.put(file);
  else if (mode === 'restore-d') await pipeline(await s.get(), new Writable({ highWaterMark: 4 * 1048576, write: (_c, _e, cb) => cb() }));
  else if (mode === 'restore-a') await run('mongorestore', ['--archive', '--gzip', '--config=' + cfg, '--drop'], await s.get());
  else if (mode === 'restore-b') {
    await s.toFile(file);
    await run('mongorestore', ['--archive=' + file, '--gzip', '--config=' + cfg, '--drop']);
    fs.rmSync(file);
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

interface Target {
  kind: 'azure-blob' | 's3';
  /** For BASELINE. */
  conn: Record<string, string>;
  /** The task's storage inputs. */
  inputs: Record<string, string>;
}

/** The sizes to run (MB): `--size=a,b` on the bench's argv, else STACKHUB_BENCH_MB, else 256 (+2048 with STACKHUB_BENCH_MONGO_2G=1). */
export function benchSizes(): number[] {
  const arg = process.argv.find((a) => a.startsWith('--size='))?.slice('--size='.length) ?? process.env.STACKHUB_BENCH_MB;
  const sizes = arg ? arg.split(',').map(Number) : [256];
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--size / STACKHUB_BENCH_MB: expected sizes in MB such as 256,2048, got ${arg}`);
  if (!arg && process.env.STACKHUB_BENCH_MONGO_2G === '1') sizes.push(2048);
  return sizes;
}

async function benchSize(target: Target, sizeMB: number, reps: number): Promise<(string | number)[][]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-restore-'));
  const mongo = fakeMongo(work, sizeMB);
  const { cfg, uri } = mongo;
  const sink: RestoreSink = installRestoreSink(path.join(work, 'sink'));
  // the sink first on PATH (mongorestore); the node doubles behind it (mongodump for the backup)
  const env: NodeJS.ProcessEnv = { ...mongo.env, ...sink.env, PATH: `${sink.dir}:${mongo.env.PATH}` };
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const task = (inputs: Record<string, string>): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...env, AGENT_TEMPDIRECTORY: work, SYSTEM_DEBUG: 'false' };
    const all = { site: 'bench', scope: 'database', database: 'bench', connectionString: uri, storagePrefix: `r${sizeMB}`, storageRetries: '1', ...target.inputs, ...inputs };
    for (const [k, v] of Object.entries(all)) e[`INPUT_${k.toUpperCase()}`] = v;
    return e;
  };
  const node = process.execPath;
  const conn = JSON.stringify(target.conn);
  const plainKey = `plain-${sizeMB}.archive`;
  // the same dump twice: the task's encrypted backup, and the plaintext archive the baselines read
  await measure(node, [TASK], task({ command: 'backup', encryptionRecipients: recipient }));
  const archive = path.join(work, 'dump.archive');
  await new Promise<void>((resolve, reject) => {
    const p = spawn(path.join(DOUBLES, 'mongodump'), [`--archive=${archive}`, '--gzip', `--config=${cfg}`, '--db=bench'], { env, stdio: 'ignore' });
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mongodump double exited ${code}`))));
  });
  await measure(node, ['-e', BASELINE, 'put', target.kind, conn, plainKey, cfg, archive], env);
  const archiveBytes = fs.statSync(archive).size;
  fs.rmSync(archive);
  sink.take();
  /** Every run that feeds the sink must have fed it the whole archive, once. */
  const fed = (what: string): void => {
    const got = sink.take();
    if (got.length !== 1 || got[0] !== archiveBytes) throw new Error(`${what}: the mongorestore sink got ${JSON.stringify(got)} bytes, expected [${archiveBytes}]`);
  };
  const t: Record<string, Measured[]> = {};
  const add = (k: string, m: Measured): void => void (t[k] ??= []).push(m);
  for (let i = 0; i < reps; i++) {
    // interleaved, so that each sees the same machine load
    add('d', await measure(node, ['-e', BASELINE, 'restore-d', target.kind, conn, plainKey, cfg], env));
    add('a', await measure(node, ['-e', BASELINE, 'restore-a', target.kind, conn, plainKey, cfg], env));
    fed('baseline (a)');
    add('b', await measure(node, ['-e', BASELINE, 'restore-b', target.kind, conn, plainKey, cfg, path.join(work, 'restore.archive')], env));
    fed('baseline (b)');
    add('p', await measure(node, [TASK], task({ command: 'restore', ageIdentity: identity, workDirectory: work, backupId: 'latest' })));
    fed('restore');
  }
  fs.rmSync(work, { recursive: true, force: true });
  const sec = (k: string): number => median(t[k].map((m) => m.seconds));
  const rss = (k: string): number => Math.max(...t[k].map((m) => m.rssMB));
  const [p, d, a, b] = [sec('p'), sec('d'), sec('a'), sec('b')];
  return [[target.kind, `${sizeMB} MB`, p.toFixed(2), d.toFixed(2), (d / p).toFixed(2), d / p >= 0.9 ? 'met' : 'MISSED', a.toFixed(2), (a / p).toFixed(2), b.toFixed(2), (p / b).toFixed(2), rss('p').toFixed(0), rss('d').toFixed(0), rss('a').toFixed(0), rss('p') <= 200 ? 'met' : 'MISSED']];
}

const COLUMNS = ['storage', 'size', 'restore s', '(d) download s', 'throughput vs (d)', 'goal ≥0.9', '(a) download→mongorestore s', 'throughput vs (a)', '(b) file then mongorestore s', 'wall vs (b)', 'RSS MB restore', 'RSS (d)', 'RSS (a)', 'goal ≤200 MB'];

/** Three figures per row: throughput vs (d) (the goal), vs (a), wall vs (b); and the peak RSS. */
function figures(row: (string | number)[]): Figure[] {
  if (row[2] === 'skipped') return [];
  const n = (i: number): number => Number(row[i]);
  const name = `mongo restore ${row[0]} ${row[1]}`;
  return [
    { name: `${name}: throughput vs plain download (d)`, value: n(2), baseline: n(3), ratio: n(4), goal: '≥0.9', met: row[5] === 'met' },
    { name: `${name}: throughput vs download piped into mongorestore (a)`, value: n(2), baseline: n(6), ratio: n(7), goal: null, met: null },
    { name: `${name}: wall vs download to file then mongorestore (b)`, value: n(2), baseline: n(8), ratio: n(9), goal: null, met: null },
    { name: `${name}: peak RSS MB vs plain download (d)`, value: n(10), baseline: n(11), ratio: n(10) / n(11), goal: '≤200 MB', met: row[13] === 'met' },
  ];
}

export const benches: Bench[] = [
  {
    name: 'mongo restore (task bundle, age + signature verified before mongorestore; mongorestore = sh sink) vs (d) plain download, (a) download piped into mongorestore, (b) download to file then mongorestore (median; peak RSS per process)',
    columns: COLUMNS,
    figures,
    async run() {
      if (!fs.existsSync(TASK)) throw new Error(`${TASK} missing: run npm run build`);
      const reps = Number(process.env.STACKHUB_BENCH_RESTORE_REPS ?? 3);
      const sizes: [number, number][] = benchSizes().map((mb) => [mb, reps]);
      const rows: (string | number)[][] = [];
      const az = await startAzurite();
      try {
        await az.createContainer('bench');
        const target: Target = { kind: 'azure-blob', conn: { cs: az.connectionString, container: 'bench' }, inputs: { storageKind: 'azure-blob', storageContainer: 'bench', storageConnectionString: az.connectionString } };
        for (const [mb, reps] of sizes) rows.push(...(await benchSize(target, mb, reps)));
      } finally {
        await az.stop();
      }
      const s3 = await startS3rver({ bucket: 'bench' });
      try {
        const target: Target = {
          kind: 's3',
          conn: { endpoint: s3.endpoint, bucket: s3.bucket, id: s3.accessKeyId, secret: s3.secretAccessKey },
          inputs: { storageKind: 's3', s3Endpoint: s3.endpoint, s3Bucket: s3.bucket, s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey },
        };
        for (const [mb, reps] of sizes) rows.push(...(await benchSize(target, mb, reps)));
      } finally {
        await s3.stop();
      }
      if (!sizes.some(([mb]) => mb === 2048)) rows.push(['both', '2048 MB', 'skipped', '--size=2048 or STACKHUB_BENCH_MB=2048', '', '', '', '', '', '', '', '', '', '']);
      return rows;
    },
  },
];
