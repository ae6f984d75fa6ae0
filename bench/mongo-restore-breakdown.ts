/**
 * Where the time of a Mongo restore goes (issue 11 item 1), measured stage by stage in one process against the same
 * age-encrypted archive in Azurite and in s3rver (median of a few runs; ratios against the plain download of the
 * same bytes). `npm run bench -- breakdown`; size with STACKHUB_BENCH_BREAKDOWN_MB (default 256).
 *
 * Network stages read the object through the library's own Storage (`get`), the way a restore does:
 *   download                    get → count (the plain download)
 *   + SHA-256                   get → hash
 *   + SHA-256 + file            get → hash → 0600 file
 *   + auth (ChaCha20-Poly1305)  get → hash → file, and every age chunk authenticated (the restore's network pass)
 * Local stages read the verified ciphertext file:
 *   decrypt+auth                file → age decrypt (ChaCha20-Poly1305, tags checked again) → discard
 *   keystream only              file → ChaCha20 keystream (tags already checked) → discard
 *   mongorestore double         plaintext piped into the mongorestore double (its own consumption: parse + SHA-256)
 *   local pass                  file → the restore's local pass → mongorestore double
 *   restore                     the library's whole restore path (network pass + local pass into the double)
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
import { downloadVerified, openPlaintext, openStorage, type ManifestObject, type Storage } from '../src/shared/storage';
import { startAzurite, startS3rver } from '../tests/helpers/storage-servers';

const ROOT = path.resolve(__dirname, '..');
const DOUBLES = path.join(ROOT, 'tests', 'helpers', 'mongo-doubles');
const MB = 1024 * 1024;

function sink(): Writable {
  return new Writable({ highWaterMark: 4 * MB, write: (_c, _e, cb) => cb() });
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
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
  run: () => Promise<unknown>;
}

async function stagesFor(kind: string, store: Storage, obj: ManifestObject, work: string, ids: string[], env: NodeJS.ProcessEnv, cfg: string, plainFile: string): Promise<Stage[]> {
  const file = path.join(work, `${kind}.age`);
  const verified = path.join(work, `${kind}-verified.age`);
  await downloadVerified(store, '', obj, verified, { identities: ids });
  const { keystreamPlaintext } = (await import('../src/shared/crypto')) as unknown as { keystreamPlaintext?: (f: string, ids: string[]) => Promise<Readable> };
  const stages: Stage[] = [
    { name: 'download', run: async () => pipeline((await store.get(obj.name)).stream, sink()) },
    { name: '+ SHA-256', run: async () => pipeline((await store.get(obj.name)).stream, new HashMeter(), sink()) },
    { name: '+ SHA-256 + 0600 file', run: async () => pipeline((await store.get(obj.name)).stream, new HashMeter(), fs.createWriteStream(file, { mode: 0o600 })) },
    { name: '+ SHA-256 + file + chunk auth (network pass)', run: () => downloadVerified(store, '', obj, file, { identities: ids }) },
    { name: 'local: decrypt+auth → discard', run: async () => pipeline(await decryptStream(fs.createReadStream(verified, { highWaterMark: MB }), ids), sink()) },
  ];
  if (keystreamPlaintext) stages.push({ name: 'local: keystream only → discard', run: async () => pipeline(await keystreamPlaintext(verified, ids), sink()) });
  stages.push(
    { name: 'local: plaintext file → mongorestore double', run: () => restoreDouble(fs.createReadStream(plainFile, { highWaterMark: MB }), env, cfg) },
    { name: 'local pass: file → openPlaintext → mongorestore double', run: async () => restoreDouble(await openPlaintext(verified, obj, ids), env, cfg) },
    {
      name: 'network + local pass (the restore)',
      run: async () => {
        await downloadVerified(store, '', obj, file, { identities: ids });
        await restoreDouble(await openPlaintext(file, obj, ids), env, cfg);
      },
    },
  );
  return stages;
}

async function breakdown(sizeMB: number, reps: number): Promise<(string | number)[][]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-breakdown-'));
  const servers = path.join(work, 'servers');
  fs.mkdirSync(servers);
  const password = 'bench-password';
  fs.writeFileSync(path.join(servers, 'bench-mongo_27017.json'), JSON.stringify({ users: { b: { password, roles: ['root'] } }, databases: { bench: { data: { count: 1000, bytes: sizeMB * MB } } } }));
  const cfg = path.join(work, 'tools.yaml');
  fs.writeFileSync(cfg, `uri: mongodb://b@bench-mongo:27017/\npassword: ${password}\n`, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { PATH: `${DOUBLES}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: os.homedir(), MONGO_DOUBLE_SERVERS: servers };
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
      await store.put(obj.name, fs.createReadStream(ageFile, { highWaterMark: MB }));
      const stages = await stagesFor(kind, store, obj, work, [identity], env, cfg, plainFile);
      const t: number[][] = stages.map(() => []);
      for (let i = 0; i < reps; i++) for (const [j, s] of stages.entries()) t[j].push(await time(s.run));
      const base = median(t[0]);
      for (const [j, s] of stages.entries()) {
        const m = median(t[j]);
        rows.push([kind, `${sizeMB} MB`, s.name, m.toFixed(2), (sizeMB / m).toFixed(0), (m / base).toFixed(2)]);
      }
      await store.delete(obj.name);
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
