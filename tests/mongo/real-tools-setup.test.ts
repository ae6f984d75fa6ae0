/**
 * Offline tool setup installs the REAL MongoDB Database Tools 100.8.0 (../shared/tools): from a pinned HTTP mirror
 * and from a signed air-gap kit, each time as the official release archive
 * `mongodb-database-tools-<distro>-x86_64-100.8.0.tgz` built here from the real binaries (100.8.0 has no debian12
 * build, so a Debian 12 agent sets distro=debian11, as these tests do). The pins are the test archive's own SHA-256,
 * supplied the way an operator supplies them: the `checksums` input for the mirror, the tools directory's
 * SHA256SUMS for the kit (scripts/package.ts readToolsDir → writeKit). Bad input: one line naming the input and a
 * clean tool cache.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readToolsDir } from '../../scripts/package';
import { writeKit } from '../../src/shared/kit';
import { generateKeyPair, loadPrivateKey } from '../../src/shared/signing';
import { findTool } from '../../src/shared/tools/catalog';
import { toolSetup } from '../../src/tool-setup';
import { listFiles } from '../helpers/harness';
import { realMongoTools, runTool, type RealMongoTools } from '../helpers/real-mongo-tools';
import { officialMongoToolsRelease, pinsFor, sha256, startToolMirror, versionScript, type ReleaseFile } from '../helpers/tool-fixtures';
import { runInProcess, type TestPlatform } from './world';

const DISTRO = 'debian11';
const V = '100.8.0';

describe('tool setup installs the real MongoDB Database Tools 100.8.0', function () {
  this.timeout(120_000);
  let real: RealMongoTools;
  let work: string;
  let good: ReleaseFile;
  let mirror: Awaited<ReturnType<typeof startToolMirror>>;

  before(async function () {
    real = realMongoTools(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'real-mongo-setup-'));
    good = await officialMongoToolsRelease(work, { version: V, distro: DISTRO, bin: real.bin, docsDir: path.dirname(real.dir) });
    mirror = await startToolMirror([good]);
  });
  after(async () => {
    await mirror?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const fresh = (n: string): string => fs.mkdtempSync(path.join(work, `${n}-`));
  const setup = (inputs: Record<string, string>, agentTemp = fresh('agent')): Promise<TestPlatform> =>
    runInProcess(toolSetup, { distro: DISTRO, searchPath: 'false', ...inputs }, { PATH: '/usr/bin:/bin' }, { agentTemp });
  const cacheOf = (p: TestPlatform): string => p.paths.toolCache;

  /** A kit built the way `npm run package -- --tools-dir` builds one, signed. */
  async function kitWith(files: ReleaseFile[], sums?: string): Promise<{ kit: string; publicKey: string }> {
    const toolsDir = fresh('tools-dir');
    for (const f of files) {
      const dest = path.join(toolsDir, ...f.assetId.split('/'));
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(f.path, dest);
    }
    fs.writeFileSync(path.join(toolsDir, 'SHA256SUMS'), sums ?? pinsFor(files));
    const keys = generateKeyPair();
    const kit = path.join(fresh('kit'), 'stackhub-ha-airgap-0.1.0.tar.gz');
    const staging = fresh('kit-staging');
    fs.writeFileSync(path.join(staging, 'README.md'), 'kit\n');
    await writeKit({ outFile: kit, stagingDir: staging, version: '0.1.0', signingKey: loadPrivateKey(keys.privateKeyPem, 'k'), tools: await readToolsDir(toolsDir) });
    return { kit, publicKey: keys.publicKeyPem };
  }

  it('the test archive is laid out as the official release: docs at the top, binaries under bin/, no directory entries', async () => {
    const tar = await import('tar');
    const entries: string[] = [];
    await tar.t({ file: good.path, onReadEntry: (e) => entries.push(`${e.type} ${e.path}`) });
    const top = `mongodb-database-tools-${DISTRO}-x86_64-${V}`;
    assert.deepEqual(entries, [
      `File ${top}/LICENSE.md`, `File ${top}/README.md`, `File ${top}/THIRD-PARTY-NOTICES`,
      `File ${top}/bin/mongodump`, `File ${top}/bin/mongorestore`, `File ${top}/bin/bsondump`,
    ]);
    assert.equal(good.file, findTool('mongodb-database-tools')!.file(V, { os: 'linux', arch: 'amd64', distro: DISTRO }));
  });

  it('version detection parses what the real binaries print for --version', async () => {
    const spec = findTool('mongodb-database-tools')!;
    for (const b of ['mongodump', 'mongorestore', 'bsondump'] as const) {
      const r = await runTool(real.bin[b], spec.versionArgs);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^${b} version: ${V.replace(/\./g, '\\.')}\\ngit version: [0-9a-f]{40}\\nGo version: go`));
      assert.equal(spec.parseVersion(r.stdout), V, b);
    }
  });

  it('from the pinned mirror: the real binaries land in the tool cache and run; a second run uses the cache', async () => {
    const agent = fresh('agent');
    const inputs = { tools: `mongodb-database-tools@${V}`, mirrorUrl: mirror.template, checksums: pinsFor([good]) };
    const before = mirror.requests.length;
    const p = await setup(inputs, agent);
    assert.equal(p.failed, undefined, p.lines.join('\n'));
    assert.deepEqual(mirror.requests.slice(before), [`/tools/${good.assetId}`]);
    assert.equal(p.outputs.mongoToolsVersion, V);
    const dir = path.join(cacheOf(p), 'mongodb-database-tools', V, 'x64');
    assert.equal(p.outputs.mongodumpPath, path.join(dir, 'mongodump'));
    assert.equal(p.outputs.mongorestorePath, path.join(dir, 'mongorestore'));
    assert.ok(fs.existsSync(path.join(cacheOf(p), 'mongodb-database-tools', V, 'x64.complete')));
    for (const b of ['mongodump', 'mongorestore', 'bsondump'] as const) assert.equal(sha256(path.join(dir, b)), real.sha256[b], `${b} is the real binary`);
    const v = await runTool(p.outputs.mongorestorePath, ['--version']);
    assert.match(v.stdout, /^mongorestore version: 100\.8\.0$/m);
    assert.match(p.summary, /\| mongodb-database-tools \| 100\.8\.0 \| mirror \|/);

    const again = await setup(inputs, agent);
    assert.equal(again.failed, undefined);
    assert.equal(mirror.requests.length, before + 1, 'the cache answers the second run');
    assert.match(again.summary, /\| mongodb-database-tools \| 100\.8\.0 \| tool cache \|/);
  });

  it('from a signed air-gap kit built from a tools directory with SHA256SUMS pins', async () => {
    const { kit, publicKey } = await kitWith([good]);
    const p = await setup({ tools: 'mongodump@100.8', offlineBundle: kit, bundlePublicKey: publicKey });
    assert.equal(p.failed, undefined, p.lines.join('\n'));
    assert.equal(p.outputs.mongoToolsVersion, V);
    assert.equal(sha256(p.outputs.mongodumpPath), real.sha256.mongodump);
    assert.match(p.summary, /\| mongodb-database-tools \| 100\.8\.0 \| air-gap kit \|/);
    assert.ok(!p.lines.some((l) => l.startsWith('warning:')), p.lines.join('\n'));
  });

  it('an explicit tools directory: the real one is accepted, one without mongorestore is refused naming toolPaths', async () => {
    const ok = await setup({ tools: 'mongodb-database-tools@100.8.x', toolPaths: `mongodb-database-tools=${real.dir}` });
    assert.equal(ok.failed, undefined, ok.lines.join('\n'));
    assert.equal(ok.outputs.mongoToolsVersion, V);
    const partial = fresh('partial');
    fs.copyFileSync(real.bin.mongodump, path.join(partial, 'mongodump'));
    fs.chmodSync(path.join(partial, 'mongodump'), 0o755);
    const bad = await setup({ tools: `mongodb-database-tools@${V}`, toolPaths: `mongodb-database-tools=${partial}` });
    assert.equal(bad.failed, `input 'toolPaths': mongodb-database-tools: no mongodump, mongorestore at ${partial}`);
    assert.deepEqual(listFiles(cacheOf(bad)), []);
    const newer = await setup({ tools: 'mongodb-database-tools@100.9', toolPaths: `mongodb-database-tools=${real.dir}` });
    assert.equal(newer.failed, `input 'toolPaths': mongodb-database-tools at ${real.dir} reports version 100.8.0, which does not satisfy mongodb-database-tools@100.9`);
  });

  describe('bad input: one line naming the input, nothing installed', () => {
    it('a kit whose archive lacks the pinned mongorestore', async () => {
      const rel = fresh('rel');
      const { mongorestore: _omit, ...rest } = real.bin;
      const broken = await officialMongoToolsRelease(rel, { version: V, distro: DISTRO, bin: rest });
      const { kit, publicKey } = await kitWith([broken]);
      const p = await setup({ tools: `mongodb-database-tools@${V}`, offlineBundle: kit, bundlePublicKey: publicKey });
      assert.equal(p.failed, `input 'offlineBundle': ${broken.file} holds no mongorestore binary`);
      assert.deepEqual(listFiles(cacheOf(p)), []);
    });

    it('an archive named 100.9.0 that holds the real 100.8.0 binaries', async () => {
      const rel = fresh('rel');
      const liar = await officialMongoToolsRelease(rel, { version: '100.9.0', distro: DISTRO, bin: real.bin });
      const m = await startToolMirror([liar]);
      try {
        const p = await setup({ tools: 'mongodb-database-tools@100.9.0', mirrorUrl: m.template, checksums: pinsFor([liar]) });
        assert.equal(p.failed, `input 'mirrorUrl': ${liar.file}: mongodump reports version 100.8.0, expected 100.9.0`);
        assert.deepEqual(listFiles(cacheOf(p)), []);
      } finally {
        await m.close();
      }
    });

    it('an archive whose mongorestore is from another release (the real mongodump beside it)', async () => {
      const rel = fresh('rel');
      const other = path.join(rel, 'mongorestore-100.7.4');
      fs.writeFileSync(other, versionScript('mongorestore version: 100.7.4\ngit version: 0123456789abcdef0123456789abcdef01234567\nGo version: go1.19.8'), { mode: 0o755 });
      const mixed = await officialMongoToolsRelease(rel, { version: V, distro: DISTRO, bin: { ...real.bin, mongorestore: other }, tag: 'mixed' });
      const { kit, publicKey } = await kitWith([mixed]);
      const p = await setup({ tools: `mongodb-database-tools@${V}`, offlineBundle: kit, bundlePublicKey: publicKey });
      assert.equal(p.failed, `input 'offlineBundle': ${mixed.file}: mongorestore reports version 100.7.4, expected 100.8.0`);
      assert.deepEqual(listFiles(cacheOf(p)), []);
    });

    it('a corrupt pin: a mirror pin that does not match the archive, and one that is not a SHA-256', async () => {
      const wrong = good.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      const p = await setup({ tools: `mongodb-database-tools@${V}`, mirrorUrl: mirror.template, checksums: pinsFor([good], { [good.assetId]: wrong }) });
      assert.equal(p.failed, `input 'checksums': checksum mismatch for ${good.assetId}: pinned ${wrong}, downloaded file has ${good.sha256}`);
      assert.deepEqual(listFiles(cacheOf(p)), []);
      const malformed = await setup({ tools: `mongodb-database-tools@${V}`, mirrorUrl: mirror.template, checksums: `${good.sha256.slice(0, 63)}  ${good.assetId}` });
      assert.equal(malformed.failed, `input 'checksums': line 1: expected "<64 hex characters>  <file name>"`);
      assert.deepEqual(listFiles(cacheOf(malformed)), []);
    });

    it('a corrupt pin in the tools directory stops the kit from being built; a kit whose archive was swapped is refused', async () => {
      const wrong = good.sha256.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      await assert.rejects(kitWith([good], pinsFor([good], { [good.assetId]: wrong })), (e: Error) =>
        e.message.endsWith(`: ${good.assetId} does not match its pin in SHA256SUMS: expected SHA-256 ${wrong}, got ${good.sha256}`));

      // a kit directory (as unpacked on a share) whose archive was replaced after signing
      const { kit, publicKey } = await kitWith([good]);
      const unpacked = fresh('unpacked');
      const tar = await import('tar');
      await tar.x({ file: kit, cwd: unpacked });
      const inKit = path.join(unpacked, 'tools', ...good.assetId.split('/'));
      const rel = fresh('rel');
      const { bsondump: _b, ...rest } = real.bin;
      fs.copyFileSync((await officialMongoToolsRelease(rel, { version: V, distro: DISTRO, bin: rest })).path, inKit);
      const p = await setup({ tools: `mongodb-database-tools@${V}`, offlineBundle: unpacked, bundlePublicKey: publicKey });
      assert.match(p.failed ?? '', new RegExp(`^input 'offlineBundle': air-gap kit ${unpacked}: tools/${good.assetId.replace(/\./g, '\\.')} does not match SHA256SUMS: expected SHA-256 ${good.sha256}, got [0-9a-f]{64}$`));
      assert.deepEqual(listFiles(cacheOf(p)), []);
    });
  });
});
