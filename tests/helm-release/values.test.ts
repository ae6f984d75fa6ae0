/**
 * The desired user values (values files deep-merged, then --set, then --set-string) must equal what the REAL helm
 * stores for a release (`config` of `helm install --dry-run=client -o json`, helm 4 offline), or the idempotent
 * no-op would be wrong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from '../../src/shared/errors';
import { applySet, canonicalJson, computeValues, escapeSetValue, sameValues, valuesHash, type SetArg } from '../../src/helm-release/values';
import { CHART_DIR, helmLayers } from './world';

function helmConfig(helm: string, files: string[], sets: SetArg[]): Promise<unknown> {
  const args = ['install', 'r', CHART_DIR, '--dry-run=client', '-o', 'json', '--namespace', 'ns', ...files.flatMap((f) => ['--values', f]), ...sets.flatMap((s) => [`--${s.kind}`, s.expr])];
  return new Promise((resolve, reject) =>
    execFile(helm, args, { env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir(), KUBECONFIG: '/dev/null' }, maxBuffer: 64 << 20 }, (e, out, err) =>
      e ? reject(new Error(err)) : resolve((JSON.parse(out) as { config: unknown }).config ?? {}),
    ),
  );
}

describe('helm-release values (as helm stores them)', function () {
  this.timeout(60_000);
  let dir: string;
  let helm4: string;
  before(async () => {
    helm4 = (await helmLayers()).v34.helm;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-values-'));
    fs.writeFileSync(path.join(dir, 'a.yaml'), 'image:\n  repository: apps/ratings\n  tag: "1.0"\nlist: [1, 2, 3]\nflag: yes\nnested: {keep: 1, replace: {x: 1}}\nempty:\n');
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'image:\n  tag: "2.0"\nlist: [9]\nnested: {replace: 5}\nextra: 1.5\n');
    fs.writeFileSync(path.join(dir, 'empty.yaml'), '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[], SetArg[]][] = [
    ['files deep-merged, lists replaced', ['a.yaml', 'b.yaml'], []],
    ['an empty file is no values', ['empty.yaml', 'a.yaml'], []],
    ['typed --set: ints, bools, null, leading zero and floats stay strings', [], [{ kind: 'set', expr: 'a.b=1,c=true,d=null,e=010,f=1.5,g=0,h=-3,i=TRUE' }]],
    ['--set lists and indexes', [], [{ kind: 'set', expr: 'l={a,b,1}' }, { kind: 'set', expr: 'm[1]=x,m[0].k=v' }, { kind: 'set', expr: 'n[0][1]=y' }]],
    ['escaped commas and dots', [], [{ kind: 'set', expr: 'a\\.b=1' }, { kind: 'set-string', expr: `msg=${escapeSetValue('a,b\\c')}` }]],
    ['--set-string after --set, whatever the order given', ['a.yaml'], [{ kind: 'set-string', expr: 'image.tag=1.10' }, { kind: 'set', expr: 'image.tag=3' }, { kind: 'set', expr: 'replicaCount=2' }]],
    ['later --set wins', [], [{ kind: 'set', expr: 'x=1' }, { kind: 'set', expr: 'x=2,y=' }]],
  ];
  for (const [name, files, sets] of cases) {
    it(name, async () => {
      const abs = files.map((f) => path.join(dir, f));
      const want = await helmConfig(helm4, abs, sets);
      const got = computeValues({ files: abs, sets }, 'set');
      assert.equal(canonicalJson(got), canonicalJson(want));
      assert.ok(sameValues(got, want));
    });
  }

  it('hash is stable across key order, differs on any change', () => {
    assert.equal(valuesHash({ a: 1, b: { c: 2, d: 3 } }), valuesHash({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(valuesHash({ a: 1 }), valuesHash({ a: '1' }));
    assert.match(valuesHash({}), /^sha256:[0-9a-f]{64}$/);
  });

  it('bad --set and bad files are InputErrors naming the input', () => {
    assert.throws(() => computeValues({ files: [], sets: [{ kind: 'set', expr: 'novalue' }] }, 'set'), (e: Error) => e instanceof InputError && /input 'set'.*has no value/.test(e.message));
    assert.throws(() => computeValues({ files: [path.join(dir, 'missing.yaml')], sets: [] }, 'valuesFiles'), /input 'valuesFiles': cannot read/);
    fs.writeFileSync(path.join(dir, 'list.yaml'), '- a\n- b\n');
    assert.throws(() => computeValues({ files: [path.join(dir, 'list.yaml')], sets: [] }, 'sitesFile'), /input 'sitesFile'.*mapping/);
    assert.throws(() => applySet({}, 'a[x]=1', false), /invalid index/);
  });
});
