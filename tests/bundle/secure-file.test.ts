/**
 * The built Mongo backup task (tasks/StackHubMongoBackupV1/dist, task-lib beside it) takes its age identity as an
 * Azure Pipelines secure file: `ageIdentitySecureFile` downloaded from a secure-files REST double, handed to the
 * core as `ageIdentity`. `list` on an empty filesystem store reads the identity (a bad one fails the run) and touches
 * no MongoDB, so no tools are needed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateX25519Identity } from 'age-encryption';
import { requireBuilt, runAdoTask } from '../helpers/harness';
import { COLLECTION, PROJECT, TOKEN, secureFilesHandler, type Seen, type StoredFile } from '../helpers/secure-files-server';

describe('built ADO task: a secure file in place of a secret input', function () {
  this.timeout(60_000);
  const files = new Map<string, StoredFile>();
  const seen: Seen[] = [];
  let server: http.Server;
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  const good = randomUUID();
  const bad = randomUUID();
  const gone = randomUUID();

  before(async () => {
    requireBuilt();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'securefile-task-'));
    files.set(good, { name: 'identity.txt', content: Buffer.from(`${await generateX25519Identity()}\n`), ticket: `t-${randomUUID()}` });
    files.set(bad, { name: 'not-an-identity.txt', content: Buffer.from('AGE-SECRET-KEY-1NOTVALID\n'), ticket: `t-${randomUUID()}` });
    server = http.createServer(secureFilesHandler(files, seen));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env = {
      SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: `http://127.0.0.1:${(server.address() as AddressInfo).port}${COLLECTION}`,
      SYSTEM_TEAMPROJECTID: PROJECT,
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: TOKEN,
    };
    for (const id of [good, bad, gone]) {
      env[`SECUREFILE_NAME_${id}`] = files.get(id)?.name ?? 'gone.txt';
      env[`SECUREFILE_TICKET_${id}`] = files.get(id)?.ticket ?? 't-gone';
    }
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const list = (id: string) =>
    runAdoTask({ task: 'StackHubMongoBackupV1', inputs: { command: 'list', site: 'seattle', storagePath: fs.mkdtempSync(path.join(tmp, 'store-')), storageLocation: 'off-hub', ageIdentitySecureFile: id }, env });

  it('downloads it and the core reads it as ageIdentity', async () => {
    const r = await list(good);
    assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
    assert.equal(seen.filter((s) => s.path.endsWith(`/securefiles/${good}`)).length, 1);
    assert.ok(r.secrets.includes(files.get(good)!.content.toString().trim()), 'the identity is registered with the agent');
  });

  it('a bad identity in the secure file fails in one line naming ageIdentity; an unknown file in one naming the secure file input', async () => {
    const b = await list(bad);
    assert.equal(b.result, 'Failed');
    assert.equal(b.errors.length, 1, b.stdout);
    assert.match(b.resultMessage ?? '', /^input 'ageIdentity': /);
    const g = await list(gone);
    assert.equal(g.result, 'Failed');
    assert.equal(g.errors.length, 1, g.stdout);
    assert.match(g.resultMessage ?? '', /^input 'ageIdentitySecureFile': secure file 'gone\.txt' was not found/);
  });
});
