/**
 * Where the time of a Mongo restore goes (issue 11 item 1), measured stage by stage in one process against the same
 * age-encrypted archive in Azurite and in s3rver (median of a few runs; each as a multiple of the plain download of
 * the same bytes). `npm run bench -- breakdown`; STACKHUB_BENCH_BREAKDOWN_MB (default 256), _REPS (default 3).
 *
 * Network stages read the object through the library's own Storage (`get`), the way a restore does: the plain
 * download, + SHA-256, + the 0600 file, then the whole network pass before (downloadVerified: a side stream into
 * age decryption) and now (downloadToVerifiedCopy: one sink that hashes, authenticates each chunk in place and
 * writes to the private descriptor). Local stages start from the verified copy: the mongorestore double's own
 * consumption (plaintext piped in), the local pass before (a second ChaCha20-Poly1305 decryption) and now (the
 * keystream replay), alone and into the double; then both whole restores, and baseline (a) of `bench/mongo.ts`
 * (the plaintext download piped straight into the double).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { decryptStream, encryptStream, HashMeter } from '../src/shared/crypto';
import { downloadToVerifiedCopy, downloadVerified, openPlaintext, openStorage, type ManifestObject, type Storage, type VerifiedCopy } from '../src/shared/storage';
import { startAzurite, startS3rver } from '../tests/helpers/storage-servers';
import { DOUBLES, MB, fakeMongo } from './mongo-common';


function sink(): Writable {
  return new Writable({ highWaterMark: 4 * MB, write: (_c, _e, cb) => cb() });
}

/** Seconds `f` took, or the seconds it returns (a stage that times only its own part). */
async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const own = await f();
  return typeof own === 'number' ? own : Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Pipes `src` into the mongorestore double (`--archive --gzip --drop`, stdin) and waits for it to exit 0. */
