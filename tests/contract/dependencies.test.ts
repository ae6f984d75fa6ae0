/**
 * package.json `dependencies` list exactly the packages that the bundles' own code imports at run time (from
 * esbuild's metafile of every task, action and the CLI): nothing used at run time hides in devDependencies, and
 * nothing unused is declared as a run-time dependency. Every one is pinned to an exact version.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runtimePackages } from '../../scripts/bundle';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe('contract: run-time dependencies', function () {
  this.timeout(180_000);
  let used: Map<string, string[]>;
  before(async () => {
    used = await runtimePackages();
  });

  it('every package the bundles import is a dependency (not a devDependency)', () => {
    const missing = [...used.keys()].filter((n) => !(n in pkg.dependencies)).map((n) => `${n} (imported by ${used.get(n)!.slice(0, 3).join(', ')})`);
    assert.deepEqual(missing, [], 'imported at run time but not in dependencies');
  });

  it('every dependency is imported by a bundle', () => {
    const unused = Object.keys(pkg.dependencies).filter((n) => !used.has(n));
    assert.deepEqual(unused, [], 'in dependencies but no bundle imports it: move it to devDependencies or remove it');
  });

  it('dependencies are pinned to exact versions and none is also a devDependency', () => {
    for (const [n, v] of Object.entries(pkg.dependencies)) {
      assert.match(v, /^\d+\.\d+\.\d+$/, `${n}@${v} is not an exact version`);
      assert.ok(!(n in pkg.devDependencies), `${n} is both a dependency and a devDependency`);
    }
  });
});
