'use strict';
/**
 * The mongodump archive format, as mongo-tools 100.8.0 writes and reads it (common/archive/spec.md, prelude.go,
 * multiplexer.go, demultiplexer.go, parser.go):
 *
 *   magic 0x8199e26d (little-endian: 6d e2 99 81)
 *   header BSON {concurrent_collections: int32, version: "0.1", server_version, tool_version}
 *   one collection-metadata BSON per collection {db, collection, metadata: <canonical extended JSON>, size: int32, type}
 *   terminator ffffffff
 *   per namespace: {db, collection, EOF: false, CRC: int64 0} + documents + terminator,
 *                  then {db, collection, EOF: true, CRC: int64 <CRC-64/ECMA of the documents>} + terminator
 *
 * With --gzip the whole stream is gzip (mongodump getArchiveOut). The oplog is the namespace {db: "", collection:
 * "oplog"}. Only node built-ins: the doubles run where the suite's node_modules may not be.
 */
const crypto = require('node:crypto');

const MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const MAX_BSON = 16 * 1024 * 1024;

// ---- BSON (the subset the archive and the suite's documents use) ----

function cstring(s) {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

/** Encodes [name, type, value] fields: 'string' | 'int32' | 'int64' | 'bool' | 'oid' | 'binary'. */
function bsonDoc(fields) {
  const parts = [];
  for (const [name, type, value] of fields) {
    const n = cstring(name);
    if (type === 'string') {
      const s = Buffer.from(value, 'utf8');
      const len = Buffer.alloc(4);
      len.writeInt32LE(s.length + 1);
      parts.push(Buffer.from([0x02]), n, len, s, Buffer.from([0]));
    } else if (type === 'int32') {
      const b = Buffer.alloc(4);
      b.writeInt32LE(value);
      parts.push(Buffer.from([0x10]), n, b);
    } else if (type === 'int64') {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value));
      parts.push(Buffer.from([0x12]), n, b);
    } else if (type === 'bool') {
      parts.push(Buffer.from([0x08]), n, Buffer.from([value ? 1 : 0]));
    } else throw new Error(`bsonDoc: unsupported type ${type}`);
  }
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(4 + body.length + 1);
  out.writeInt32LE(out.length);
  body.copy(out, 4);
  return out;
}

/** Decodes the top-level fields of a BSON document (strings, numbers, bools; others are skipped as raw). */
function bsonFields(buf) {
  const out = {};
  let i = 4;
  const end = buf.readInt32LE(0) - 1;
  while (i < end) {
    const type = buf[i++];
    const z = buf.indexOf(0, i);
    const name = buf.toString('utf8', i, z);
    i = z + 1;
    switch (type) {
      case 0x01: out[name] = buf.readDoubleLE(i); i += 8; break;
      case 0x02: { const l = buf.readInt32LE(i); out[name] = buf.toString('utf8', i + 4, i + 4 + l - 1); i += 4 + l; break; }
      case 0x03: case 0x04: { const l = buf.readInt32LE(i); out[name] = buf.subarray(i, i + l); i += l; break; }
      case 0x05: { const l = buf.readInt32LE(i); out[name] = buf.subarray(i + 5, i + 5 + l); i += 5 + l; break; }
      case 0x07: out[name] = buf.subarray(i, i + 12); i += 12; break;
      case 0x08: out[name] = buf[i] === 1; i += 1; break;
      case 0x09: case 0x11: case 0x12: out[name] = buf.readBigInt64LE(i); i += 8; break;
      case 0x0a: out[name] = null; break;
      case 0x10: out[name] = buf.readInt32LE(i); i += 4; break;
      case 0x13: out[name] = buf.subarray(i, i + 16); i += 16; break;
      default: throw new Error(`unsupported BSON type 0x${type.toString(16)} in field ${name}`);
    }
  }
  return out;
}

// ---- CRC-64/ECMA as Go's hash/crc64 with crc64.MakeTable(crc64.ECMA) (reflected 0xC96C5795D7870F42) ----

