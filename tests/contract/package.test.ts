/**
 * Packaging end to end, into a temp directory: the .vsix made by the real tfx-cli (offline, zero warnings) and
 * the air-gap kit made from a local tools directory, signed, then opened and verified the way tool setup does.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTarGz } from '../../src/shared/archive';
import { openKit } from '../../src/shared/kit';
import { generateKeyPair, loadPublicKey } from '../../src/shared/signing';
import { ACTION_DIRS, TASK_FOLDERS } from '../../scripts/bundle';
import { renderDocs } from '../../scripts/gen-docs';
import {
  KIT_FILE_NAME,
  VSIX_NAME,
  buildKit,
  createVsix,
  ensureBundles,
  missingVsixEntries,
  readToolsDir,
  runTfx,
  stageExtension,
  tfxWarnings,
} from '../../scripts/package';
import { TAB_URI, WEB_DIR, WEB_FILES } from '../../scripts/bundle-web';
import yauzl from 'yauzl';

/** The bytes of one entry of a zip. */
function readZipEntry(file: string, name: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`cannot open ${file}`));
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== name) return zip.readEntry();
        zip.openReadStream(e, (er, rs) => {
          if (er || !rs) return reject(er ?? new Error(`cannot read ${name}`));
          const parts: Buffer[] = [];
          rs.on('data', (d: Buffer) => parts.push(d));
          rs.on('end', () => {
            zip.close();
            resolve(Buffer.concat(parts));
          });
        });
      });
      zip.on('end', () => reject(new Error(`${file} has no ${name}`)));
      zip.readEntry();
    });
  });
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const quiet = (): void => undefined;

