/**
 * Where the time of a Mongo restore goes (issue 11 item 1), measured stage by stage in one process against the same
 * age-encrypted archive in Azurite and in s3rver (median of a few interleaved runs; wall seconds, CPU seconds of this
 * process plus its children, and each as a multiple of the plain download of the same bytes).
 * `npm run bench -- breakdown`; size `--size=N` or STACKHUB_BENCH_BREAKDOWN_MB / STACKHUB_BENCH_MB (default 256),
 * STACKHUB_BENCH_BREAKDOWN_REPS (default 3).
 *
 * Network stages read the object through the library's own Storage (`get`), the way a restore does: the plain
 * download, then the whole network pass (downloadToVerifiedCopy: one sink that hashes, authenticates each chunk in
 * place and writes to the private descriptor). Local stages start from a verified copy (made outside the timing) and
 * split the local pass: reading the copy alone, the ChaCha20 keystream over 64 KiB chunks in memory alone (decrypt
 * throughput), the replay (read + decrypt) into nothing, the mongorestore stand-in's own cost (the plaintext file
 * piped into the sh sink of bench/mongorestore-sink.ts), and the local pass as a restore runs it (replay → sink);
 * "replay → sink minus file → sink" is the local pass with the sink's own cost subtracted. For reference, the node
 * double of the tests (gunzip + BSON parse + SHA-256 of stdin) consuming the plaintext file, which is what the
 * restore bench measured before it used the sink. Then the whole restore (network + local) and baseline (a): the
 * plaintext download piped straight into the sink.
 */
import { spawn } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { encryptStream, HashMeter } from '../src/shared/crypto';
import { downloadToVerifiedCopy, openStorage, type ManifestObject, type Storage, type VerifiedCopy } from '../src/shared/storage';
import { startAzurite, startS3rver } from '../tests/helpers/storage-servers';
import { DOUBLES, MB, fakeMongo } from './mongo-common';
import { installRestoreSink, type RestoreSink } from './mongorestore-sink';
import { benchSizes } from './mongo-restore';

function sink(): Writable {
  return new Writable({ highWaterMark: 4 * MB, write: (_c, _e, cb) => cb() });
}

/** CPU seconds of children measured by {@link toTool} during the current stage. */
let childCpu = 0;

