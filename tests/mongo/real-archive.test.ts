/**
 * The bytes that flow through encryption and storage in the suite are the real mongodump archive format: the REAL
 * bsondump (../shared/tools, 100.8.0) reads every BSON piece the mongodump double writes, and the REAL mongorestore
 * restores the double's archive into a MongoDB-wire server (CongoDB from @push.rocks/smartmongo, in memory,
 * 127.0.0.1); the mongorestore double reads what the REAL mongodump writes, and both refuse a corrupted archive
 * with the same reason. (mongorestore --dryRun needs a server too: New() asks for the server version before it
 * reads the archive, and its dry run stops after the prelude.)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { explainToolError } from '../../src/mongo/place';
import { ToolError } from '../../src/shared/errors';
import { realMongoTools, runTool, type RealMongoTools, type ToolRun } from '../helpers/real-mongo-tools';
import { startWireServer, wireServerAvailable, type WireServer } from '../helpers/mongo-wire-server';
import { DOUBLES, type ServerState } from './world';

const MAGIC = 0x8199e26d;

/** An independent walk over the archive framing: length-prefixed BSON documents and 0xffffffff terminators. */
function splitArchive(buf: Buffer): { prelude: Buffer[]; blocks: { header: Buffer; docs: Buffer[] }[] } {
  assert.equal(buf.readUInt32LE(0), MAGIC, 'magic number');
  let i = 4;
  const item = (): Buffer | 'terminator' => {
    const n = buf.readInt32LE(i);
    if (n === -1) {
      i += 4;
      return 'terminator';
    }
    assert.ok(n >= 5 && i + n <= buf.length && buf[i + n - 1] === 0, `a BSON document at ${i}`);
    const d = buf.subarray(i, i + n);
    i += n;
    return d;
  };
  const prelude: Buffer[] = [];
  for (let x = item(); x !== 'terminator'; x = item()) prelude.push(x);
  const blocks: { header: Buffer; docs: Buffer[] }[] = [];
  while (i < buf.length) {
    const header = item();
    assert.ok(header !== 'terminator', 'a block starts with a header');
    const docs: Buffer[] = [];
    for (let x = item(); x !== 'terminator'; x = item()) docs.push(x);
    blocks.push({ header, docs });
  }
  return { prelude, blocks };
}

