import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tar from 'tar';
import { archiveKind, createTarGz, extractArchive, findExecutable } from '../../src/shared/archive';
import { StackHubError } from '../../src/shared/errors';
import { buildZip } from '../helpers/zip';

const posix = process.platform !== 'win32';

interface RawTarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice';
  data?: string;
  linkpath?: string;
  mode?: number;
}

/** Hand-builds a tar.gz (node-tar's Header only), so that hostile entries can be written. */
function rawTarGz(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'File';
    const data = Buffer.from(type === 'File' ? (e.data ?? '') : '');
    const header = new tar.Header({
      path: e.path,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      uid: 0,
      gid: 0,
      size: data.length,
      mtime: new Date('2000-01-01T00:00:00Z'),
      type,
      linkpath: e.linkpath,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return zlib.gzipSync(Buffer.concat(blocks));
}

describe('archive', () => {
  let tmp: string;
  let n = 0;
  const fresh = (label: string) => path.join(tmp, `${label}-${++n}`);
  const write = (file: string, data: Buffer | string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    return file;
  };

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-archive-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('archiveKind', () => {
    const rows: Array<[string, string]> = [
      ['helm-v3.17.3-linux-amd64.tar.gz', 'tar.gz'],
      ['X.TGZ', 'tar.gz'],
      ['helm-v3.17.3-windows-amd64.zip', 'zip'],
      ['kubectl', 'bare'],
      ['kubectl.exe', 'bare'],
      ['a.tar', 'bare'],
      ['a.gz', 'bare'],
    ];
    for (const [name, kind] of rows) it(`${name} → ${kind}`, () => assert.equal(archiveKind(name), kind));
  });

  describe('tar.gz', () => {
    let src: string;
    before(() => {
      src = fresh('src');
      write(path.join(src, 'linux-amd64', 'helm'), '#!/bin/sh\necho helm\n');
      fs.chmodSync(path.join(src, 'linux-amd64', 'helm'), 0o755);
      write(path.join(src, 'linux-amd64', 'README.md'), 'readme');
      fs.chmodSync(path.join(src, 'linux-amd64', 'README.md'), 0o644);
      fs.mkdirSync(path.join(src, 'empty'));
      if (posix) fs.symlinkSync('helm', path.join(src, 'linux-amd64', 'helm-link'));
    });

    it('round-trips through createTarGz and extractArchive, keeping the exec bit and inner links', async () => {
      const file = fresh('rt') + '.tar.gz';
      await createTarGz(src, file);
      const dest = fresh('dest');
      await extractArchive(file, dest, 'tar.gz');
      assert.equal(fs.readFileSync(path.join(dest, 'linux-amd64', 'helm'), 'utf8'), '#!/bin/sh\necho helm\n');
      assert.equal(fs.readFileSync(path.join(dest, 'linux-amd64', 'README.md'), 'utf8'), 'readme');
      assert.ok(fs.statSync(path.join(dest, 'empty')).isDirectory());
      if (posix) {
        assert.equal(fs.statSync(dest).mode & 0o777, 0o700, 'destDir is created 0700');
        assert.notEqual(fs.statSync(path.join(dest, 'linux-amd64', 'helm')).mode & 0o111, 0, 'exec bit kept');
        assert.equal(fs.statSync(path.join(dest, 'linux-amd64', 'README.md')).mode & 0o111, 0);
        assert.equal(fs.readlinkSync(path.join(dest, 'linux-amd64', 'helm-link')), 'helm');
      }
    });

    it('createTarGz is byte-identical twice, whatever the mtimes', async () => {
      const a = fresh('a') + '.tar.gz';
      const b = fresh('b') + '.tar.gz';
      await createTarGz(src, a);
      fs.utimesSync(path.join(src, 'linux-amd64', 'README.md'), new Date(), new Date(Date.UTC(2021, 5, 1)));
      await createTarGz(src, b);
      assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
    });

    it('createTarGz stores sorted entries, a fixed mtime and no owner names', async () => {
      const file = fresh('meta') + '.tar.gz';
      await createTarGz(src, file);
      const seen: Array<{ path: string; type: string; mtime?: Date; uname?: string; gname?: string }> = [];
      await tar.t({
        file,
        onReadEntry: (e) => {
          seen.push({ path: e.path, type: e.type, mtime: e.mtime, uname: e.uname, gname: e.gname });
          e.resume();
        },
      });
      const paths = seen.map((s) => s.path.replace(/\/$/, ''));
      const expected = ['empty', 'linux-amd64', 'linux-amd64/README.md', 'linux-amd64/helm'];
      if (posix) expected.push('linux-amd64/helm-link');
      assert.deepEqual(paths, expected);
      for (const s of seen) {
        // node-tar's portable mode stores no mtime at all for directories.
        if (s.type !== 'Directory') assert.equal(s.mtime?.toISOString(), '2000-01-01T00:00:00.000Z', s.path);
        assert.ok(!s.uname && !s.gname, 'no owner names');
      }
    });

    it('createTarGz with an entry list archives only those entries', async () => {
      const file = fresh('subset') + '.tar.gz';
      await createTarGz(src, file, ['linux-amd64/helm', 'empty']);
      const paths: string[] = [];
      await tar.t({ file, onReadEntry: (e) => void paths.push(e.path.replace(/\/$/, '')) });
      assert.deepEqual(paths, ['empty', 'linux-amd64/helm']);
      await assert.rejects(createTarGz(src, fresh('x') + '.tar.gz', ['../etc']), StackHubError);
    });

    const hostile: Array<[string, RawTarEntry[], RegExp]> = [
      ['a ../ path', [{ path: '../evil', data: 'x' }], /entry '\.\.\/evil' contains '\.\.'/],
      ['a nested ../ path', [{ path: 'a/../../evil', data: 'x' }], /contains '\.\.'/],
      ['an absolute path', [{ path: '/tmp/shha-abs-evil', data: 'x' }], /has an absolute path/],
      ['a symlink to ../..', [{ path: 'link', type: 'SymbolicLink', linkpath: '../../etc' }], /outside the destination/],
      ['an absolute symlink', [{ path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }], /absolute path '\/etc\/passwd'/],
      ['a hard link outside', [{ path: 'hl', type: 'Link', linkpath: '../outside' }], /hard link to '\.\.\/outside'/],
      ['a device', [{ path: 'dev', type: 'CharacterDevice' }], /unsupported type/],
    ];
    for (const [title, entries, re] of hostile) {
      it(`refuses ${title} and writes nothing`, async () => {
        const file = write(fresh('hostile') + '.tar.gz', rawTarGz([{ path: 'ok.txt', data: 'fine' }, ...entries]));
        const parent = fresh('parent');
        fs.mkdirSync(parent);
        const dest = path.join(parent, 'dest');
        await assert.rejects(extractArchive(file, dest, 'tar.gz'), (err: unknown) => {
          assert.ok(err instanceof StackHubError, String(err));
          assert.match(err.message, /^refusing to extract /);
          assert.match(err.message, re);
          return true;
        });
        assert.deepEqual(fs.readdirSync(parent), [], 'destDir (created here) removed, nothing beside it');
        assert.ok(!fs.existsSync('/tmp/shha-abs-evil'));
      });
    }

    it('refuses a chain of links that escapes on disk (b -> ., a -> b/../outside)', async function () {
      if (!posix) this.skip();
      const file = write(
        fresh('chain') + '.tar.gz',
        rawTarGz([
          { path: 'b', type: 'SymbolicLink', linkpath: '.' },
          { path: 'a', type: 'SymbolicLink', linkpath: 'b/../outside' },
        ]),
      );
      const dest = fresh('dest');
      await assert.rejects(extractArchive(file, dest, 'tar.gz'), /entry 'a' is a symbolic link that resolves outside/);
      assert.ok(!fs.existsSync(dest));
    });

    it('keeps an existing destDir but does not extract a traversal entry into it', async () => {
      const dest = fresh('existing');
      fs.mkdirSync(dest);
      fs.writeFileSync(path.join(dest, 'keep'), 'k');
      const file = write(fresh('t') + '.tar.gz', rawTarGz([{ path: 'x/../../evil', data: 'x' }]));
      await assert.rejects(extractArchive(file, dest, 'tar.gz'), StackHubError);
      assert.deepEqual(fs.readdirSync(dest), ['keep']);
      assert.ok(!fs.existsSync(path.join(path.dirname(dest), 'evil')));
    });

    it('accepts links that stay inside (../ within the tree)', async function () {
      if (!posix) this.skip();
      const file = write(
        fresh('inner') + '.tar.gz',
        rawTarGz([
          { path: 'lib/libx.so.1', data: 'lib' },
          { path: 'bin/libx', type: 'SymbolicLink', linkpath: '../lib/libx.so.1' },
          { path: 'bin/hard', type: 'Link', linkpath: 'lib/libx.so.1' },
        ]),
      );
      const dest = fresh('dest');
      await extractArchive(file, dest, 'tar.gz');
      assert.equal(fs.readFileSync(path.join(dest, 'bin', 'libx'), 'utf8'), 'lib');
      assert.equal(fs.readFileSync(path.join(dest, 'bin', 'hard'), 'utf8'), 'lib');
    });

    it('does not let the archive change the mode of destDir (./ entry)', async function () {
      if (!posix) this.skip();
      const file = write(
        fresh('dot') + '.tar.gz',
        rawTarGz([{ path: './', type: 'Directory', mode: 0o777 }, { path: './a', data: 'a' }]),
      );
      const dest = fresh('dest');
      await extractArchive(file, dest, 'tar.gz');
      assert.equal(fs.statSync(dest).mode & 0o777, 0o700);
      assert.equal(fs.readFileSync(path.join(dest, 'a'), 'utf8'), 'a');
    });

    it('a corrupt archive is a StackHubError', async () => {
      const file = write(fresh('corrupt') + '.tar.gz', Buffer.from('this is not gzip at all, not even close'));
      await assert.rejects(extractArchive(file, fresh('dest'), 'tar.gz'), StackHubError);
    });
  });

  describe('zip', () => {
    it('extracts files and directories; 0755 for UNIX exec bits and *.exe, 0644 otherwise', async () => {
      const file = write(
        fresh('ok') + '.zip',
        buildZip([
          { name: 'windows-amd64/', mode: 0o755 },
          { name: 'windows-amd64/helm.exe', data: 'MZ' },
          { name: 'linux-amd64/helm', data: '#!/bin/sh\n', mode: 0o755 },
          { name: 'linux-amd64/LICENSE', data: 'license', mode: 0o644 },
          { name: 'notes.txt', data: 'no unix attributes' },
        ]),
      );
      const dest = fresh('dest');
      await extractArchive(file, dest, 'zip');
      assert.equal(fs.readFileSync(path.join(dest, 'windows-amd64', 'helm.exe'), 'utf8'), 'MZ');
      assert.equal(fs.readFileSync(path.join(dest, 'linux-amd64', 'helm'), 'utf8'), '#!/bin/sh\n');
      assert.equal(fs.readFileSync(path.join(dest, 'notes.txt'), 'utf8'), 'no unix attributes');
      if (posix) {
        const mode = (p: string) => fs.statSync(path.join(dest, p)).mode & 0o777;
        assert.equal(fs.statSync(dest).mode & 0o777, 0o700);
        assert.equal(mode('windows-amd64/helm.exe'), 0o755);
        assert.equal(mode('linux-amd64/helm'), 0o755);
        assert.equal(mode('linux-amd64/LICENSE'), 0o644);
        assert.equal(mode('notes.txt'), 0o644);
      }
    });

    it('creates symbolic links that stay inside', async function () {
      if (!posix) this.skip();
      const file = write(
        fresh('links') + '.zip',
        buildZip([
          { name: 'bin/tool', data: 'tool', mode: 0o755 },
          { name: 'tool', data: 'bin/tool', symlink: true },
        ]),
      );
      const dest = fresh('dest');
      await extractArchive(file, dest, 'zip');
      assert.equal(fs.readlinkSync(path.join(dest, 'tool')), 'bin/tool');
      assert.equal(fs.readFileSync(path.join(dest, 'tool'), 'utf8'), 'tool');
    });

    const hostile: Array<[string, Parameters<typeof buildZip>[0], RegExp]> = [
      ['a ../ path', [{ name: '../evil', data: 'x' }], /entry '\.\.\/evil' contains '\.\.'/],
      ['a nested ../ path', [{ name: 'a/../../evil', data: 'x' }], /contains '\.\.'/],
      ['a backslash ..\\ path', [{ name: 'a\\..\\..\\evil', data: 'x' }], /contains '\.\.'/],
      ['an absolute path', [{ name: '/tmp/shha-abs-evil-zip', data: 'x' }], /has an absolute path/],
      ['a drive-letter path', [{ name: 'C:/evil', data: 'x' }], /has an absolute path/],
      ['a symlink to ../..', [{ name: 'link', data: '../../etc', symlink: true }], /outside the destination/],
      ['an absolute symlink', [{ name: 'link', data: '/etc/passwd', symlink: true }], /absolute path '\/etc\/passwd'/],
    ];
    for (const [title, entries, re] of hostile) {
      it(`refuses ${title} and writes nothing`, async () => {
        const file = write(fresh('hostile') + '.zip', buildZip([{ name: 'ok.txt', data: 'fine' }, ...entries]));
        const parent = fresh('parent');
        fs.mkdirSync(parent);
        const dest = path.join(parent, 'dest');
        await assert.rejects(extractArchive(file, dest, 'zip'), (err: unknown) => {
          assert.ok(err instanceof StackHubError, String(err));
          assert.match(err.message, /^refusing to extract /);
          assert.match(err.message, re);
          return true;
        });
        assert.deepEqual(fs.readdirSync(parent), []);
        assert.ok(!fs.existsSync('/tmp/shha-abs-evil-zip'));
      });
    }

    it('refuses a chain of links that escapes on disk', async function () {
      if (!posix) this.skip();
      const file = write(
        fresh('chain') + '.zip',
        buildZip([
          { name: 'b', data: '.', symlink: true },
          { name: 'a', data: 'b/../outside', symlink: true },
        ]),
      );
      const dest = fresh('dest');
      await assert.rejects(extractArchive(file, dest, 'zip'), /entry 'a' is a symbolic link that resolves outside/);
      assert.ok(!fs.existsSync(dest));
    });

    it('refuses writing through a link from the same archive', async function () {
      if (!posix) this.skip();
      const file = write(
        fresh('through') + '.zip',
        buildZip([
          { name: 'd/', mode: 0o755 },
          { name: 'l', data: 'd', symlink: true },
          { name: 'l/x', data: 'x', symlink: true },
        ]),
      );
      await assert.rejects(extractArchive(file, fresh('dest'), 'zip'), /through a symbolic link/);
    });

    it('a truncated zip is a StackHubError', async () => {
      const good = buildZip([{ name: 'a', data: 'a' }]);
      const file = write(fresh('trunc') + '.zip', good.subarray(0, good.length - 10));
      await assert.rejects(extractArchive(file, fresh('dest'), 'zip'), StackHubError);
    });
  });

  describe('findExecutable', () => {
    let root: string;
    before(() => {
      root = fresh('find');
      write(path.join(root, 'x', 'y', 'helm'), 'deep');
      write(path.join(root, 'b', 'helm'), 'b');
      write(path.join(root, 'a', 'helm.exe'), 'a');
      write(path.join(root, 'a', 'kubectl-helm'), 'not it');
      fs.mkdirSync(path.join(root, 'helm'), { recursive: true }); // a directory named helm is not a match
      write(path.join(root, 'c', 'deeper', 'kubectl'), 'k');
    });

    it('returns the shallowest match, in name order within a depth', async () => {
      assert.equal(await findExecutable(root, 'helm'), path.join(root, 'a', 'helm.exe'));
    });
    it('finds a deeper file when nothing shallower matches', async () => {
      assert.equal(await findExecutable(root, 'kubectl'), path.join(root, 'c', 'deeper', 'kubectl'));
    });
    it('returns undefined when nothing matches, or the root is missing', async () => {
      assert.equal(await findExecutable(root, 'oc'), undefined);
      assert.equal(await findExecutable(path.join(root, 'missing'), 'helm'), undefined);
    });
    it('prefers the top level', async () => {
      const r = fresh('top');
      write(path.join(r, 'a', 'tool'), 'a');
      write(path.join(r, 'tool'), 'top');
      assert.equal(await findExecutable(r, 'tool'), path.join(r, 'tool'));
    });
  });
});
