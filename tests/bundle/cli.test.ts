/**
 * The one-file CLI as operators run it (dist/cli/stackhub-ha.js, Node 20 and 24): help at every level is what the
 * input definitions render (from the build's table, no core loaded), every command group's embedded core loads, and
 * the V8 code cache is private (0700/0600), used on the next run, refused when others could write it, survives a
 * corrupt file and is simply off where the temp dir cannot be written.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAPABILITIES } from '../../src/capabilities';
import { commandHelp } from '../../src/platform/cli';
import { renderGroupList } from '../../src/platform/cli-help';
import { sourceRuntime } from '../../src/cli/dev';
import { requireBuilt, runCli, runtimes } from '../helpers/harness';

const CACHE_ROOT = (tmp: string): string => path.join(tmp, `stackhub-ha.v8-cache.${process.getuid!()}`);

describe('one-file CLI (bundle)', function () {
  this.timeout(300_000);
  let tmp: string;
  before(() => requireBuilt());
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-bundle-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const rt of runtimes()) {
    it(`${rt.name}: --help at every level is rendered from the input definitions`, async () => {
      const overview = await runCli(['--help'], { node: rt.path, env: { TMPDIR: tmp } });
      assert.equal(overview.exitCode, 0);
      for (const e of CAPABILITIES) for (const c of e.cli.commands) assert.ok(overview.stdout.includes(`${e.cli.group} ${c.name}`), `${e.cli.group} ${c.name} in --help`);
      const table = sourceRuntime().table;
      for (const e of CAPABILITIES) {
        const g = await runCli([e.cli.group, '--help'], { node: rt.path, env: { TMPDIR: tmp } });
        assert.equal(g.stdout, `Commands of ${e.cli.group}:\n${renderGroupList(table.groups.find((x) => x.group === e.cli.group)!)}\n`);
        for (const c of e.cli.commands) {
          const h = await runCli([e.cli.group, c.name, '--help'], { node: rt.path, env: { TMPDIR: tmp } });
          assert.equal(h.exitCode, 0);
          assert.equal(h.stdout, commandHelp(`${e.cli.group} ${c.name}`, e.capability, c.fixed));
        }
      }
      // a command's help lists only the options that apply to it (the task form's commands/when conditions)
      const primary = (await runCli(['mongo', 'primary', 'status', '--help'], { node: rt.path, env: { TMPDIR: tmp } })).stdout;
      const backup = (await runCli(['mongo', 'backup', '--help'], { node: rt.path, env: { TMPDIR: tmp } })).stdout;
      assert.ok(!primary.includes('--storage-kind') && !primary.includes('--age-identity') && primary.includes('--connection-string'), primary);
      assert.ok(backup.includes('--storage-kind') && !backup.includes('--keep-last') && !backup.includes('--max-lag-seconds'), backup);
      // help compiles no module, so it writes no code cache
      assert.equal(fs.existsSync(path.join(CACHE_ROOT(tmp))) ? fs.readdirSync(CACHE_ROOT(tmp)).flatMap((d) => fs.readdirSync(path.join(CACHE_ROOT(tmp), d))).length : 0, 0);
    });

    it(`${rt.name}: every group's core loads from the file; a missing input is one line naming it`, async () => {
      for (const e of CAPABILITIES) {
        const c = e.cli.commands[0];
        const r = await runCli([e.cli.group, c.name], { node: rt.path, env: { TMPDIR: tmp, STACKHUB_HA_TRACE_LOAD: '1' } });
        assert.equal(r.exitCode, 1, `${e.cli.group} ${c.name}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`stackhub-ha load group:${e.cli.group}: `));
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
        assert.equal(errors.length, 1, r.stderr);
        assert.match(errors[0], /^error: input '\w+'/);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    });
  }

  it('keeps a private code cache that the next run uses; a corrupt file is rejected and rewritten', async () => {
    const env = { TMPDIR: tmp, STACKHUB_HA_TRACE_LOAD: '1' };
    const first = await runCli(['release', 'run'], { env });
    assert.match(first.stderr, /load group:release: .*code cache miss/);
    const root = CACHE_ROOT(tmp);
    assert.equal(fs.statSync(root).mode & 0o777, 0o700);
    const [dir] = fs.readdirSync(root);
    assert.match(dir, new RegExp(`^[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}$`));
    assert.equal(fs.statSync(path.join(root, dir)).mode & 0o777, 0o700);
    const file = path.join(root, dir, 'group_release.bin');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const second = await runCli(['release', 'run'], { env });
    assert.match(second.stderr, /load group:release: .*code cache hit/);
    assert.equal(second.stderr.split('\n').filter((l) => l.startsWith('error: ')).join('\n'), first.stderr.split('\n').filter((l) => l.startsWith('error: ')).join('\n'));
    fs.writeFileSync(file, Buffer.alloc(4096, 7));
    const corrupt = await runCli(['release', 'run'], { env });
    assert.match(corrupt.stderr, /load group:release: .*code cache rejected/);
    assert.equal(corrupt.exitCode, 1);
    assert.match((await runCli(['release', 'run'], { env })).stderr, /code cache hit/, 'rewritten after the rejection');
  });

  it('uses no cache directory that others can write, and runs without one where the temp dir is not writable', async () => {
    const root = CACHE_ROOT(tmp);
    fs.mkdirSync(root);
    fs.chmodSync(root, 0o777);
    const shared = await runCli(['release', 'run'], { env: { TMPDIR: tmp, STACKHUB_HA_TRACE_LOAD: '1' } });
    assert.match(shared.stderr, /load group:release: .*code cache off/);
    assert.deepEqual(fs.readdirSync(root), [], 'nothing written into a directory others can write');
    fs.writeFileSync(path.join(tmp, 'not-a-dir'), '');
    const ro = await runCli(['release', 'run'], { env: { TMPDIR: path.join(tmp, 'not-a-dir', 'x'), STACKHUB_HA_TRACE_LOAD: '1' } });
    assert.match(ro.stderr, /code cache off/);
    // the command still runs (its group loaded without a cache) and ends in one line: no run can go without a temp dir
    assert.match(ro.stderr, /^error: cannot create the run's private temp dir under .*not-a-dir\/x .*: ENOTDIR$/m);
    const off = await runCli(['release', 'run'], { env: { TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: '1', STACKHUB_HA_TRACE_LOAD: '1' } });
    assert.match(off.stderr, /code cache off/);
  });
});
