/** Reading HTTP response bodies: whole into memory, or streamed to a file (temp name + rename) with SHA-256 and progress. */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';

import { StackHubError, oneLine } from './errors';
import { TransportError } from './http-transport';

const noop = (): void => undefined;

// --- bodies --------------------------------------------------------------------------------------------------------

export function contentLength(res: http.IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

function bodyError(err: unknown, received: number, total: number | undefined): TransportError {
  if (err instanceof TransportError) return err;
  const of = total === undefined ? '' : ` of ${total}`;
  return new TransportError(`connection lost after ${received}${of} bytes of the response: ${oneLine(err)}`, true);
}

function checkComplete(res: http.IncomingMessage, received: number, total: number | undefined): void {
  if (total !== undefined && received !== total) {
    throw new TransportError(`response body ended after ${received} of ${total} bytes`, true);
  }
  if (!res.complete) throw new TransportError(`response body ended prematurely after ${received} bytes`, true);
}

export async function readBody(res: http.IncomingMessage, method: string): Promise<Buffer> {
  const status = res.statusCode ?? 0;
  // Content-Length of a HEAD, 204 or 304 answer describes a body that is never sent.
  const bodiless = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
  const total = bodiless ? undefined : contentLength(res);
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      received += chunk.length;
    }
  } catch (err) {
    throw bodyError(err, received, total);
  }
  checkComplete(res, received, total);
  return Buffer.concat(chunks, received);
}

/** Throttles onProgress to ~1 call per second or per 10 %, plus a final call. */
class Progress {
  private lastAt = Date.now();
  private lastDecile = -1;
  private lastReported = -1;

  constructor(
    private readonly cb: ((received: number, total: number | undefined) => void) | undefined,
    private readonly total: number | undefined,
  ) {}

  tick(received: number): void {
    if (!this.cb) return;
    const now = Date.now();
    const decile = this.total ? Math.floor((received * 10) / this.total) : -1;
    if (now - this.lastAt >= 1000 || decile > this.lastDecile) {
      this.lastAt = now;
      this.lastDecile = Math.max(decile, this.lastDecile);
      this.report(received);
    }
  }

  finish(received: number): void {
    if (this.cb && this.lastReported !== received) this.report(received);
  }

  private report(received: number): void {
    this.lastReported = received;
    try {
      this.cb?.(received, this.total);
    } catch {
      // a failing progress display must not fail the download
    }
  }
}

export async function streamToFile(
  res: http.IncomingMessage,
  destFile: string,
  total: number | undefined,
  onProgress: ((received: number, total: number | undefined) => void) | undefined,
): Promise<{ bytes: number; sha256: string }> {
  const dir = path.dirname(destFile);
  const tmp = path.join(dir, `.${path.basename(destFile)}.${randomBytes(6).toString('hex')}.part`);
  const fsError = (err: unknown): StackHubError => new StackHubError(`cannot write ${destFile}: ${oneLine(err)}`);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(tmp, 'wx', 0o600);
  } catch (err) {
    throw fsError(err);
  }
  let open = true;
  try {
    const hash = createHash('sha256');
    const progress = new Progress(onProgress, total);
    let received = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk);
        try {
          for (let off = 0; off < chunk.length; ) {
            off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          }
        } catch (err) {
          throw fsError(err);
        }
        received += chunk.length;
        progress.tick(received);
      }
    } catch (err) {
      if (err instanceof StackHubError && !(err instanceof TransportError)) throw err;
      throw bodyError(err, received, total);
    }
    checkComplete(res, received, total);
    progress.finish(received);
    open = false;
    try {
      await fh.close();
      await fsp.rename(tmp, destFile);
    } catch (err) {
      throw fsError(err);
    }
    return { bytes: received, sha256: hash.digest('hex') };
  } catch (err) {
    if (open) await fh.close().catch(noop);
    await fsp.rm(tmp, { force: true }).catch(noop);
    throw err;
  }
}