describe('the real mongodump archive format, checked with the real tools', function () {
  this.timeout(120_000);
  let real: RealMongoTools;
  let dir: string;
  const state: ServerState = {
    users: { backup: { password: 'pw', roles: ['root'] } },
    databases: { ratings: { reviews: { count: 1200, bytes: 300_000 }, products: { count: 40, bytes: 20_000 }, empty: { count: 0, bytes: 0 } } },
  };
  const env = (): NodeJS.ProcessEnv => ({ PATH: `${DOUBLES}:${path.dirname(process.execPath)}:/usr/bin:/bin`, MONGO_DOUBLE_SERVERS: path.join(dir, 'servers'), HOME: dir });
  const uri = 'mongodb://backup:pw@mongo-a:27017/?authSource=admin';
  const double = (tool: string, args: string[], input?: Buffer): Promise<ToolRun> => runTool(path.join(DOUBLES, tool), args, { env: env(), input });
  const bsondump = async (docs: Buffer[]): Promise<Record<string, unknown>[]> => {
    const f = path.join(dir, `d-${Math.random().toString(36).slice(2)}.bson`);
    fs.writeFileSync(f, Buffer.concat(docs));
    const r = await runTool(real.bin.bsondump, ['--objcheck', `--bsonFile=${f}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`\\t${docs.length} objects found`));
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  let plain: Buffer;

  before(async function () {
    real = realMongoTools(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-archive-'));
    fs.mkdirSync(path.join(dir, 'servers'));
    fs.writeFileSync(path.join(dir, 'servers', 'mongo-a_27017.json'), JSON.stringify(state));
    const file = path.join(dir, 'plain.archive');
    const r = await double('mongodump', [`--archive=${file}`, `--uri=${uri}`, '--db=ratings']);
    assert.equal(r.code, 0, r.stderr);
    plain = fs.readFileSync(file);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('bsondump reads the prelude, every namespace header and every document the double writes', async () => {
    const { prelude, blocks } = splitArchive(plain);
    const [header, ...metas] = await bsondump(prelude);
    // canonical extended JSON: the field types are those of the Go structs (int32, string; int64 CRC)
    assert.deepEqual(header, { concurrent_collections: { $numberInt: '4' }, version: '0.1', server_version: '7.0.12', tool_version: '100.10.0' });
    assert.deepEqual(metas.map((m) => [m.db, m.collection, m.size, m.type]), [['ratings', 'reviews', { $numberInt: '0' }, ''], ['ratings', 'products', { $numberInt: '0' }, ''], ['ratings', 'empty', { $numberInt: '0' }, '']]);
    const meta = JSON.parse(String(metas[0].metadata)) as { indexes: unknown[]; collectionName: string; type: string };
    assert.deepEqual([meta.collectionName, meta.type, meta.indexes.length], ['reviews', 'collection', 1]);
    // per namespace: {EOF:false, CRC:0} + documents, then {EOF:true, CRC} with no documents
    assert.deepEqual(blocks.map((b) => b.docs.length), [1200, 0, 40, 0, 0, 0]);
    const headers = await bsondump(blocks.map((b) => b.header));
    assert.deepEqual(headers.map((h) => [h.db, h.collection, h.EOF]), [['ratings', 'reviews', false], ['ratings', 'reviews', true], ['ratings', 'products', false], ['ratings', 'products', true], ['ratings', 'empty', false], ['ratings', 'empty', true]]);
    assert.deepEqual(headers[0].CRC, { $numberLong: '0' });
    assert.match(String((headers[1].CRC as { $numberLong: string }).$numberLong), /^-?\d+$/);
    const docs = await bsondump(blocks[0].docs);
    assert.deepEqual(docs.map((d) => d.n), [...Array(1200).keys()].map((n) => ({ $numberInt: String(n) })));
    assert.match(String((docs[0]._id as { $oid: string }).$oid), /^[0-9a-f]{24}$/);
    assert.equal(blocks[0].docs.reduce((n, d) => n + d.length, 0), 300_000, 'the collection is as large as the fake server says');
  });

  it('the --gzip archive is the same archive, gzip as a whole (as mongodump writes it)', async () => {
    const r = await double('mongodump', [`--archive=${path.join(dir, 'a.gz')}`, '--gzip', `--uri=${uri}`, '--db=ratings']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'a.gz'))).equals(plain));
  });

  describe('against a MongoDB-wire server', () => {
    let server: WireServer;
    before(async function () {
      if (!wireServerAvailable()) {
        console.log('      SKIPPED: @push.rocks/smartmongo is not installed (npm ci installs it as a devDependency)');
        this.skip();
      }
      server = await startWireServer();
    });
    after(async () => server?.close());

    it('the real mongorestore (dry run, then for real) restores what the double wrote; every document arrives', async () => {
      const file = path.join(dir, 'restore.gz');
      const w = await double('mongodump', [`--archive=${file}`, '--gzip', `--uri=${uri}`, '--db=ratings']);
      assert.equal(w.code, 0, w.stderr);
      const dry = await runTool(real.bin.mongorestore, [`--uri=${server.uri}`, `--archive=${file}`, '--gzip', '--dryRun']);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stderr, /\tdry run completed\n/);
      const r = await runTool(real.bin.mongorestore, [`--uri=${server.uri}`, `--archive=${file}`, '--gzip']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\t1240 document\(s\) restored successfully\. 0 document\(s\) failed to restore\.\n/);
      const snap = await server.snapshot();
      assert.equal(snap.ratings.reviews.length, 1200);
      assert.equal(snap.ratings.products.length, 40);
      assert.deepEqual(snap.ratings.reviews.map((d) => (d.n as { $numberInt: string }).$numberInt).sort((a, b) => Number(a) - Number(b)), [...Array(1200).keys()].map(String));
      const payload = snap.ratings.reviews[0].payload as { $binary: { base64: string } };
      assert.equal(Buffer.from(payload.$binary.base64, 'base64').length, 250 - 43, 'payload bytes arrive intact in size');
    });

    it('the mongorestore double reads what the real mongodump writes (gzip and plain)', async () => {
      for (const gzip of [true, false]) {
        const file = path.join(dir, `real-${gzip}.archive`);
        const d = await runTool(real.bin.mongodump, [`--uri=${server.uri}`, `--archive=${file}`, '--db=ratings', ...(gzip ? ['--gzip'] : [])]);
        assert.equal(d.code, 0, d.stderr);
        fs.writeFileSync(path.join(dir, 'servers', 'target_27017.json'), JSON.stringify({ users: { r: { password: 'pw', roles: ['restore'] } }, databases: {} }));
        const r = await double('mongorestore', ['--archive', `--uri=mongodb://r:pw@target:27017/?authSource=admin`, ...(gzip ? ['--gzip'] : [])], fs.readFileSync(file));
        assert.equal(r.code, 0, r.stderr);
        const t = JSON.parse(fs.readFileSync(path.join(dir, 'servers', 'target_27017.json'), 'utf8')) as ServerState;
        assert.deepEqual(Object.fromEntries(Object.entries(t.databases.ratings).map(([c, v]) => [c, v.count])), { reviews: 1200, products: 40, empty: 0 });
        assert.equal(t.databases.ratings.reviews.bytes, 300_000);
      }
    });

    it('a flipped byte inside a document: the real mongorestore and the double refuse it for the same reason', async () => {
      const bad = Buffer.from(plain);
      const { prelude, blocks } = splitArchive(bad);
      const offset = 4 + prelude.reduce((n, p) => n + p.length, 0) + 4 + blocks[0].header.length + 100;
      bad[offset] ^= 0xff; // inside the payload of the first review: still valid BSON, wrong CRC
      const file = path.join(dir, 'flipped.archive');
      fs.writeFileSync(file, bad);
      const r = await runTool(real.bin.mongorestore, [`--uri=${server.uri}`, `--archive=${file}`, '--nsFrom=ratings.*', '--nsTo=flipped.*']);
      assert.notEqual(r.code, 0);
      const reason = /CRC mismatch for namespace ratings\.reviews, -?\d+!=-?\d+/.exec(r.stderr)?.[0];
      assert.ok(reason, r.stderr);
      fs.writeFileSync(path.join(dir, 'servers', 'target_27017.json'), JSON.stringify({ users: { r: { password: 'pw', roles: ['restore'] } }, databases: {} }));
      const d = await double('mongorestore', ['--archive', '--uri=mongodb://r:pw@target:27017/?authSource=admin'], bad);
      assert.equal(d.code, 1);
      assert.match(d.stderr, new RegExp(`^Failed: ${reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    });

    it('a failure after connecting: the real mongorestore prints its tally after the Failed: line; the error names the Failed: line', async () => {
      const file = path.join(dir, 'no-oplog.archive');
      fs.writeFileSync(file, plain);
      const r = await runTool(real.bin.mongorestore, [`--uri=${server.uri}`, `--archive=${file}`, '--oplogReplay']);
      assert.equal(r.code, 1);
      const lines = r.stderr.trim().split('\n');
      assert.match(lines[lines.length - 2], /\tFailed: no oplog file to replay; make sure you run mongodump with --oplog$/);
      assert.match(lines[lines.length - 1], /\t0 document\(s\) restored successfully\. 0 document\(s\) failed to restore\.$/);
      const fromReal = explainToolError(new ToolError('mongorestore', r.code, lines.slice(-20)), 'mongorestore') as Error;
      assert.equal(fromReal.message, 'mongorestore failed with exit code 1: Failed: no oplog file to replay; make sure you run mongodump with --oplog');
      // the double prints the same two lines
      fs.writeFileSync(path.join(dir, 'servers', 'target_27017.json'), JSON.stringify({ users: { r: { password: 'pw', roles: ['restore'] } }, databases: {} }));
      const d = await double('mongorestore', ['--archive', '--oplogReplay', '--uri=mongodb://r:pw@target:27017/?authSource=admin'], plain);
      const dl = d.stderr.trim().split('\n');
      assert.equal(d.code, 1);
      assert.deepEqual(dl.slice(-2).map((l) => l.replace(/^\S+\t/, '')), lines.slice(-2).map((l) => l.replace(/^\S+\t/, '')));
    });

    it('a truncated archive: both fail after inserting what they read; a plain archive given --gzip: both fail in the gzip reader', async () => {
      const cut = plain.subarray(0, plain.length - 30);
      const file = path.join(dir, 'cut.archive');
      fs.writeFileSync(file, cut);
      const r = await runTool(real.bin.mongorestore, [`--uri=${server.uri}`, `--archive=${file}`, '--nsFrom=ratings.*', '--nsTo=cut.*']);
      assert.notEqual(r.code, 0, r.stderr);
      fs.writeFileSync(path.join(dir, 'servers', 'target_27017.json'), JSON.stringify({ users: { r: { password: 'pw', roles: ['restore'] } }, databases: {} }));
      const d = await double('mongorestore', ['--archive', '--uri=mongodb://r:pw@target:27017/?authSource=admin'], cut);
      assert.equal(d.code, 1);
      assert.match(d.stderr, /^Failed: corruption found in archive; /m);
      // both have inserted what they read before the cut (the real tool streams; so does the double)
      const snap = await server.snapshot();
      const t = JSON.parse(fs.readFileSync(path.join(dir, 'servers', 'target_27017.json'), 'utf8')) as ServerState;
      assert.deepEqual([snap.cut.reviews.length, snap.cut.products.length], [1200, 40]);
      assert.deepEqual([t.databases.ratings.reviews.count, t.databases.ratings.products.count], [1200, 40]);

      const g = await runTool(real.bin.mongorestore, [`--uri=${server.uri}`, `--archive=${path.join(dir, 'plain.archive')}`, '--gzip']);
      assert.notEqual(g.code, 0);
      assert.match(g.stderr, /Failed: gzip: invalid header/);
      const dg = await double('mongorestore', ['--archive', '--gzip', '--uri=mongodb://r:pw@target:27017/?authSource=admin'], plain);
      assert.match(dg.stderr, /^Failed: gzip: invalid header$/m);
    });
  });
});
