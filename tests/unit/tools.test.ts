/** The tool catalog (file names, version parsing, distro detection) and the tool cache. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheEntry, findInCache, installToCache } from '../../src/shared/tools/cache';
import { assetId, findTool, mongoDistro, TOOLS, type TargetPlatform } from '../../src/shared/tools/catalog';
import { expandTemplate, pinnedVersions } from '../../src/shared/tools/resolve';
import { parseToolRequests } from '../../src/tool-setup/inputs';

const linux: TargetPlatform = { os: 'linux', arch: 'amd64', distro: 'debian12' };
const win: TargetPlatform = { os: 'windows', arch: 'amd64', distro: 'unknown' };

describe('tool catalog', () => {
  const names: [string, string, TargetPlatform, string][] = [
    ['helm', '3.17.3', linux, 'helm-v3.17.3-linux-amd64.tar.gz'],
    ['helm', '4.1.4', { ...linux, arch: 'arm64' }, 'helm-v4.1.4-linux-arm64.tar.gz'],
    ['helm', '3.17.3', win, 'helm-v3.17.3-windows-amd64.zip'],
    ['kubectl', '1.31.9', linux, 'kubectl'],
    ['kubectl', '1.31.9', win, 'kubectl.exe'],
    ['aks-engine-azurestack', '0.85.0', linux, 'aks-engine-azurestack-v0.85.0-linux-amd64.tar.gz'],
    ['mongodb-database-tools', '100.10.0', linux, 'mongodb-database-tools-debian12-x86_64-100.10.0.tgz'],
    ['mongodb-database-tools', '100.10.0', { ...linux, distro: 'rhel88', arch: 'arm64' }, 'mongodb-database-tools-rhel88-aarch64-100.10.0.tgz'],
    ['mongodb-database-tools', '100.8.0', { ...linux, distro: 'ubuntu2204', arch: 'arm64' }, 'mongodb-database-tools-ubuntu2204-arm64-100.8.0.tgz'],
    ['mongodb-database-tools', '100.8.0', { ...linux, distro: 'amazon2023', arch: 'arm64' }, 'mongodb-database-tools-amazon2023-aarch64-100.8.0.tgz'],
    ['mongodb-database-tools', '100.10.0', win, 'mongodb-database-tools-windows-x86_64-100.10.0.zip'],
  ];
  for (const [tool, v, p, file] of names) {
    it(`${tool} ${v} on ${p.os}-${p.arch} is ${file}`, () => assert.equal(findTool(tool)!.file(v, p), file));
  }

  const versions: [string, string, string | undefined][] = [
    ['helm', 'v3.17.3+ge4da497\n', '3.17.3'],
    ['helm', 'v4.1.4+g05fa379', '4.1.4'],
    ['kubectl', '{"clientVersion":{"gitVersion":"v1.31.9"},"kustomizeVersion":"v5.4.2"}', '1.31.9'],
    ['kubectl', 'not json', undefined],
    ['aks-engine-azurestack', 'Version: v0.85.0\nGitCommit: ff9dfe9\nGitTreeState: clean\n', '0.85.0'],
    ['mongodump', 'mongodump version: 100.10.0\ngit version: abc\nGo version: go1.22\n', '100.10.0'],
    ['mongodump', 'mongodump version: built-without-version-string', undefined],
    ['mongorestore', 'mongorestore version: 100.8.0\ngit version: 732ddfaa6b467ffcd5bfa69a455953320eed85f4\nGo version: go1.19.8\n   os: linux\n', '100.8.0'],
    ['mongodump', 'git version: 1.2.3\n', undefined],
  ];
  for (const [tool, out, want] of versions) {
    it(`${tool} version output ${JSON.stringify(out.slice(0, 30))} → ${want}`, () => assert.equal(findTool(tool)!.parseVersion(out), want));
  }

  const distros: [string, string | undefined][] = [
    ['ID=debian\nVERSION_ID="12"\n', 'debian12'],
    ['ID=ubuntu\nVERSION_ID="22.04"\n', 'ubuntu2204'],
    ['ID="rhel"\nVERSION_ID="8.8"\n', 'rhel88'],
    ['ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n', 'rhel93'],
    ['ID=amzn\nVERSION_ID="2023"\n', 'amazon2023'],
    ['ID=alpine\nVERSION_ID=3.20.0\n', undefined],
    ['', undefined],
  ];
  for (const [text, want] of distros) {
    it(`os-release ${JSON.stringify(text.split('\n')[0])} → ${want}`, () => assert.equal(mongoDistro(text), want));
  }

  it('every tool has a unique id and output prefix', () => {
    assert.equal(new Set(TOOLS.map((t) => t.id)).size, TOOLS.length);
    assert.equal(new Set(TOOLS.map((t) => t.outputPrefix)).size, TOOLS.length);
  });

  it('parses requests: aliases, v prefixes, ranges, duplicates', () => {
    const r = parseToolRequests(['helm@v3.17.3', 'kubectl', 'mongodump@100.10', 'mongorestore@100.10']);
    assert.deepEqual(r.map((x) => [x.tool.id, x.range]), [['helm', '3.17.3'], ['kubectl', '*'], ['mongodb-database-tools', '>=100.10.0 <100.11.0-0']]);
    assert.throws(() => parseToolRequests(['helm@3', 'helm@4']), /input 'tools': helm is requested twice with different versions \(helm@3, helm@4\)/);
  });

  it('expands mirror templates and finds pinned versions', () => {
    assert.equal(expandTemplate('https://m/{tool}/{version}/{os}-{arch}/{file}?x={nope}', { tool: 'helm', version: '3.17.3', os: 'linux', arch: 'amd64', file: 'helm-v3.17.3-linux-amd64.tar.gz' }), 'https://m/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz?x={nope}');
    const helm = findTool('helm')!;
    const pins = new Map([
      [`tools/${assetId(helm, '3.17.3', linux)}`, 'a'.repeat(64)],
      [assetId(helm, '3.16.4', linux), 'b'.repeat(64)],
      [assetId(helm, '3.17.3', win), 'c'.repeat(64)],
      ['helm/3.18.0/linux-amd64/wrong-name.tar.gz', 'd'.repeat(64)],
    ]);
    assert.deepEqual(pinnedVersions(helm, pins, linux), ['3.17.3', '3.16.4']);
  });
});

describe('tool cache', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds the highest complete version in range and ignores entries without a marker', async () => {
    for (const v of ['3.16.4', '3.17.1', '3.17.3']) await installToCache(root, 'helm', v, 'x64', async (d) => fs.writeFileSync(path.join(d, 'helm'), v));
    fs.mkdirSync(cacheEntry(root, 'helm', '3.17.9', 'x64').dir, { recursive: true }); // interrupted install: no marker
    assert.deepEqual(findInCache(root, 'helm', '3.17.x', 'x64'), { version: '3.17.3', dir: cacheEntry(root, 'helm', '3.17.3', 'x64').dir });
    assert.equal(findInCache(root, 'helm', '4.x', 'x64'), undefined);
    assert.equal(findInCache(root, 'kubectl', '*', 'x64'), undefined);
  });

  it('a failed install leaves nothing: no marker, no staging dir, no empty version or tool dir', async () => {
    await assert.rejects(installToCache(root, 'helm', '3.17.3', 'x64', async (d) => {
      fs.writeFileSync(path.join(d, 'helm'), 'partial');
      throw new Error('boom');
    }), /boom/);
    assert.deepEqual(fs.readdirSync(root), []);
  });

  it('reinstalling replaces an entry atomically', async () => {
    await installToCache(root, 'helm', '3.17.3', 'x64', async (d) => fs.writeFileSync(path.join(d, 'helm'), 'one'));
    await installToCache(root, 'helm', '3.17.3', 'x64', async (d) => fs.writeFileSync(path.join(d, 'helm'), 'two'));
    assert.equal(fs.readFileSync(path.join(cacheEntry(root, 'helm', '3.17.3', 'x64').dir, 'helm'), 'utf8'), 'two');
    assert.deepEqual(fs.readdirSync(path.join(root, 'helm', '3.17.3')).sort(), ['x64', 'x64.complete']);
  });
});