// slicing-by-8 tables (as Go's crc64 uses for long inputs): table k at [k * 256, k * 256 + 256), 64-bit values as lo/hi
const CRC_LO = new Uint32Array(8 * 256);
const CRC_HI = new Uint32Array(8 * 256);
(() => {
  const poly = 0xc96c5795d7870f42n;
  const t = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t.push(c);
  }
  for (let k = 0; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const v = k === 0 ? t[i] : (((BigInt(CRC_HI[(k - 1) * 256 + i]) << 32n) | BigInt(CRC_LO[(k - 1) * 256 + i])) >> 8n) ^ t[CRC_LO[(k - 1) * 256 + i] & 0xff];
      CRC_LO[k * 256 + i] = Number(v & 0xffffffffn);
      CRC_HI[k * 256 + i] = Number(v >> 32n);
    }
  }
})();

/** Incremental CRC-64/ECMA; signed() is int64(Sum64()) as Go writes it into the EOF header. */
class Crc64 {
  constructor() {
    this.lo = 0xffffffff;
    this.hi = 0xffffffff;
  }
  update(buf) {
    const L = CRC_LO;
    const H = CRC_HI;
    let lo = this.lo;
    let hi = this.hi;
    let i = 0;
    const n8 = buf.length - (buf.length % 8);
    for (; i < n8; i += 8) {
      const i0 = (buf[i] ^ lo) & 0xff;
      const i1 = (buf[i + 1] ^ (lo >>> 8)) & 0xff;
      const i2 = (buf[i + 2] ^ (lo >>> 16)) & 0xff;
      const i3 = (buf[i + 3] ^ (lo >>> 24)) & 0xff;
      const i4 = (buf[i + 4] ^ hi) & 0xff;
      const i5 = (buf[i + 5] ^ (hi >>> 8)) & 0xff;
      const i6 = (buf[i + 6] ^ (hi >>> 16)) & 0xff;
      const i7 = (buf[i + 7] ^ (hi >>> 24)) & 0xff;
      lo = (L[1792 + i0] ^ L[1536 + i1] ^ L[1280 + i2] ^ L[1024 + i3] ^ L[768 + i4] ^ L[512 + i5] ^ L[256 + i6] ^ L[i7]) >>> 0;
      hi = (H[1792 + i0] ^ H[1536 + i1] ^ H[1280 + i2] ^ H[1024 + i3] ^ H[768 + i4] ^ H[512 + i5] ^ H[256 + i6] ^ H[i7]) >>> 0;
    }
    for (; i < buf.length; i++) {
      const t = (lo ^ buf[i]) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ L[t]) >>> 0;
      hi = ((hi >>> 8) ^ H[t]) >>> 0;
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }
  signed() {
    return BigInt.asIntN(64, (BigInt((~this.hi) >>> 0) << 32n) | BigInt((~this.lo) >>> 0));
  }
}

// ---- the suite's documents ----

/** Size of {_id: ObjectId, n: int32, payload: BinData(0, k)} with k payload bytes. */
const DOC_OVERHEAD = 4 + (1 + 4 + 12) + (1 + 2 + 4) + (1 + 8 + 4 + 1) + 1;
const ZEROS = Buffer.alloc(1 << 16);
const MIN_DOC = 4 + (1 + 4 + 12) + (1 + 2 + 4) + 1;

/**
 * Yields the `count` documents of a namespace, deterministic, about `bytes` in total: `_id` an ObjectId derived from
 * the namespace and the index, `n` the index, `payload` binary from an AES-CTR keystream seeded by the namespace.
 */