describe('contract: packaging (tfx .vsix and air-gap kit)', function () {
  this.timeout(180000);

  let tmp: string;
  let vsixFile: string | undefined;
  let toolsDir: string;
  let keyFile: string;
  let publicKeyPem: string;
  const kubectlBytes = Buffer.from('#!/bin/sh\necho "Client Version: v1.31.2"\n');
  let helmTarGz: Buffer;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-package-'));
    await ensureBundles(); // what `npm run build` makes, when it has not run (no typecheck)

    // tools dir: <tool>/<version>/<os>-<arch>/<file> + SHA256SUMS
    toolsDir = path.join(tmp, 'tools');
    const kubectl = path.join(toolsDir, 'kubectl', '1.31.2', 'linux-amd64', 'kubectl');
    fs.mkdirSync(path.dirname(kubectl), { recursive: true });
    fs.writeFileSync(kubectl, kubectlBytes, { mode: 0o755 });
    const helmSrc = path.join(tmp, 'helm-src');
    fs.mkdirSync(path.join(helmSrc, 'linux-amd64'), { recursive: true });
    fs.writeFileSync(path.join(helmSrc, 'linux-amd64', 'helm'), '#!/bin/sh\necho v3.17.3\n', { mode: 0o755 });
    const helm = path.join(toolsDir, 'helm', '3.17.3', 'linux-amd64', 'helm-v3.17.3-linux-amd64.tar.gz');
    fs.mkdirSync(path.dirname(helm), { recursive: true });
    await createTarGz(helmSrc, helm);
    helmTarGz = fs.readFileSync(helm);
    fs.writeFileSync(
      path.join(toolsDir, 'SHA256SUMS'),
      `${sha(helmTarGz)}  helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz\n${sha(kubectlBytes)}  kubectl/1.31.2/linux-amd64/kubectl\n`,
    );

    const keys = generateKeyPair();
    keyFile = path.join(tmp, 'kit-signing.pem');
    fs.writeFileSync(keyFile, keys.privateKeyPem, { mode: 0o600 });
    publicKeyPem = keys.publicKeyPem;
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('tfx creates the .vsix offline with zero warnings, holding every task with dist/index.js and task-lib', async function () {
    const outDir = path.join(tmp, 'out-vsix');
    const v = await createVsix({ outDir, workDir: path.join(tmp, 'work-vsix'), log: quiet });
    console.log(`      tfx extension create: ${(v.tfx.ms / 1000).toFixed(1)} s, ${v.entries.length} entries, ${v.size} bytes`);
    assert.strictEqual(v.file, path.join(outDir, VSIX_NAME));
    assert.deepStrictEqual(v.tfx.warnings, [], 'tfx printed warnings: fix task.json / vss-extension.json');
    assert.deepStrictEqual(missingVsixEntries(v.entries), []);
    for (const f of TASK_FOLDERS) {
      assert.ok(v.entries.includes(`tasks/${f}/task.json`), `the .vsix lacks tasks/${f}/task.json`);
      assert.ok(v.entries.includes(`tasks/${f}/dist/index.js`), `the .vsix lacks tasks/${f}/dist/index.js`);
      assert.ok(
        v.entries.some((n) => n.startsWith(`tasks/${f}/node_modules/azure-pipelines-task-lib/`)),
        `the .vsix lacks tasks/${f}/node_modules/azure-pipelines-task-lib`,
      );
      assert.ok(!v.entries.includes(`tasks/${f}/index.ts`), `the .vsix carries the task's TypeScript source tasks/${f}/index.ts`);
    }
    vsixFile = v.file;

    // the release results tab: its page and script, addressable, named by the contribution, nothing fetched from outside
    for (const f of WEB_FILES) assert.ok(v.entries.includes(`${WEB_DIR}/${f}`), `the .vsix lacks ${WEB_DIR}/${f}`);
    const manifest = JSON.parse((await readZipEntry(v.file, 'extension.vsomanifest')).toString('utf8')) as {
      contributions: { id: string; type: string; targets: string[]; properties: Record<string, unknown> }[];
      scopes?: string[];
    };
    const tab = manifest.contributions.find((c) => c.type === 'ms.vss-build-web.build-results-tab');
    assert.ok(tab, 'no build results tab contribution in the packaged manifest');
    assert.deepStrictEqual(tab.targets, ['ms.vss-build-web.build-results-view']);
    assert.strictEqual(tab.properties.uri, TAB_URI);
    assert.ok(v.entries.includes(String(tab.properties.uri)), `the tab's uri ${String(tab.properties.uri)} is not in the .vsix`);
    assert.deepStrictEqual(manifest.scopes, ['vso.build']);
    const vsixmanifest = (await readZipEntry(v.file, 'extension.vsixmanifest')).toString('utf8');
    for (const f of WEB_FILES) assert.ok(vsixmanifest.includes(`<Asset Type="${WEB_DIR}/${f}" d:Source="File" Path="${WEB_DIR}/${f}" Addressable="true"/>`), `${f} is not an addressable asset`);
    const html = (await readZipEntry(v.file, `${WEB_DIR}/results-tab.html`)).toString('utf8');
    const js = (await readZipEntry(v.file, `${WEB_DIR}/results-tab.js`)).toString('utf8');
    assert.match(html, /<script src="results-tab\.js"><\/script>/);
    assert.deepStrictEqual(html.match(/\b(?:src|href)="[^"]*"/g), ['src="results-tab.js"'], 'the page loads only its own script');
    assert.deepStrictEqual(js.match(/\bhttps?:\/\/[^\s"'`)]+/g) ?? [], [], 'the tab script names no host');
    assert.doesNotMatch(js, /@font-face|@import|fonts\.googleapis|cdn\./i);
    assert.match(js, /stackhub-ha\.release-record/);
    assert.match(js, /stackhub-ha\.backup-list/);
  });

  it("tfx's task.json warnings are caught (a friendlyName over 40 characters)", async function () {
    const workDir = path.join(tmp, 'work-warn');
    const stage = stageExtension({ workDir });
    const taskJson = path.join(stage, 'tasks', TASK_FOLDERS[0], 'task.json');
    const t = JSON.parse(fs.readFileSync(taskJson, 'utf8')) as { friendlyName: string };
    t.friendlyName = 'A friendly name that is far longer than forty characters';
    fs.writeFileSync(taskJson, JSON.stringify(t, null, 2));
    const run = await runTfx(stage, path.join(tmp, 'out-warn', 'x.vsix'), workDir);
    assert.ok(
      run.warnings.some((w) => /friendlyName is a required string <= 40 chars/.test(w)),
      `expected tfx to warn about friendlyName; it printed:\n${run.output}`,
    );
    assert.deepStrictEqual(
      tfxWarnings('npm warn config something\nwarning: Task X@1 is dependent on a task runner that is end-of-life\n  - VSIX: x'),
      ['warning: Task X@1 is dependent on a task runner that is end-of-life'],
    );
  });

  /** The .vsix made above, or a stand-in when tfx failed (reported by its own test) so the kit is still tested. */
  function vsixForKit(): string {
    if (vsixFile) return vsixFile;
    const f = path.join(tmp, 'stand-in', VSIX_NAME);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, 'stand-in vsix');
    return f;
  }

  it('builds a signed kit from a tools dir; openKit with the public key lists the tools and extractAsset verifies them', async function () {
    const outDir = path.join(tmp, 'out-kit');
    const vsix = vsixForKit();
    const kit = await buildKit({ vsixFile: vsix, toolsDir, signingKey: keyFile, outDir, workDir: path.join(tmp, 'work-kit'), log: quiet });
    assert.strictEqual(kit.file, path.join(outDir, KIT_FILE_NAME));
    assert.ok(kit.signed);
    assert.match(kit.fingerprint ?? '', /^SHA256:/);

    const opened = await openKit(kit.file, { publicKey: loadPublicKey(publicKeyPem, 'test'), workDir: path.join(tmp, 'open') });
    assert.ok(opened.signed && opened.verifiedOrigin, 'the kit signature did not verify');
    const kubectl = opened.listTools('kubectl', 'linux', 'amd64');
    const helm = opened.listTools('helm', 'linux', 'amd64');
    assert.deepStrictEqual(kubectl.map((t) => `${t.version} ${t.file}`), ['1.31.2 kubectl']);
    assert.deepStrictEqual(helm.map((t) => `${t.version} ${t.file}`), ['3.17.3 helm-v3.17.3-linux-amd64.tar.gz']);
    assert.ok(fs.readFileSync(await opened.extractAsset(kubectl[0].path)).equals(kubectlBytes));
    assert.ok(fs.readFileSync(await opened.extractAsset(helm[0].path)).equals(helmTarGz));

    const want = [
      `vsix/${VSIX_NAME}`,
      'cli/stackhub-ha.js',
      ...ACTION_DIRS.flatMap((d) => [`actions/${d}/action.yml`, `actions/${d}/dist/index.js`]),
      ...[...renderDocs().keys()],
      'kit.json',
      'tools/kubectl/1.31.2/linux-amd64/kubectl',
      'tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz',
    ];
    for (const w of want) assert.ok(opened.sums.has(w), `the kit lacks ${w}; it has ${[...opened.sums.keys()].join(', ')}`);
    const vsixInKit = await opened.extractAsset(`vsix/${VSIX_NAME}`);
    assert.strictEqual(sha(fs.readFileSync(vsixInKit)), sha(fs.readFileSync(vsix)));
  });

  it('an unsigned kit (no key) is refused by openKit when a public key is required', async function () {
    const kit = await buildKit({ vsixFile: vsixForKit(), outDir: path.join(tmp, 'out-unsigned'), workDir: path.join(tmp, 'work-unsigned'), log: quiet });
    assert.strictEqual(kit.signed, false);
    assert.deepStrictEqual(kit.tools, []);
    await assert.rejects(
      openKit(kit.file, { publicKey: loadPublicKey(publicKeyPem, 'test'), workDir: path.join(tmp, 'open-unsigned') }),
      /signature is missing/,
    );
  });

  it('a tools dir with a wrong pin, an unpinned file or a pin without a file fails packaging and writes no kit', async function () {
    const copy = (name: string, sums: (text: string) => string): string => {
      const dir = path.join(tmp, name);
      fs.cpSync(toolsDir, dir, { recursive: true });
      const f = path.join(dir, 'SHA256SUMS');
      fs.writeFileSync(f, sums(fs.readFileSync(f, 'utf8')));
      return dir;
    };
    const cases: [string, string, RegExp][] = [
      ['tools-wrong-pin', copy('tools-wrong-pin', (t) => t.replace(sha(kubectlBytes), sha('something else'))), /kubectl\/1\.31\.2\/linux-amd64\/kubectl does not match its pin/],
      ['tools-unpinned', copy('tools-unpinned', (t) => t.split('\n').filter((l) => !l.includes('kubectl')).join('\n')), /kubectl has no pin/],
      ['tools-extra-pin', copy('tools-extra-pin', (t) => `${t}${sha('x')}  mongodump/100.10.0/linux-amd64/gone.tgz\n`), /pins files that are not there/],
    ];
    for (const [name, dir, re] of cases) {
      const outDir = path.join(tmp, `out-${name}`);
      await assert.rejects(
        buildKit({ vsixFile: vsixForKit(), toolsDir: dir, signingKey: keyFile, outDir, workDir: path.join(tmp, `work-${name}`), log: quiet }),
        re,
        name,
      );
      assert.ok(!fs.existsSync(path.join(outDir, KIT_FILE_NAME)), `${name}: a kit was written although packaging failed`);
    }
    // the reader on its own agrees with the good dir
    assert.deepStrictEqual((await readToolsDir(toolsDir)).map((t) => `${t.tool}/${t.version}/${t.os}-${t.arch}/${t.file}`).sort(), [
      'helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz',
      'kubectl/1.31.2/linux-amd64/kubectl',
    ]);
  });
});
