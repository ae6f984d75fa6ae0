/** Files of src/ stay under ~400 lines, split by responsibility (developers' guide); the allow-list says why not yet. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');
const MAX = 400;

/** Files over {@link MAX} lines today (relative to src/) → why. An entry for a file now short enough fails too. */
const ALLOWED: Record<string, string> = {
  'helm-release/engine.ts': 'not split yet: the per-site steps (preflight, upgrade, verify, rollback) are the clean cut',
  'helm-release/inputs.ts': 'not split yet: the ReleaseSite resolution (per-site parse) is the clean cut',
  'mongo/inputs.ts': 'not split yet (the splits work ran out of time): the withCommands/withWhen table is the clean cut',
  'aks-engine/inputs.ts': 'not split yet (the splits work ran out of time)',
  'shared/archive.ts': 'not split yet (the splits work ran out of time)',
  'shared/kit.ts': 'not split yet (the splits work ran out of time)',
  'shared/storage/sets.ts': 'not split yet (the splits work ran out of time)',
  'shared/azure-stack/credential.ts': 'not split yet (the splits work ran out of time)',
};

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.(ts|mts|cts)$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('contract: src/ files under 400 lines', () => {
  const sizes = new Map(walk(SRC).map((f) => [path.relative(SRC, f).split(path.sep).join('/'), fs.readFileSync(f, 'utf8').split('\n').length - 1]));

  it('no src/ file is over 400 lines unless the allow-list says why', () => {
    assert.ok(sizes.size > 50, 'found the files of src/');
    const over = [...sizes].filter(([f, n]) => n > MAX && !(f in ALLOWED)).map(([f, n]) => `${f} (${n} lines)`);
    assert.deepEqual(over, [], `split by responsibility:\n  ${over.join('\n  ')}`);
  });

  it('every allow-list entry is still over 400 lines and has a reason', () => {
    for (const [f, why] of Object.entries(ALLOWED)) {
      assert.ok(why.trim().length > 10, `${f}: give a reason`);
      assert.ok((sizes.get(f) ?? 0) > MAX, `${f} is ${sizes.get(f) ?? 'not'} lines now: remove it from the allow-list`);
    }
  });
});
