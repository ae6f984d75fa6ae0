// A MongoDB-wire-compatible server for tests: CongoDB (OP_MSG/OP_QUERY, in memory) from the npm package
// @push.rocks/smartmongo 2.2.0, bound to 127.0.0.1 port 0. Prints {"port": N} on its first stdout line, then
// answers JSON-line requests on stdin (one JSON line each on stdout):
//   {"op":"snapshot"}  → {"databases": {db: {coll: [canonical extended JSON documents, in stored order]}}}
//   {"op":"seed","db":..,"collection":..,"docs":[canonical EJSON]} → {"ok":1}
// It exits when stdin closes. Started and stopped by tests/helpers/mongo-wire-server.ts.
import * as readline from 'node:readline';
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';
import { EJSON } from 'bson';

const server = new CongoServer({ port: 0, host: '127.0.0.1' });
await server.start();
process.stdout.write(JSON.stringify({ port: server.server.address().port }) + '\n');

const storage = server.getStorage();
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let res;
  try {
    const req = JSON.parse(line);
    if (req.op === 'snapshot') {
      const databases = {};
      for (const db of await storage.listDatabases()) {
        for (const coll of await storage.listCollections(db)) {
          const docs = await storage.findAll(db, coll);
          (databases[db] ??= {})[coll] = docs.map((d) => EJSON.serialize(d, { relaxed: false }));
        }
      }
      res = { databases };
    } else if (req.op === 'seed') {
      if (!(await storage.collectionExists(req.db, req.collection))) await storage.createCollection(req.db, req.collection);
      await storage.insertMany(req.db, req.collection, req.docs.map((d) => EJSON.deserialize(d, { relaxed: false })));
      res = { ok: 1 };
    } else res = { error: `unknown op ${req.op}` };
  } catch (e) {
    res = { error: String(e && e.stack || e) };
  }
  process.stdout.write(JSON.stringify(res) + '\n');
});
rl.on('close', () => server.stop().then(() => process.exit(0)));