function* documents(ns, count, bytes) {
  const idHead = crypto.createHash('sha256').update(`oid:${ns}`).digest().subarray(0, 4);
  const key = crypto.createHash('sha256').update(`key:${ns}`).digest();
  const iv = crypto.createHash('md5').update(`iv:${ns}`).digest();
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  const budget = Math.max(0, bytes - count * DOC_OVERHEAD);
  const each = Math.floor(budget / Math.max(count, 1));
  let extra = budget - each * count;
  for (let i = 0; i < count; i++) {
    const k = each + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    const withPayload = bytes >= count * DOC_OVERHEAD;
    const size = withPayload ? DOC_OVERHEAD + k : MIN_DOC;
    if (size > MAX_BSON) throw new Error(`double: a document of ${ns} would be ${size} bytes, over the 16 MiB BSON limit`);
    const d = Buffer.allocUnsafe(size);
    let o = 0;
    d.writeInt32LE(size, o); o += 4;
    d[o++] = 0x07; o += d.write('_id\0', o, 'latin1');
    idHead.copy(d, o); d.writeBigUInt64BE(BigInt(i), o + 4); o += 12;
    d[o++] = 0x10; o += d.write('n\0', o, 'latin1');
    d.writeInt32LE(i, o); o += 4;
    if (withPayload) {
      d[o++] = 0x05; o += d.write('payload\0', o, 'latin1');
      d.writeInt32LE(k, o); o += 4;
      d[o++] = 0x00;
      // the keystream is written straight into the document (no intermediate buffer)
      for (let done = 0; done < k; ) {
        const m = Math.min(k - done, ZEROS.length);
        cipher.update(ZEROS.subarray(0, m)).copy(d, o + done);
        done += m;
      }
      o += k;
    }
    d[o] = 0;
    yield d;
  }
}

/** The metadata string mongodump writes for a plain collection (bson.MarshalExtJSON canonical of Metadata). */
function collectionMetadata(db, coll) {
  const uuid = crypto.createHash('md5').update(`uuid:${db}.${coll}`).digest('hex');
  return JSON.stringify({ indexes: [{ v: { $numberInt: '2' }, key: { _id: { $numberInt: '1' } }, name: '_id_' }], uuid, collectionName: coll, type: 'collection' });
}

/** The prelude: magic, header, one metadata document per namespace, terminator. */
function prelude({ concurrent, serverVersion, toolVersion, namespaces }) {
  const parts = [MAGIC, bsonDoc([['concurrent_collections', 'int32', concurrent], ['version', 'string', '0.1'], ['server_version', 'string', serverVersion], ['tool_version', 'string', toolVersion]])];
  for (const n of namespaces) {
    parts.push(bsonDoc([['db', 'string', n.db], ['collection', 'string', n.collection], ['metadata', 'string', n.oplog ? '' : collectionMetadata(n.db, n.collection)], ['size', 'int32', 0], ['type', 'string', '']]));
  }
  parts.push(TERMINATOR);
  return Buffer.concat(parts);
}

function namespaceHeader(db, collection, eof, crc) {
  return bsonDoc([['db', 'string', db], ['collection', 'string', collection], ['EOF', 'bool', eof], ['CRC', 'int64', crc]]);
}

/**
 * Reads an archive from an async iterable of Buffers, the way mongorestore's Prelude.Read + Parser + Demultiplexer
 * do, with their error messages. Calls onPrelude(header, metadatas), onDocument(ns, doc) and onNamespaceEnd(ns,
 * {count, bytes}) as it goes (like the real tool, which inserts while it reads); resolves with {namespaces: Map ns →
 * {count, bytes}}. Throws Error('<real tool message>') with `partial`: what was read of unfinished namespaces.
 */
