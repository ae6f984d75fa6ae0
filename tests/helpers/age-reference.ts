/**
 * age-encryption's own streaming API (pure JS, slower): the reference that the native age payload of
 * src/shared/crypto/streams.ts is tested against. Test-only: moved out of src/.
 */
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { age, decryptError } from '../../src/shared/crypto/age-payload';

function toWeb(src: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(src) as unknown as ReadableStream<Uint8Array>;
}

function fromWeb(web: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>);
}

/**
 * The same, through age-encryption's own Web-stream API (`Readable.toWeb`), pure JS and slower: kept as the reference
 * the native payload is tested against.
 */
export async function decryptStreamReference(src: Readable, identities: readonly string[]): Promise<Readable> {
  const d = new (await age()).Decrypter();
  for (const id of identities) d.addIdentity(id);
  let web: ReadableStream<Uint8Array>;
  try {
    web = await d.decrypt(toWeb(src));
  } catch (e) {
    throw decryptError(e);
  }
  const out = fromWeb(web);
  const wrapped = new Transform({ transform: (c, _e, cb) => cb(null, c) });
  out.on('error', (e) => wrapped.destroy(decryptError(e)));
  src.once('error', (e) => wrapped.destroy(e));
  return out.pipe(wrapped);
}

/** age-encryption's own streaming encryption (reference for tests). */
export async function encryptStreamReference(src: Readable, recipients: readonly string[]): Promise<Readable> {
  const e = new (await age()).Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const out = fromWeb(await e.encrypt(toWeb(src)));
  src.once('error', (err) => out.destroy(err));
  return out;
}
