/**
 * Azure Pipelines secure files in place of secret inputs (`<name>SecureFile`): the adapter, with the real
 * azure-pipelines-task-lib reading the agent's values (SECUREFILE_TICKET_<id> in its vault, the SystemVssConnection
 * access token, System.TeamFoundationCollectionUri / System.TeamProjectId), downloads the file from a local HTTPS
 * server that speaks the secure-file REST contract of Microsoft's client (azure-devops-node-api
 * TaskAgentApi.downloadSecureFile, as securefiles-common calls it):
 *
 *   GET {collectionUri}{project}/_apis/distributedtask/securefiles/{id}?ticket=…&download=false
 *   Authorization: Basic base64("PAT:" + token), Accept: application/octet-stream;api-version=…
 *
 * The server trusts only the test CA handed to the agent as Agent.CAInfo, so the download goes through the run's one
 * network. The core reads `signingKey` / `ageIdentity` and never knows a secure file was used.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { SECURE_FILE_API_VERSION, downloadSecureFile } from '../../src/platform/secure-file';
import { InputError } from '../../src/shared/errors';
import { generateKeyPair } from '../../src/shared/signing';
import { ROOT, baseEnv, parseVso, run } from '../helpers/harness';
import { startConnectProxy } from '../helpers/servers';
import { COLLECTION, PROJECT, TOKEN, secureFilesHandler, type Seen, type StoredFile } from '../helpers/secure-files-server';
import { makeCa, makeServerCert } from '../helpers/tls';


/** The secret appears only where it is registered with the agent (`##vso[task.setsecret]`), nowhere else. */
function onlyRegistered(stdout: string, secret: string): boolean {
  return stdout.split('\n').filter((l) => l.includes(secret)).every((l) => l.startsWith('##vso[task.setsecret]'));
}

