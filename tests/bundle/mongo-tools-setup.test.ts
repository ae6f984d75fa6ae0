/**
 * The built CLI and ADO task install the REAL MongoDB Database Tools 100.8.0 (../shared/tools), packed as the
 * official `mongodb-database-tools-debian11-x86_64-100.8.0.tgz`, from a pinned mirror and from a signed kit; a
 * release whose binaries report another version fails in one line naming the input, with a clean tool cache.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeKit } from '../../src/shared/kit';
import { generateKeyPair, loadPrivateKey } from '../../src/shared/signing';
import { listFiles, requireBuilt, runAdoTask, runCli, runtimes } from '../helpers/harness';
import { realMongoTools, runTool, type RealMongoTools } from '../helpers/real-mongo-tools';
import { officialMongoToolsRelease, pinsFor, sha256, startToolMirror, type ReleaseFile } from '../helpers/tool-fixtures';

describe('tool setup bundles with the real MongoDB Database Tools 100.8.0', function () {
  this.timeout(120_000);
  let real: RealMongoTools;
  let work: string;
  let good: ReleaseFile;
  let mirror: Awaited<ReturnType<typeof startToolMirror>>;

  before(async function () {
    real = realMongoTools(this);
    requireBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-tools-bundle-'));
    good = await officialMongoToolsRelease(work, { version: '100.8.0', distro: 'debian11', bin: real.bin, docsDir: path.dirname(real.dir) });
    mirror = await startToolMirror([good]);
  });
  after(async () => {
    await mirror?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });
  const fresh = (n: string): string => fs.mkdtempSync(path.join(work, `${n}-`));

  for (const rt of runtimes()) {
    it(`CLI on ${rt.name}: from the pinned mirror; the installed mongodump is the real one`, async () => {
      const cache = fresh('cache');
      const outFile = path.join(fresh('out'), 'outputs.json');
      const r = await runCli(['tools', 'install', '--tools', 'mongodump@100.8.0', '--distro', 'debian11', '--search-path', 'false',
        '--mirror-url', mirror.template, '--checksums', pinsFor([good]), '--tool-cache', cache, '--outputs-file', outFile], { node: rt.path });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /\| mongodb-database-tools \| 100\.8\.0 \| mirror \|/);
      const outputs = JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, string>;
      assert.equal(outputs.mongoToolsVersion, '100.8.0');
      assert.equal(sha256(outputs.mongodumpPath), real.sha256.mongodump);
      assert.match((await runTool(outputs.mongodumpPath, ['--version'])).stdout, /^mongodump version: 100\.8\.0$/m);
    });
  }

  it('ADO task: from a signed kit into the agent tool cache', async () => {
    const keys = generateKeyPair();
    const kit = path.join(fresh('kit'), 'stackhub-ha-airgap-0.1.0.tar.gz');
    await writeKit({ outFile: kit, stagingDir: fresh('staging'), version: '0.1.0', signingKey: loadPrivateKey(keys.privateKeyPem, 'k'), tools: [{ ...good, sourcePath: good.path }] });
    const tools = fresh('tools');
    const r = await runAdoTask({
      task: 'StackHubToolSetupV1',
      node: runtimes()[0].path,
      toolsDir: tools,
      inputs: { tools: 'mongodb-database-tools@100.8', distro: 'debian11', searchPath: 'false', offlineBundle: kit, bundlePublicKey: keys.publicKeyPem },
    });
    assert.equal(r.result, 'Succeeded', r.stdout);
    assert.equal(r.variables.get('mongoToolsVersion')?.value, '100.8.0');
    const restore = r.variables.get('mongorestorePath')!.value;
    assert.equal(restore, path.join(tools, 'mongodb-database-tools', '100.8.0', 'x64', 'mongorestore'));
    assert.equal(sha256(restore), real.sha256.mongorestore);
  });

  it('CLI: a release named 100.9.0 holding the real 100.8.0 fails in one line naming mirrorUrl; the cache stays empty', async () => {
    const liar = await officialMongoToolsRelease(fresh('rel'), { version: '100.9.0', distro: 'debian11', bin: real.bin });
    const m = await startToolMirror([liar]);
    try {
      const cache = fresh('cache');
      const r = await runCli(['tools', 'install', '--tools', 'mongodb-database-tools@100.9.0', '--distro', 'debian11', '--search-path', 'false',
        '--mirror-url', m.template, '--checksums', pinsFor([liar]), '--tool-cache', cache], { node: runtimes()[0].path });
      assert.equal(r.exitCode, 1);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).join('\n'), `error: input 'mirrorUrl': ${liar.file}: mongodump reports version 100.8.0, expected 100.9.0`);
      assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
      assert.deepEqual(listFiles(cache), []);
    } finally {
      await m.close();
    }
  });
});