function restoreDouble(src: Readable, env: NodeJS.ProcessEnv, cfg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(DOUBLES, 'mongorestore'), ['--archive', '--gzip', `--config=${cfg}`, '--drop'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mongorestore double exited ${code}: ${err}`))));
    src.on('error', (e) => p.kill() && reject(e));
    src.pipe(p.stdin);
    p.stdin.on('error', () => undefined);
  });
}

interface Stage {
  name: string;
  /** Resolves to its own seconds when it must exclude a set-up (else the whole call is timed). */
  run: () => Promise<unknown>;
}

async function stagesFor(kind: string, store: Storage, obj: ManifestObject, work: string, ids: string[], env: NodeJS.ProcessEnv, cfg: string, plainFile: string): Promise<Stage[]> {
  const file = path.join(work, `${kind}.age`);
  const verified = path.join(work, `${kind}-verified.age`);
  await downloadVerified(store, '', obj, verified, { identities: ids });
  const rm = (): void => fs.rmSync(file, { force: true });
  const copy = (): Promise<VerifiedCopy> => downloadToVerifiedCopy(store, '', obj, file, { identities: ids });
  return [
    { name: 'download', run: async () => pipeline((await store.get(obj.name)).stream, sink()) },
    { name: '+ SHA-256', run: async () => pipeline((await store.get(obj.name)).stream, new HashMeter(), sink()) },
    { name: '+ SHA-256 + 0600 file', run: async () => pipeline((await store.get(obj.name)).stream, new HashMeter(), fs.createWriteStream(file, { mode: 0o600 })).then(rm) },
    { name: 'before: network pass (downloadVerified: SHA-256, file, chunk auth)', run: () => downloadVerified(store, '', obj, file, { identities: ids }).then(rm) },
    { name: 'now: network pass (downloadToVerifiedCopy)', run: async () => (await copy()).close() },
    { name: 'local: plaintext file → mongorestore double (its consumption)', run: () => restoreDouble(fs.createReadStream(plainFile, { highWaterMark: MB }), env, cfg) },
    { name: 'before: local decrypt+auth → discard', run: async () => pipeline(await decryptStream(fs.createReadStream(verified, { highWaterMark: MB }), ids), sink()) },
    { name: 'before: local pass (decrypt+auth → mongorestore double)', run: async () => restoreDouble(await openPlaintext(verified, obj, ids), env, cfg) },
    {
      name: 'now: local keystream replay → discard',
      run: async () => {
        const c = await copy();
        const t0 = process.hrtime.bigint();
        await pipeline(c.plaintext(), sink());
        c.close();
        return Number(process.hrtime.bigint() - t0) / 1e9;
      },
    },
    {
      name: 'now: local pass (keystream replay → mongorestore double)',
      run: async () => {
        const c = await copy();
        const t0 = process.hrtime.bigint();
        await restoreDouble(c.plaintext(), env, cfg);
        c.close();
        return Number(process.hrtime.bigint() - t0) / 1e9;
      },
    },
    {
      name: 'before: restore (network pass + local pass)',
      run: async () => {
        await downloadVerified(store, '', obj, file, { identities: ids });
        await restoreDouble(await openPlaintext(file, obj, ids), env, cfg);
        rm();
      },
    },
    {
      name: 'now: restore (network pass + local pass)',
      run: async () => {
        const c = await copy();
        await restoreDouble(c.plaintext(), env, cfg);
        c.close();
      },
    },
    { name: 'baseline (a): download piped into mongorestore double', run: async () => restoreDouble((await store.get('plain.archive')).stream, env, cfg) },
  ];
}

async function breakdown(sizeMB: number, reps: number): Promise<(string | number)[][]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-breakdown-'));
  const { cfg, env } = fakeMongo(work, sizeMB);
  // the archive: mongodump double → plaintext file → age file
  const plainFile = path.join(work, 'plain.archive');
  await new Promise<void>((resolve, reject) => {
    const p = spawn(path.join(DOUBLES, 'mongodump'), [`--archive=${plainFile}`, '--gzip', `--config=${cfg}`, '--db=bench'], { env, stdio: 'ignore' });
    p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`mongodump double exited ${c}`))));
  });
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const ageFile = path.join(work, 'archive.age');
  await pipeline(await encryptStream(fs.createReadStream(plainFile, { highWaterMark: MB }), [await identityToRecipient(identity)]), fs.createWriteStream(ageFile));
  const h = new HashMeter();
  await pipeline(fs.createReadStream(ageFile), h, sink());
  const obj: ManifestObject = { name: 'archive.age', size: h.bytes, sha256: h.sha256, encrypted: true, plainSize: fs.statSync(plainFile).size } as ManifestObject;
  const az = await startAzurite();
  const s3 = await startS3rver({ bucket: 'bench' });
  const rows: (string | number)[][] = [];
  try {
    await az.createContainer('bench');
    const stores: [string, Storage][] = [
      ['azure-blob', await openStorage({ kind: 'azure-blob', accountUrl: az.blobEndpoint, container: 'bench', auth: { type: 'connection-string', connectionString: az.connectionString }, prefix: '', maxTries: 1 })],
      ['s3', await openStorage({ kind: 's3', endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, pathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, checksums: 'when-required', prefix: '', maxTries: 1 })],
    ];
    for (const [kind, store] of stores) {
      // (the servers drop a connection now and then on a loaded machine: a failed upload is retried)
      const put = async (key: string, f: string, tries = 3): Promise<void> => {
        await store.put(key, fs.createReadStream(f, { highWaterMark: MB })).catch((e: unknown) => (tries > 1 ? put(key, f, tries - 1) : Promise.reject(e)));
      };
      await put(obj.name, ageFile);
      await put('plain.archive', plainFile);
      const stages = await stagesFor(kind, store, obj, work, [identity], env, cfg, plainFile);
      const t: number[][] = stages.map(() => []);
      for (let i = 0; i < reps; i++) for (const [j, s] of stages.entries()) t[j].push(await time(s.run));
      const base = median(t[0]);
      for (const [j, s] of stages.entries()) {
        const m = median(t[j]);
        rows.push([kind, `${sizeMB} MB`, s.name, m.toFixed(2), (sizeMB / m).toFixed(0), (m / base).toFixed(2)]);
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
    name: 'mongo restore breakdown: each stage of the restore path alone (median), as a multiple of the plain download of the same bytes',
    columns: ['storage', 'size', 'stage', 's', 'MB/s', '× download time'],
    run: () => breakdown(Number(process.env.STACKHUB_BENCH_BREAKDOWN_MB ?? 256), Number(process.env.STACKHUB_BENCH_BREAKDOWN_REPS ?? 3)),
  },
];
