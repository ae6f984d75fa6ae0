import { strict as assert } from 'node:assert';
import { createHash, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTarGz, extractArchive } from '../../src/shared/archive';
import { parseChecksums } from '../../src/shared/checksums';
import { StackHubError } from '../../src/shared/errors';
import { openKit, writeKit, type KitToolSource } from '../../src/shared/kit';
import { generateKeyPair, loadPrivateKey, loadPublicKey } from '../../src/shared/signing';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const NOW = new Date('2025-01-02T03:04:05.000Z');

describe('kit', () => {
  let tmp: string;
  let n = 0;
  const fresh = (label: string) => path.join(tmp, `${label}-${++n}`);
  let priv: KeyObject;
  let pub: KeyObject;
  let otherPub: KeyObject;
  let helmArchive: string;
  let helmOld: string;
  let kubectlExe: string;

  /** A staging directory with the non-tool files of a kit. */
  function staging(): string {
    const dir = fresh('staging');
    fs.mkdirSync(path.join(dir, 'vsix'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'cli'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'vsix', 'stackhub-ha-0.1.0.vsix'), 'vsix bytes');
    fs.writeFileSync(path.join(dir, 'cli', 'stackhub-ha.js'), 'console.log("cli")\n');
    return dir;
  }

  function tools(): KitToolSource[] {
    return [
      {
        tool: 'helm', version: '3.17.3', os: 'linux', arch: 'amd64', file: 'helm-v3.17.3-linux-amd64.tar.gz',
        sourcePath: helmArchive, sha256: sha(fs.readFileSync(helmArchive)).toUpperCase(),
      },
      {
        tool: 'helm', version: '3.9.0', os: 'linux', arch: 'amd64', file: 'helm-v3.9.0-linux-amd64.tar.gz',
        sourcePath: helmOld, sha256: sha(fs.readFileSync(helmOld)),
      },
      {
        tool: 'kubectl', version: '1.31.2', os: 'windows', arch: 'amd64', file: 'kubectl.exe',
        sourcePath: kubectlExe, sha256: sha(fs.readFileSync(kubectlExe)),
      },
    ];
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-kit-'));
    const keys = generateKeyPair();
    priv = loadPrivateKey(keys.privateKeyPem, 'signingKey');
    pub = loadPublicKey(keys.publicKeyPem, 'kitPublicKey');
    otherPub = loadPublicKey(generateKeyPair().publicKeyPem, 'kitPublicKey');
    const helmSrc = fresh('helm-src');
    fs.mkdirSync(path.join(helmSrc, 'linux-amd64'), { recursive: true });
    fs.writeFileSync(path.join(helmSrc, 'linux-amd64', 'helm'), '#!/bin/sh\necho v3.17.3\n', { mode: 0o755 });
    helmArchive = fresh('helm') + '.tar.gz';
    await createTarGz(helmSrc, helmArchive);
    fs.writeFileSync(path.join(helmSrc, 'linux-amd64', 'helm'), '#!/bin/sh\necho v3.9.0\n');
    helmOld = fresh('helm-old') + '.tar.gz';
    await createTarGz(helmSrc, helmOld);
    kubectlExe = fresh('kubectl') + '.exe';
    fs.writeFileSync(kubectlExe, 'MZ kubectl');
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function buildKit(signingKey?: KeyObject) {
    const stagingDir = staging();
    const outFile = fresh('kit') + '.tar.gz';
    const result = await writeKit({ outFile, stagingDir, tools: tools(), version: '0.1.0', signingKey, now: NOW });
    return { stagingDir, outFile, result };
  }

  describe('writeKit', () => {
    it('writes tools, kit.json, SHA256SUMS over every other file, and the signature', async () => {
      const { stagingDir, outFile, result } = await buildKit(priv);
      assert.equal(result.signed, true);
      const sums = parseChecksums(result.sha256sums, 'SHA256SUMS');
      assert.deepEqual([...sums.keys()], [
        'cli/stackhub-ha.js',
        'kit.json',
        'tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz',
        'tools/helm/3.9.0/linux-amd64/helm-v3.9.0-linux-amd64.tar.gz',
        'tools/kubectl/1.31.2/windows-amd64/kubectl.exe',
        'vsix/stackhub-ha-0.1.0.vsix',
      ]);
      for (const [name, hash] of sums) {
        assert.equal(sha(fs.readFileSync(path.join(stagingDir, name))), hash, name);
      }
      assert.equal(fs.readFileSync(path.join(stagingDir, 'SHA256SUMS'), 'utf8'), result.sha256sums);
      const manifest = JSON.parse(fs.readFileSync(path.join(stagingDir, 'kit.json'), 'utf8'));
      assert.equal(manifest.name, 'stackhub-ha-airgap-kit');
      assert.equal(manifest.version, '0.1.0');
      assert.equal(manifest.created, '2025-01-02T03:04:05.000Z');
      assert.deepEqual(manifest.tools[0], {
        tool: 'helm', version: '3.17.3', os: 'linux', arch: 'amd64', file: 'helm-v3.17.3-linux-amd64.tar.gz',
        path: 'tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz', sha256: sha(fs.readFileSync(helmArchive)),
      });
      assert.ok(fs.existsSync(path.join(stagingDir, 'SHA256SUMS.sig')));
      assert.ok(fs.statSync(outFile).size > 0);
    });

    it('is deterministic for the same input and time', async () => {
      const a = await buildKit(priv);
      const b = await buildKit(priv);
      assert.ok(fs.readFileSync(a.outFile).equals(fs.readFileSync(b.outFile)));
    });

    it('refuses a pin mismatch, naming the file and both hashes, and writes nothing', async () => {
      const stagingDir = staging();
      const before = fs.readdirSync(stagingDir).sort();
      const outFile = fresh('kit') + '.tar.gz';
      const bad = tools();
      const wrong = 'f'.repeat(64);
      bad[2] = { ...bad[2], sha256: wrong };
      const actual = sha(fs.readFileSync(kubectlExe));
      await assert.rejects(
        writeKit({ outFile, stagingDir, tools: bad, version: '0.1.0', signingKey: priv }),
        (err: unknown) => {
          assert.ok(err instanceof StackHubError);
          assert.ok(err.message.includes(kubectlExe), err.message);
          assert.ok(err.message.includes(wrong) && err.message.includes(actual), err.message);
          return true;
        },
      );
      assert.ok(!fs.existsSync(outFile));
      assert.deepEqual(fs.readdirSync(stagingDir).sort(), before, 'no tools/, kit.json or SHA256SUMS');
    });

    it('refuses an output inside the staging directory and unsafe tool fields', async () => {
      const stagingDir = staging();
      await assert.rejects(
        writeKit({ outFile: path.join(stagingDir, 'kit.tar.gz'), stagingDir, tools: [], version: '1' }),
        StackHubError,
      );
      await assert.rejects(
        writeKit({ outFile: fresh('k') + '.tar.gz', stagingDir, tools: [{ ...tools()[0], version: '../..' }], version: '1' }),
        StackHubError,
      );
    });
  });

  describe('openKit', () => {
    let signedKit: { stagingDir: string; outFile: string };
    let unsignedKit: { stagingDir: string; outFile: string };
    before(async () => {
      signedKit = await buildKit(priv);
      unsignedKit = await buildKit();
    });

    it('opens a signed tar.gz kit with the key, extracting only the metadata up front', async () => {
      const workDir = fresh('work');
      const kit = await openKit(signedKit.outFile, { publicKey: pub, workDir });
      assert.equal(kit.signed, true);
      assert.equal(kit.verifiedOrigin, true);
      assert.equal(kit.root, workDir);
      assert.equal(kit.manifest.version, '0.1.0');
      assert.equal(kit.sums.size, 6);
      assert.deepEqual(fs.readdirSync(workDir).sort(), ['SHA256SUMS', 'SHA256SUMS.sig', 'kit.json']);
      if (process.platform !== 'win32') assert.equal(fs.statSync(workDir).mode & 0o777, 0o700);

      const rel = 'tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz';
      const file = await kit.extractAsset(rel);
      assert.equal(file, path.join(workDir, ...rel.split('/')));
      assert.ok(fs.readFileSync(file).equals(fs.readFileSync(helmArchive)));
      assert.ok(!fs.existsSync(path.join(workDir, 'vsix')), 'only the asset asked for is extracted');
      const dest = fresh('helm');
      await extractArchive(file, dest, 'tar.gz');
      assert.equal(fs.readFileSync(path.join(dest, 'linux-amd64', 'helm'), 'utf8'), '#!/bin/sh\necho v3.17.3\n');
    });

    it('listTools filters by tool, os and arch, newest first', async () => {
      const kit = await openKit(signedKit.outFile, { publicKey: pub, workDir: fresh('work') });
      assert.deepEqual(kit.listTools('helm', 'linux', 'amd64').map((t) => t.version), ['3.17.3', '3.9.0']);
      assert.deepEqual(kit.listTools('kubectl', 'windows', 'amd64').map((t) => t.file), ['kubectl.exe']);
      assert.deepEqual(kit.listTools('helm', 'windows', 'amd64'), []);
      assert.deepEqual(kit.listTools('oc', 'linux', 'amd64'), []);
    });

    it('opens a directory kit and verifies assets in place', async () => {
      const kit = await openKit(signedKit.stagingDir, { publicKey: pub, workDir: fresh('work') });
      assert.equal(kit.root, path.resolve(signedKit.stagingDir));
      assert.equal(kit.verifiedOrigin, true);
      const rel = 'tools/kubectl/1.31.2/windows-amd64/kubectl.exe';
      assert.equal(await kit.extractAsset(rel), path.join(signedKit.stagingDir, ...rel.split('/')));
    });

    it('opens an extracted tar.gz kit as a directory', async () => {
      const dir = fresh('kitdir');
      await extractArchive(signedKit.outFile, dir, 'tar.gz');
      const kit = await openKit(dir, { publicKey: pub, workDir: fresh('work') });
      assert.equal(kit.manifest.tools.length, 3);
      await kit.extractAsset('vsix/stackhub-ha-0.1.0.vsix');
    });

    it('without a key: opens, but verifiedOrigin is false', async () => {
      const kit = await openKit(unsignedKit.outFile, { workDir: fresh('work') });
      assert.equal(kit.signed, false);
      assert.equal(kit.verifiedOrigin, false);
      const signed = await openKit(signedKit.outFile, { workDir: fresh('work') });
      assert.equal(signed.signed, true);
      assert.equal(signed.verifiedOrigin, false);
    });

    it('refuses an unsigned kit when a key is given', async () => {
      for (const k of [unsignedKit.outFile, unsignedKit.stagingDir]) {
        await assert.rejects(openKit(k, { publicKey: pub, workDir: fresh('work') }), (err: unknown) => {
          assert.ok(err instanceof StackHubError);
          assert.ok(err.message.startsWith(`air-gap kit ${k}: SHA256SUMS signature `), err.message);
          assert.match(err.message, /missing/);
          return true;
        });
      }
    });

    it('refuses a signature made with another key', async () => {
      await assert.rejects(
        openKit(signedKit.outFile, { publicKey: otherPub, workDir: fresh('work') }),
        (err: unknown) =>
          err instanceof StackHubError &&
          err.message === `air-gap kit ${signedKit.outFile}: SHA256SUMS signature does not verify with the given public key`,
      );
    });

    it('refuses a tampered SHA256SUMS under a signature', async () => {
      const dir = fresh('kitdir');
      await extractArchive(signedKit.outFile, dir, 'tar.gz');
      fs.appendFileSync(path.join(dir, 'SHA256SUMS'), `${'0'.repeat(64)}  extra\n`);
      await assert.rejects(
        openKit(dir, { publicKey: pub, workDir: fresh('work') }),
        /SHA256SUMS signature does not verify/,
      );
    });

    it('refuses a tampered kit.json', async () => {
      const dir = fresh('kitdir');
      await extractArchive(unsignedKit.outFile, dir, 'tar.gz');
      const f = path.join(dir, 'kit.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('3.9.0', '3.9.1'));
      await assert.rejects(openKit(dir, { workDir: fresh('work') }), /kit\.json does not match SHA256SUMS/);
    });

    it('tar.gz kit: a tampered asset is refused and the extracted file deleted', async () => {
      // Same signed SHA256SUMS, different bytes for one asset.
      const dir = fresh('kitdir');
      await extractArchive(signedKit.outFile, dir, 'tar.gz');
      const rel = 'tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz';
      fs.writeFileSync(path.join(dir, ...rel.split('/')), 'evil');
      const tampered = fresh('tampered') + '.tar.gz';
      await createTarGz(dir, tampered);
      const workDir = fresh('work');
      const kit = await openKit(tampered, { publicKey: pub, workDir });
      assert.equal(kit.verifiedOrigin, true);
      await assert.rejects(kit.extractAsset(rel), (err: unknown) => {
        assert.ok(err instanceof StackHubError);
        assert.ok(err.message.includes(`${rel} does not match SHA256SUMS`), err.message);
        assert.ok(err.message.includes(sha('evil')), err.message);
        return true;
      });
      assert.ok(!fs.existsSync(path.join(workDir, ...rel.split('/'))), 'extracted file deleted');
      // The untouched assets are still fine.
      await kit.extractAsset('tools/kubectl/1.31.2/windows-amd64/kubectl.exe');
    });

    it('directory kit: a tampered asset is refused (the kit is left as it is)', async () => {
      const dir = fresh('kitdir');
      await extractArchive(signedKit.outFile, dir, 'tar.gz');
      const rel = 'vsix/stackhub-ha-0.1.0.vsix';
      fs.writeFileSync(path.join(dir, ...rel.split('/')), 'evil');
      const kit = await openKit(dir, { publicKey: pub, workDir: fresh('work') });
      await assert.rejects(kit.extractAsset(rel), /vsix\/stackhub-ha-0\.1\.0\.vsix does not match SHA256SUMS/);
    });

    it('refuses assets that are not listed, or not safe paths', async () => {
      const kit = await openKit(signedKit.outFile, { publicKey: pub, workDir: fresh('work') });
      await assert.rejects(kit.extractAsset('tools/oc/1/linux-amd64/oc'), /is not listed in SHA256SUMS/);
      await assert.rejects(kit.extractAsset('../SHA256SUMS'), /is not a path inside the kit/);
      await assert.rejects(kit.extractAsset('/etc/passwd'), /is not a path inside the kit/);
    });

    it('refuses a file that is neither a directory nor a .tar.gz, and a missing path', async () => {
      const f = fresh('kit') + '.zip';
      fs.writeFileSync(f, 'x');
      await assert.rejects(openKit(f, { workDir: fresh('work') }), /expected a directory or a \.tar\.gz/);
      await assert.rejects(openKit(fresh('missing'), { workDir: fresh('work') }), /not found/);
    });

    it('refuses a kit without SHA256SUMS', async () => {
      const dir = fresh('nosums');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'kit.json'), '{}');
      await assert.rejects(openKit(dir, { workDir: fresh('work') }), /SHA256SUMS is missing/);
    });
  });
});
