/**
 * The whole backup path with real components: the REAL mongodump 100.8.0 reads a MongoDB-wire server (CongoDB,
 * @push.rocks/smartmongo, in memory on 127.0.0.1), the archive is age-encrypted and stored with a signed manifest
 * in off-Hub storage (filesystem), then the REAL mongorestore puts it back under another database name and every
 * document compares equal, type for type (canonical extended JSON).
 *
 * CongoDB's limits shape the data: `_id` must be an ObjectId (it converts others), it stores int64 values that fit
 * as int32, it has no replica set (no --oplog, so scope `database`) and it does not check credentials.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mongoBackup } from '../../src/mongo';
import { MANIFEST, openStorage, readManifest } from '../../src/shared/storage';
import { startWireServer, wireServerAvailable, type Snapshot, type WireServer } from '../helpers/mongo-wire-server';
import { realMongoTools, type RealMongoTools } from '../helpers/real-mongo-tools';
import { runInProcess, World } from './world';

/** Documents with the BSON types a real application stores. */
function richDocs(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: { $oid: (0x65a1b2c3d4e5f6071829n * 0x10000n + BigInt(i)).toString(16).padStart(24, '0') },
    i: { $numberInt: String(i) },
    price: { $numberDouble: String(i + 0.25) },
    amount: { $numberDecimal: `${i}.10` },
    at: { $date: { $numberLong: String(1_700_000_000_000 + i * 1000) } },
    name: `item ${i} – ünïcödé`,
    tags: ['a', { $numberInt: String(i % 3) }, null, true],
    nested: { deep: { blob: { $binary: { base64: Buffer.from(`blob-${i}`).toString('base64'), subType: '00' } } } },
    uuid: { $binary: { base64: Buffer.alloc(16, i).toString('base64'), subType: '04' } },
  }));
}

const byId = (docs: Record<string, unknown>[]): Record<string, unknown>[] =>
  [...docs].sort((a, b) => JSON.stringify(a._id).localeCompare(JSON.stringify(b._id)));

describe('real dump → encrypt → store → restore → compare (real mongodump/mongorestore, MongoDB-wire server)', function () {
  this.timeout(180_000);
  let real: RealMongoTools;
  let server: WireServer;
  let w: World;
  let store: string;

  before(async function () {
    real = realMongoTools(this);
    if (!wireServerAvailable()) {
      console.log('      SKIPPED: @push.rocks/smartmongo is not installed (npm ci installs it as a devDependency)');
      this.skip();
    }
    w = await new World().init();
    store = path.join(w.dir, 'store');
    server = await startWireServer();
    await server.seed('shop', 'orders', richDocs(500));
    await server.seed('shop', 'customers', richDocs(30).map((d) => ({ ...d, email: `c${String(d.i)}@example.test` })));
  });
  after(async () => {
    await server?.close();
    w?.cleanup();
  });

  it('backs up database shop with the real mongodump, restores it as shop_restored with the real mongorestore; all equal', async () => {
    const common = {
      site: 'seattle',
      storageKind: 'filesystem',
      storagePath: store,
      storageLocation: 'off-hub',
      storagePrefix: 'backups/shop',
      encryptionRecipients: w.recipient,
      signingKey: w.signing.privateKeyPem,
      verifyKey: w.signing.publicKeyPem,
      ageIdentity: w.identity,
      connectionString: server.uri,
      scope: 'database',
      database: 'shop',
    };
    const env = { PATH: `${real.dir}:/usr/bin:/bin` };
    const before: Snapshot = await server.snapshot();
    assert.deepEqual([before.shop.orders.length, before.shop.customers.length], [500, 30]);

    const b = await runInProcess(mongoBackup, { ...common, command: 'backup' }, env);
    assert.ok(b.succeeded, `${b.failed}\n${b.lines.join('\n')}`);
    assert.deepEqual(fs.readdirSync(b.outputs.location).sort(), ['archive.age', MANIFEST]);
    const stored = fs.readFileSync(path.join(b.outputs.location, 'archive.age'));
    assert.ok(stored.subarray(0, 21).toString() === 'age-encryption.org/v1', 'stored encrypted');
    assert.equal(stored.indexOf(Buffer.from('ünïcödé')), -1);
    const st = await openStorage({ kind: 'filesystem', path: store, location: 'off-hub', prefix: '' });
    const m = await readManifest<Record<string, unknown>>(st, path.relative(store, b.outputs.location));
    await st.close();
    assert.deepEqual(m.data.counts, { 'shop.orders': 500, 'shop.customers': 30 });
    assert.deepEqual(m.data.tools, { mongodump: '100.8.0' });

    const r = await runInProcess(mongoBackup, { ...common, command: 'restore', targetDatabase: 'shop_restored' }, env);
    assert.ok(r.succeeded, `${r.failed}\n${r.lines.join('\n')}`);
    assert.ok(r.lines.some((l) => /530 document\(s\) restored successfully/.test(l)), r.lines.join('\n'));

    const after = await server.snapshot();
    assert.deepEqual(Object.keys(after.shop_restored).sort(), ['customers', 'orders']);
    for (const c of ['orders', 'customers']) {
      assert.equal(after.shop_restored[c].length, before.shop[c].length, c);
      assert.deepEqual(byId(after.shop_restored[c]), byId(before.shop[c]), `${c}: every document, type for type`);
    }
    assert.deepEqual(after.shop, before.shop, 'the source is untouched');
  });
});