/** Pipes `src` into `bin` (`--archive --gzip --config --drop`, stdin) under /usr/bin/time; waits for exit 0. */
function toTool(bin: string, src: Readable, env: NodeJS.ProcessEnv, cfg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/time', ['-f', 'CHILDCPU %U %S', bin, '--archive', '--gzip', `--config=${cfg}`, '--drop'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /CHILDCPU ([\d.]+) ([\d.]+)/.exec(err);
      if (m) childCpu += Number(m[1]) + Number(m[2]);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(bin)} exited ${code}: ${err}`));
    });
    src.on('error', (e) => p.kill() && reject(e));
    src.pipe(p.stdin);
    p.stdin.on('error', () => undefined);
  });
}

interface Stage {
  name: string;
  /** Set-up outside the timing; returns the timed part. */
  setup?: () => Promise<() => Promise<unknown>>;
  run?: () => Promise<unknown>;
  /** Bytes the mongorestore sink must have received (checked after the stage). */
  feeds?: boolean;
}

/** Wall and CPU seconds of one stage run. */
async function time(s: Stage): Promise<[number, number]> {
  const f = s.setup ? await s.setup() : s.run!;
  childCpu = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1e6 + childCpu];
}

function networkStages(store: Storage, obj: ManifestObject, work: string, ids: string[], rs: RestoreSink, env: NodeJS.ProcessEnv, cfg: string): Stage[] {
  const file = path.join(work, 'net.age');
  return [
    { name: 'download (Storage.get → nothing)', run: async () => pipeline((await store.get(obj.name)).stream, sink()) },
    { name: 'network pass (downloadToVerifiedCopy: SHA-256, 0600 file, every chunk tag)', run: async () => (await downloadToVerifiedCopy(store, '', obj, file, { identities: ids })).close() },
    {
      name: 'restore in one process (network pass + replay → sink)',
      feeds: true,
      run: async () => {
        const c = await downloadToVerifiedCopy(store, '', obj, file, { identities: ids });
        await toTool(rs.bin, c.plaintext(), env, cfg);
        c.close();
      },
    },
    { name: 'baseline (a): plaintext download → sink', feeds: true, run: async () => toTool(rs.bin, (await store.get('plain.archive')).stream, env, cfg) },
  ];
}

function localStages(copy: () => Promise<VerifiedCopy>, ageFile: string, plainFile: string, rs: RestoreSink, env: NodeJS.ProcessEnv, cfg: string): Stage[] {
  const withCopy = (f: (c: VerifiedCopy) => Promise<unknown>) => async () => {
    const c = await copy();
    return async () => {
      try {
        await f(c);
      } finally {
        c.close();
      }
    };
  };
  const key = Buffer.alloc(32, 7);
  const block = Buffer.alloc(64 * 1024, 1);
  const chunks = Math.ceil(fs.statSync(plainFile).size / block.length);
  return [
    { name: 'local: read the copy (4 MiB reads → nothing)', run: () => pipeline(fs.createReadStream(ageFile, { highWaterMark: 4 * MB }), sink()) },
    {
      name: 'local: ChaCha20 keystream over 64 KiB chunks in memory (decrypt alone)',
      run: async () => {
        const iv = Buffer.alloc(16);
        for (let i = 0; i < chunks; i++) {
          iv.writeUInt32BE(i, 12);
          createDecipheriv('chacha20', key, iv).update(block);
        }
      },
    },
    { name: 'local: replay (read + decrypt) → nothing', setup: withCopy((c) => pipeline(c.plaintext(), sink())) },
    { name: "local: sink's own cost (plaintext file → sh sink)", feeds: true, run: () => toTool(rs.bin, fs.createReadStream(plainFile, { highWaterMark: 4 * MB }), env, cfg) },
    { name: 'local pass: replay → sh sink', feeds: true, setup: withCopy((c) => toTool(rs.bin, c.plaintext(), env, cfg)) },
    { name: 'reference: plaintext file → node mongorestore double (tests)', run: () => toTool(path.join(DOUBLES, 'mongorestore'), fs.createReadStream(plainFile, { highWaterMark: 4 * MB }), env, cfg) },
  ];
}

/** Runs stages `reps` times interleaved; rows of medians against stage `base`. */
async function runStages(label: string, sizeMB: number, stages: Stage[], reps: number, rs: RestoreSink, plainBytes: number, baseWall: () => number | undefined): Promise<{ rows: (string | number)[][]; walls: number[] }> {
  const t: [number, number][][] = stages.map(() => []);
  for (let i = 0; i < reps; i++) {
    for (const [j, s] of stages.entries()) {
      rs.take();
      t[j].push(await time(s));
      const fed = rs.take();
      if (s.feeds && (fed.length !== 1 || fed[0] !== plainBytes)) throw new Error(`${s.name}: the sink got ${JSON.stringify(fed)} bytes, expected [${plainBytes}]`);
    }
  }
  const walls = t.map((x) => median(x.map((y) => y[0])));
  const base = baseWall() ?? walls[0];
  const rows = stages.map((s, j) => {
    const cpu = median(t[j].map((y) => y[1]));
    return [label, `${sizeMB} MB`, s.name, walls[j].toFixed(2), cpu.toFixed(2), (sizeMB / walls[j]).toFixed(0), (walls[j] / base).toFixed(2)];
  });
  return { rows, walls };
}

async function breakdown(sizeMB: number, reps: number): Promise<(string | number)[][]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-breakdown-'));
  const mongo = fakeMongo(work, sizeMB);
  const { cfg } = mongo;
  const rs = installRestoreSink(path.join(work, 'sink'));
  const env: NodeJS.ProcessEnv = { ...mongo.env, ...rs.env };
  // the archive: mongodump double → plaintext file → age file
  const plainFile = path.join(work, 'plain.archive');
  await new Promise<void>((resolve, reject) => {
    const p = spawn(path.join(DOUBLES, 'mongodump'), [`--archive=${plainFile}`, '--gzip', `--config=${cfg}`, '--db=bench'], { env, stdio: 'ignore' });
    p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`mongodump double exited ${c}`))));
  });
  const plainBytes = fs.statSync(plainFile).size;
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const ids = [identity];
  const ageFile = path.join(work, 'archive.age');
  await pipeline(await encryptStream(fs.createReadStream(plainFile, { highWaterMark: MB }), [await identityToRecipient(identity)]), fs.createWriteStream(ageFile));
  const h = new HashMeter();
  await pipeline(fs.createReadStream(ageFile), h, sink());
  const obj: ManifestObject = { name: 'archive.age', size: h.bytes, sha256: h.sha256, encrypted: true, plainSize: plainBytes } as ManifestObject;
  const az = await startAzurite();
  const s3 = await startS3rver({ bucket: 'bench' });
  const rows: (string | number)[][] = [];
  try {
    await az.createContainer('bench');
    const stores: [string, Storage][] = [
      ['azure-blob', await openStorage({ kind: 'azure-blob', accountUrl: az.blobEndpoint, container: 'bench', auth: { type: 'connection-string', connectionString: az.connectionString }, prefix: '', maxTries: 1 })],
      ['s3', await openStorage({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, checksums: 'when-required', prefix: '', maxTries: 1 })],
    ];
    let azureDownload: number | undefined;
    for (const [kind, store] of stores) {
      // (the servers drop a connection now and then on a loaded machine: a failed upload is retried)
      const put = async (key: string, f: string, tries = 3): Promise<void> => {
        await store.put(key, fs.createReadStream(f, { highWaterMark: MB })).catch((e: unknown) => (tries > 1 ? put(key, f, tries - 1) : Promise.reject(e)));
      };
      await put(obj.name, ageFile);
      await put('plain.archive', plainFile);
      const net = await runStages(kind, sizeMB, networkStages(store, obj, work, ids, rs, env, cfg), reps, rs, plainBytes, () => undefined);
      rows.push(...net.rows);
      if (kind === 'azure-blob') {
        azureDownload = net.walls[0];
        // the local pass does not depend on the storage: measured once, against the Azurite download
        let n = 0;
        const copy = (): Promise<VerifiedCopy> => downloadToVerifiedCopy(store, '', obj, path.join(work, `copy-${n++}.age`), { identities: ids });
        const local = await runStages('local', sizeMB, localStages(copy, ageFile, plainFile, rs, env, cfg), reps, rs, plainBytes, () => azureDownload);
        rows.push(...local.rows);
        const [sinkOwn, pass] = [local.walls[3], local.walls[4]];
        const net2 = pass - sinkOwn;
        rows.push(['local', `${sizeMB} MB`, "local pass minus the sink's own cost (replay → sink − file → sink)", net2.toFixed(2), '', (sizeMB / Math.max(net2, 1e-3)).toFixed(0), (net2 / azureDownload).toFixed(2)]);
      }
      await store.delete(obj.name);
      await store.delete('plain.archive');
    }
  } finally {
    await az.stop();
    await s3.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

export const benches: Bench[] = [
  {
    name: 'mongo restore breakdown: each stage of the restore path alone (median), as a multiple of the plain download of the same bytes (local stages: of the Azurite download)',
    columns: ['storage', 'size', 'stage', 'wall s', 'CPU s (process + children)', 'MB/s (wall)', '× download wall'],
    async run() {
      const mb = process.env.STACKHUB_BENCH_BREAKDOWN_MB ? [Number(process.env.STACKHUB_BENCH_BREAKDOWN_MB)] : benchSizes();
      const reps = Number(process.env.STACKHUB_BENCH_BREAKDOWN_REPS ?? 3);
      const rows: (string | number)[][] = [];
      for (const size of mb) rows.push(...(await breakdown(size, reps)));
      return rows;
    },
  },
];