describe('Azure Pipelines secure files in place of secret inputs (real task-lib, HTTPS secure-file REST double)', function () {
  this.timeout(60_000);
  let tmp: string;
  let caFile: string;
  let server: https.Server;
  let collectionUri: string;
  const files = new Map<string, StoredFile>();
  const seen: Seen[] = [];
  const keys = generateKeyPair();
  let identity: string;
  const ids = { key: randomUUID(), identity: randomUUID(), deleted: randomUUID() };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'securefile-'));
    const testCa = makeCa(path.join(tmp, 'ca'));
    const cert = makeServerCert(testCa, path.join(tmp, 'ca'));
    caFile = testCa.certFile;
    identity = await generateX25519Identity();
    files.set(ids.key, { name: 'manifest-signing.pem', content: Buffer.from(keys.privateKeyPem), ticket: `ticket-${randomUUID()}` });
    files.set(ids.identity, { name: 'backup-identity.txt', content: Buffer.from(`# created: 2026-12-01\n# public key: ${await identityToRecipient(identity)}\n${identity}\n`), ticket: `ticket-${randomUUID()}` });
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, secureFilesHandler(files, seen));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    collectionUri = `https://127.0.0.1:${(server.address() as AddressInfo).port}${COLLECTION}`;
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
  });

  /** Runs the fixture task as the agent would, with `inputs` and the secure files the agent authorised. */
  async function task(inputs: Record<string, string>, opts: { authorised?: string[]; token?: string | null; env?: NodeJS.ProcessEnv } = {}) {
    const agentTemp = fs.mkdtempSync(path.join(tmp, 'agent-temp-'));
    const env = baseEnv({
      PATH: process.env.PATH,
      AGENT_TEMPDIRECTORY: agentTemp,
      AGENT_CAINFO: caFile,
      SYSTEM_DEBUG: 'true',
      SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: collectionUri,
      SYSTEM_TEAMPROJECT: 'Stack Hub HA',
      SYSTEM_TEAMPROJECTID: PROJECT,
      INPUT_ENCRYPTION: 'none',
      ...opts.env,
    });
    if (opts.token !== null) env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN = opts.token ?? TOKEN;
    for (const id of opts.authorised ?? [...files.keys()]) {
      env[`SECUREFILE_NAME_${id}`] = files.get(id)?.name ?? 'deleted.pem';
      env[`SECUREFILE_TICKET_${id}`] = files.get(id)?.ticket ?? 'ticket-of-a-deleted-file';
    }
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const res = await run(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'tests', 'fixtures', 'ado-secure-file.ts')], env);
    const commands = parseVso(res.stdout);
    const outputs = new Map(commands.filter((c) => c.command === 'task.setvariable').map((c) => [c.properties.variable, c.message]));
    const complete = commands.find((c) => c.command === 'task.complete');
    const errors = commands.filter((c) => c.command === 'task.issue' && c.properties.type === 'error').map((c) => c.message);
    const left = fs.readdirSync(agentTemp);
    return { ...res, outputs, result: complete?.properties.result, message: complete?.message, errors, left };
  }

  it('hands the core the secure files\' content as signingKey and ageIdentity, masked, with nothing left on disk', async () => {
    const r = await task({ signingKeySecureFile: ids.key, ageIdentitySecureFile: ids.identity });
    assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
    const spki = createPublicKey(keys.publicKeyPem).export({ type: 'spki', format: 'der' });
    assert.equal(r.outputs.get('publicKeySha256'), createHash('sha256').update(spki).digest('hex'));
    assert.equal(r.outputs.get('recipient'), await identityToRecipient(identity));
    // the download followed the REST contract, once per file
    assert.deepEqual(
      seen.map((s) => [s.path, s.ticket, s.download, s.accept]),
      [
        [`${COLLECTION}${PROJECT}/_apis/distributedtask/securefiles/${ids.key}`, files.get(ids.key)!.ticket, 'false', `application/octet-stream;api-version=${SECURE_FILE_API_VERSION}`],
        [`${COLLECTION}${PROJECT}/_apis/distributedtask/securefiles/${ids.identity}`, files.get(ids.identity)!.ticket, 'false', `application/octet-stream;api-version=${SECURE_FILE_API_VERSION}`],
      ],
    );
    // the content, the ticket and the token are masked (debug mode: task-lib would print them if asked through its getters)
    assert.ok(r.stdout.includes('signing key as the core got it: ***'), r.stdout);
    const body = keys.privateKeyPem.split('\n')[1];
    for (const secret of [body, identity, files.get(ids.key)!.ticket, TOKEN]) {
      assert.ok(onlyRegistered(r.stdout, secret), `only registered, never printed: ${secret.slice(0, 8)}…\n${r.stdout}`);
      assert.ok(r.stdout.includes(`##vso[task.setsecret]${secret}`), `registered with the agent: ${secret.slice(0, 8)}…`);
    }
    // read and deleted before the core ran; the private temp dir is gone at the end
    assert.deepEqual(JSON.parse(r.outputs.get('tempFiles')!), []);
    assert.deepEqual(r.left.filter((f) => /^stackhub-ha-[A-Za-z0-9]{6}$/.test(f)), []);
  });

  it('goes through the agent\'s proxy (CONNECT with its credentials) and trusts Agent.CAInfo behind it', async () => {
    const proxy = await startConnectProxy({ auth: { user: 'agent', pass: 'proxy-Pass-51' } });
    try {
      const r = await task({ signingKeySecureFile: ids.key }, { env: { AGENT_PROXYURL: proxy.url, AGENT_PROXYUSERNAME: 'agent', AGENT_PROXYPASSWORD: 'proxy-Pass-51' } });
      assert.equal(r.result, 'Succeeded', r.stdout + r.stderr);
      const port = new URL(collectionUri).port;
      assert.deepEqual(proxy.connects, [`127.0.0.1:${port}`]);
      assert.deepEqual(proxy.proxyAuthorizations, [`Basic ${Buffer.from('agent:proxy-Pass-51').toString('base64')}`]);
      assert.equal(seen.length, 1);
      assert.ok(r.stdout.includes('##vso[task.setsecret]proxy-Pass-51'), 'the proxy password is registered (task-lib itself debug-logs Agent.ProxyPassword when it is not a secret variable)');
    } finally {
      await proxy.close();
    }
  });

  it('a secure file the Library no longer holds (404): one line naming the input, no output, nothing left', async () => {
    const r = await task({ signingKeySecureFile: ids.deleted }, { authorised: [ids.deleted] });
    assert.equal(r.result, 'Failed');
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.message!, /^input 'signingKeySecureFile': secure file 'deleted\.pem' was not found in the project's Library \(GET https:\/\/127\.0\.0\.1:\d+\/tfs\/DefaultCollection\/[\w-]+\/_apis\/distributedtask\/securefiles\/[\w-]+ answered 404 Not Found\)/);
    assert.ok(onlyRegistered(r.stdout, 'ticket-of-a-deleted-file'), r.stdout);
    assert.doesNotMatch(r.stdout.replace(/^##\[debug\].*$/gm, ''), /^\s+at /m, 'a stack trace only in debug lines');
    assert.equal(r.outputs.size, 0);
    assert.deepEqual(r.left.filter((f) => /^stackhub-ha-[A-Za-z0-9]{6}$/.test(f)), []);
  });

  it('a secure file the pipeline is not authorised for (no ticket): one line naming the input, no request', async () => {
    const r = await task({ ageIdentitySecureFile: ids.identity }, { authorised: [] });
    assert.equal(r.result, 'Failed');
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.message!, new RegExp(`^input 'ageIdentitySecureFile': the agent holds no download ticket for the secure file '${ids.identity}': .*Pipeline permissions`));
    assert.equal(seen.length, 0);
  });

  it('no access token: one line naming the input, no request', async () => {
    const r = await task({ signingKeySecureFile: ids.key }, { token: null });
    assert.equal(r.result, 'Failed');
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.message!, /^input 'signingKeySecureFile': cannot download the secure file 'manifest-signing\.pem': the job has no access token/);
    assert.equal(seen.length, 0);
  });

  it('a token the server refuses (401): one line naming the input', async () => {
    const r = await task({ signingKeySecureFile: ids.key }, { token: 'not-the-job-token' });
    assert.equal(r.result, 'Failed');
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.message!, /^input 'signingKeySecureFile': the job's access token may not read the secure file 'manifest-signing\.pem' \(GET .* answered 401 Unauthorized\)/);
    assert.ok(onlyRegistered(r.stdout, 'not-the-job-token'), r.stdout);
  });

  it('the secret input and its secure file both set: one line naming the secure file, no request', async () => {
    const r = await task({ signingKey: keys.privateKeyPem, signingKeySecureFile: ids.key });
    assert.equal(r.result, 'Failed');
    assert.equal(r.message, "input 'signingKeySecureFile': set either signingKey or signingKeySecureFile, not both");
    assert.ok(onlyRegistered(r.stdout, keys.privateKeyPem.split('\n')[1]), r.stdout);
    assert.equal(seen.length, 0);
  });

  it('a secure file whose content is not what the input takes: the core\'s own error, naming the secret input', async () => {
    const r = await task({ signingKeySecureFile: ids.identity });
    assert.equal(r.result, 'Failed');
    assert.equal(r.errors.length, 1, r.stdout);
    assert.match(r.message!, /^input 'signingKey': /);
    assert.ok(onlyRegistered(r.stdout, identity), r.stdout);
  });

  it('downloads into a 0600 file in the given directory and deletes it once read (in process)', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'private-'));
    fs.chmodSync(dir, 0o700);
    const modes: number[] = [];
    const local = http.createServer(
      secureFilesHandler(files, seen, (res, file) => {
        res.write(file.content.subarray(0, 10));
        // the body is half sent: the file being written is there, private
        const poll = (): void => {
          const part = fs.readdirSync(dir);
          if (part.length === 0) return void setImmediate(poll);
          modes.push(fs.statSync(path.join(dir, part[0])).mode & 0o777);
          res.end(file.content.subarray(10));
        };
        poll();
      }),
    );
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(local.address() as AddressInfo).port}${COLLECTION}`;
      const f = files.get(ids.key)!;
      const content = await downloadSecureFile({ input: 'signingKeySecureFile', collectionUri: base.slice(0, -1), project: PROJECT, id: ids.key, ticket: f.ticket, accessToken: TOKEN, dir });
      assert.equal(content, keys.privateKeyPem);
      assert.deepEqual(modes, [0o600]);
      assert.deepEqual(fs.readdirSync(dir), []);
      await assert.rejects(
        downloadSecureFile({ input: 'kubeconfigSecureFile', collectionUri: base, project: PROJECT, id: ids.key, ticket: 'forged', accessToken: TOKEN, dir, retries: 0 }),
        (e: unknown) => e instanceof InputError && /^input 'kubeconfigSecureFile': the job's access token may not read .*403 Forbidden/.test(e.message) && !e.message.includes('forged'),
      );
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      await new Promise<void>((r) => local.close(() => r()));
    }
  });
});
