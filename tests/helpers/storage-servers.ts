/**
 * Real storage servers for tests, started and stopped by the tests on 127.0.0.1 with a port chosen by the OS:
 * Azurite (Azure Blob) and s3rver (S3), each in its own process so a test can kill it mid-transfer. Reusable by any
 * suite.
 *
 * s3rver 3.7 implements neither ListMultipartUploads nor AbortMultipartUpload; the child adds both, in the
 * documented S3 REST shapes, over s3rver's own upload store (so interrupted multipart uploads can be listed and
 * aborted the way a real S3-compatible store allows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** A running storage server. */
interface ServerProcess {
  /** The server's data directory (removed by stop()). */
  dir: string;
  /** Stops the server gracefully and removes its data. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), keeping its data directory: a store that dies mid-transfer. */
  kill(): Promise<void>;
  /** Stops the server (SIGTERM: it saves its state) and keeps its data: a store that is shut down mid-transfer. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data (after kill()). */
  restart(): Promise<void>;
}

/** A running Azurite blob service. */
export interface AzuriteServer extends ServerProcess {
  /** Blob endpoint in path style: `http://127.0.0.1:<port>/<account>`. */
  blobEndpoint: string;
  port: number;
  account: string;
  /** The account key (random per server unless given: usable as a marker secret). */
  key: string;
  connectionString: string;
  /** Creates a container. */
  createContainer(name: string): Promise<void>;
}

/** A running s3rver. */
export interface S3Server extends ServerProcess {
  endpoint: string;
  port: number;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

function waitForLine(child: ChildProcess, re: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString('utf8');
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // keep draining so the child never blocks on a full pipe
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!re.test(out)) reject(new Error(`${what} exited with ${code} before it listened:\n${out}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts Azurite's blob service. `key` defaults to a random base64 key (AZURITE_ACCOUNTS). */
export async function startAzurite(opts: { account?: string; key?: string } = {}): Promise<AzuriteServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
  const account = opts.account ?? 'devstoreaccount1';
  const key = opts.key ?? randomBytes(64).toString('base64');
  const bin = path.join(ROOT, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js');
  let port = 0;
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(
      process.execPath,
      [bin, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--skipApiVersionCheck', '--disableTelemetry', '--silent'],
      { env: { PATH: process.env.PATH, HOME: os.homedir(), AZURITE_ACCOUNTS: `${account}:${key}` }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const m = await waitForLine(child, /listens on http:\/\/127\.0\.0\.1:(\d+)/, 'Azurite');
    port = Number(m[1]);
  };
  await launch();
  const blobEndpoint = (): string => `http://127.0.0.1:${port}/${account}`;
  const server: AzuriteServer = {
    dir,
    get port() {
      return port;
    },
    get blobEndpoint() {
      return blobEndpoint();
    },
    account,
    key,
    get connectionString() {
      return `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${blobEndpoint()};`;
    },
    async createContainer(name: string) {
      const { BlobServiceClient } = await import('@azure/storage-blob');
      await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(name).createIfNotExists();
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async halt() {
      child.kill('SIGTERM');
      await exited(child);
    },
    async restart() {
      await launch();
    },
  } as AzuriteServer;
  return server;
}

/** The s3rver child: s3rver + ListMultipartUploads + AbortMultipartUpload. */
const S3RVER_MAIN = `
const fs = require('fs');
const path = require('path');
const S3rver = require('s3rver');
const [dir, port, bucket, id, secret] = process.argv.slice(1);
require('s3rver/lib/models/account').DUMMY_ACCOUNT.createKeyPair(id, secret);
const app = new S3rver({ address: '127.0.0.1', port: Number(port), directory: dir, silent: true, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
app.middleware.unshift(async (ctx, next) => {
  const url = new URL(ctx.url, 'http://x');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (ctx.method === 'GET' && parts.length === 1 && url.searchParams.has('uploads')) {
    const uploadsDir = app.store.getResourcePath(parts[0], undefined, 'uploads');
    const prefix = url.searchParams.get('prefix') || '';
    let ids = [];
    try { ids = fs.readdirSync(uploadsDir); } catch {}
    const uploads = ids.map((u) => {
      let key; try { key = fs.readFileSync(path.join(uploadsDir, u, 'key'), 'utf8'); } catch { return undefined; }
      return { u, key, t: fs.statSync(path.join(uploadsDir, u)).mtime };
    }).filter((x) => x && x.key.startsWith(prefix));
    ctx.type = 'application/xml';
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Bucket>' + esc(parts[0]) + '</Bucket><Prefix>' + esc(prefix) + '</Prefix><IsTruncated>false</IsTruncated>' +
      uploads.map((x) => '<Upload><Key>' + esc(x.key) + '</Key><UploadId>' + x.u + '</UploadId><Initiated>' + x.t.toISOString() + '</Initiated></Upload>').join('') +
      '</ListMultipartUploadsResult>';
    return;
  }
  if (ctx.method === 'DELETE' && parts.length > 1 && url.searchParams.has('uploadId')) {
    const uploadsDir = app.store.getResourcePath(parts[0], undefined, 'uploads');
    const id = url.searchParams.get('uploadId');
    if (!/^[0-9a-f]+$/.test(id) || !fs.existsSync(path.join(uploadsDir, id))) {
      ctx.status = 404; ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    fs.rmSync(path.join(uploadsDir, id), { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  return next();
});
app.run().then((a) => console.log('s3rver listening on ' + a.port), (e) => { console.error(e); process.exit(1); });
`;

/** Starts s3rver with one bucket and a random key pair (usable as marker secrets). */
export async function startS3rver(opts: { bucket?: string; accessKeyId?: string; secretAccessKey?: string } = {}): Promise<S3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  const bucket = opts.bucket ?? 'backups';
  const accessKeyId = opts.accessKeyId ?? `AK${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = opts.secretAccessKey ?? randomBytes(20).toString('base64');
  let port = 0;
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(process.execPath, ['-e', S3RVER_MAIN, dir, String(port), bucket, accessKeyId, secretAccessKey], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: os.homedir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const m = await waitForLine(child, /s3rver listening on (\d+)/, 's3rver');
    port = Number(m[1]);
  };
  await launch();
  return {
    dir,
    get port() {
      return port;
    },
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    bucket,
    accessKeyId,
    secretAccessKey,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async halt() {
      child.kill('SIGTERM');
      await exited(child);
    },
    async restart() {
      await launch();
    },
  } as S3Server;
}