async function readArchive(source, { onPrelude, onDocument, onNamespaceEnd, preludeOnly } = {}) {
  const it = source[Symbol.asyncIterator]();
  let buf = Buffer.alloc(0);
  let eof = false;
  async function need(n) {
    while (buf.length < n && !eof) {
      const { value, done } = await it.next();
      if (done) eof = true;
      else buf = buf.length ? Buffer.concat([buf, value]) : value;
    }
    return buf.length >= n;
  }
  function take(n) {
    const b = buf.subarray(0, n);
    buf = buf.subarray(n);
    return b;
  }
  /** → {terminator: true} | {doc} | {eof: true} (clean end between blocks) */
  async function next(where) {
    if (!(await need(4))) {
      if (buf.length === 0) return { eof: true };
      throw new Error(`corruption found in archive; ${where} ( I/O error reading length or terminator: unexpected EOF )`);
    }
    const size = buf.readInt32LE(0);
    if (size === -1) {
      take(4);
      return { terminator: true };
    }
    if (size < 5 || size > MAX_BSON) throw new Error(`corruption found in archive; ${size} is neither a valid bson length nor a archive terminator`);
    if (!(await need(size))) throw new Error(`corruption found in archive; ${where} ( read bson: unexpected EOF )`);
    const doc = take(size);
    if (doc[size - 1] !== 0) throw new Error(`corruption found in archive; bson (size: ${size}, byte: ${doc[size - 1]}) doesn't end with a null byte`);
    return { doc: Buffer.from(doc) };
  }

  if (!(await need(4))) throw new Error('I/O failure reading beginning of archive: EOF');
  if (!take(4).equals(MAGIC)) throw new Error('stream or file does not appear to be a mongodump archive');
  const h = await next('prelude');
  if (!h.doc) throw new Error('corruption found in archive; consecutive terminators / headerless blocks are not allowed');
  const header = bsonFields(h.doc);
  const metadatas = [];
  for (;;) {
    const r = await next('ParserConsumer.BodyBSON()');
    if (r.eof) throw new Error('corruption found in archive; ParserConsumer.BodyBSON() ( EOF )');
    if (r.terminator) break;
    metadatas.push(bsonFields(r.doc));
  }
  if (onPrelude) onPrelude(header, metadatas);
  const namespaces = new Map();
  if (preludeOnly) return { header, metadatas, namespaces };
  const status = new Map(metadatas.map((m) => [`${m.db}.${m.collection}`, 'unopened']));
  const open = new Map(); // ns → {crc, count, bytes}
  try {
    await blocks();
  } catch (e) {
    // what was read of unfinished namespaces (the real tool has inserted it by then)
    e.partial = [...open].map(([ns, o]) => ({ ns, count: o.count, bytes: o.bytes }));
    throw e;
  }
  if (open.size) {
    const e = new Error(`error demultiplexing archive; archive finished but contained files were unfinished ([${[...open.keys()].join(' ')}])`);
    e.partial = [...open].map(([ns, o]) => ({ ns, count: o.count, bytes: o.bytes }));
    throw e;
  }
  for (const [ns, s] of status) if (s !== 'closed') throw Object.assign(new Error(`error demultiplexing archive; archive finished before all collections were seen (${ns})`), { partial: [] });
  return { header, metadatas, namespaces };

  async function blocks() {
  for (;;) {
    const r = await next('ParserConsumer.HeaderBSON()');
    if (r.eof) break;
    if (r.terminator) throw new Error('corruption found in archive; consecutive terminators / headerless blocks are not allowed');
    const nh = bsonFields(r.doc);
    if (!nh.collection) throw new Error('error demultiplexing archive; collection header is missing a Collection');
    const ns = `${nh.db}.${nh.collection}`;
    if (!open.has(ns)) {
      if ((status.get(ns) ?? 'unopened') !== 'unopened') throw new Error('error demultiplexing archive; namespace header for already opened namespace');
      status.set(ns, 'opened');
      open.set(ns, { crc: new Crc64(), count: 0, bytes: 0 });
    }
    if (nh.EOF) {
      const o = open.get(ns);
      const crc = o.crc.signed();
      if (crc !== BigInt(nh.CRC)) throw new Error(`CRC mismatch for namespace ${ns}, ${crc}!=${nh.CRC}`);
      open.delete(ns);
      status.set(ns, 'closed');
      namespaces.set(ns, { count: o.count, bytes: o.bytes });
      if (onNamespaceEnd) onNamespaceEnd(ns, { count: o.count, bytes: o.bytes });
    }
    for (;;) {
      const b = await next('ParserConsumer.BodyBSON()');
      if (b.eof) throw new Error('corruption found in archive; ParserConsumer.BodyBSON() ( read bson: unexpected EOF )');
      if (b.terminator) break;
      if (nh.EOF) throw new Error('error demultiplexing archive; collection data without a collection header');
      const o = open.get(ns);
      o.crc.update(b.doc);
      o.count++;
      o.bytes += b.doc.length;
      if (onDocument) onDocument(ns, b.doc);
    }
  }
  }
}

module.exports = { MAGIC, TERMINATOR, bsonDoc, bsonFields, Crc64, documents, prelude, namespaceHeader, readArchive, collectionMetadata, DOC_OVERHEAD };
