/**
 * The end-to-end suite's configuration (tests/e2e/env.ts) parsed strictly, and the e2e file itself as a maintainer
 * meets it without clusters: unset → skipped with the reason printed; a bad value → one line, non-zero, no stack.
 * (It cannot run against real clusters here: tests/e2e/README.md says where it has run.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { E2eConfigError, parseClusters, readE2eConfig } from '../e2e/env';
import { descendants } from '../e2e/proc';
import YAML from 'yaml';
import { ROOT } from '../helpers/harness';
import { layer } from '../helpers/tool-fixtures';

describe('e2e configuration (STACKHUB_E2E_*)', () => {
  let dir: string;
  let a: string;
  let b: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-env-'));
    a = path.join(dir, 'a.kubeconfig');
    b = path.join(dir, 'b.kubeconfig');
    fs.writeFileSync(a, 'apiVersion: v1\nkind: Config\n');
    fs.writeFileSync(b, 'apiVersion: v1\nkind: Config\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('unset or empty: skipped, with the reason', () => {
    for (const v of [undefined, '', '   ']) {
      const c = readE2eConfig({ STACKHUB_E2E_CLUSTERS: v });
      assert.match(c.skip ?? '', /^STACKHUB_E2E_CLUSTERS is not set/);
    }
  });

  it('name=path pairs, relative paths resolved, #context kept, tools from PATH by default', () => {
    const c = readE2eConfig({ STACKHUB_E2E_CLUSTERS: `site-a=${a},site-b=b.kubeconfig#ctx-b` }, dir);
    assert.equal(c.skip, undefined);
    if (c.skip !== undefined) return;
    assert.deepEqual(c.clusters, [
      { name: 'site-a', kubeconfig: a },
      { name: 'site-b', kubeconfig: b, context: 'ctx-b' },
    ]);
    assert.deepEqual(c.helm, { kind: 'PATH' });
    assert.deepEqual(c.kubectl, { kind: 'PATH' });
    assert.equal(c.timeoutSeconds, 180);
  });

  it('STACKHUB_E2E_HELM: 3.17 / 4.1 pick the layer packages (and their kubectl), or a path to an executable', () => {
    const base = { STACKHUB_E2E_CLUSTERS: `a=${a},b=${b}` };
    const v3 = readE2eConfig({ ...base, STACKHUB_E2E_HELM: '3.17' });
    assert.ok(v3.skip === undefined);
    if (v3.skip !== undefined) return;
    assert.deepEqual(v3.helm, { kind: 'layer', layer: 'v31', helmVersion: '3.17' });
    assert.deepEqual(v3.kubectl, v3.helm);
    const v4 = readE2eConfig({ ...base, STACKHUB_E2E_HELM: '4.1', STACKHUB_E2E_KUBECTL: process.execPath });
    assert.ok(v4.skip === undefined);
    if (v4.skip !== undefined) return;
    assert.deepEqual(v4.helm, { kind: 'layer', layer: 'v34', helmVersion: '4.1' });
    assert.deepEqual(v4.kubectl, { kind: 'path', path: process.execPath });
    const p = readE2eConfig({ ...base, STACKHUB_E2E_HELM: process.execPath });
    assert.ok(p.skip === undefined && p.helm.kind === 'path');
  });

  const bad: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['one cluster', { STACKHUB_E2E_CLUSTERS: 'a=A' }, /^STACKHUB_E2E_CLUSTERS: expected name=\/path\/to\/kubeconfig\[#context\],name=.* \(two or more clusters\); got 1$/],
    ['no name', { STACKHUB_E2E_CLUSTERS: 'A,B' }, /^STACKHUB_E2E_CLUSTERS: expected .*; 'A' has no name=$/],
    ['empty entry', { STACKHUB_E2E_CLUSTERS: 'a=A,,b=B' }, /^STACKHUB_E2E_CLUSTERS: expected .*; got an empty entry in 'a=.*,,b=.*'$/],
    ['bad name', { STACKHUB_E2E_CLUSTERS: 'Site_A=A,b=B' }, /^STACKHUB_E2E_CLUSTERS: site name 'Site_A' must be 1-40 of \[a-z0-9-\]/],
    ['duplicate name', { STACKHUB_E2E_CLUSTERS: 'a=A,a=B' }, /^STACKHUB_E2E_CLUSTERS: site name 'a' appears twice$/],
    ['missing file', { STACKHUB_E2E_CLUSTERS: 'a=A,b=/nonexistent/kubeconfig' }, /^STACKHUB_E2E_CLUSTERS: site 'b': \/nonexistent\/kubeconfig is not a readable file$/],
    ['no path', { STACKHUB_E2E_CLUSTERS: 'a=A,b=' }, /^STACKHUB_E2E_CLUSTERS: site 'b' has no kubeconfig path$/],
    ['empty context', { STACKHUB_E2E_CLUSTERS: 'a=A#,b=B' }, /^STACKHUB_E2E_CLUSTERS: site 'a' has an empty #context$/],
    ['helm version unknown', { STACKHUB_E2E_CLUSTERS: 'a=A,b=B', STACKHUB_E2E_HELM: '3.12' }, /^STACKHUB_E2E_HELM: expected '3\.17', '4\.1' or a path to the binary, got '3\.12'$/],
    ['helm not executable', { STACKHUB_E2E_CLUSTERS: 'a=A,b=B', STACKHUB_E2E_HELM: '/nonexistent/helm' }, /^STACKHUB_E2E_HELM: \/nonexistent\/helm is not an executable file$/],
    ['kubectl version string', { STACKHUB_E2E_CLUSTERS: 'a=A,b=B', STACKHUB_E2E_KUBECTL: '1.31' }, /^STACKHUB_E2E_KUBECTL: expected a path to the binary, got '1\.31'$/],
    ['timeout', { STACKHUB_E2E_CLUSTERS: 'a=A,b=B', STACKHUB_E2E_TIMEOUT: '5m' }, /^STACKHUB_E2E_TIMEOUT: expected whole seconds from 30 to 3600, got '5m'$/],
  ];
  for (const [name, env, expected] of bad) {
    it(`bad value (${name}): one line naming the variable`, () => {
      const e2 = { ...env, STACKHUB_E2E_CLUSTERS: env.STACKHUB_E2E_CLUSTERS?.replace(/=A\b/, `=${a}`).replace(/=B\b/, `=${b}`).replace(/=A#/, `=${a}#`) };
      assert.throws(() => readE2eConfig(e2, dir), (err: Error) => {
        assert.ok(err instanceof E2eConfigError);
        assert.match(err.message, expected);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    });
  }

  it('parseClusters keeps the order (the release order)', () => {
    assert.deepEqual(parseClusters(`z=${b},a=${a}`).map((c) => c.name), ['z', 'a']);
  });

  it('descendants: finds a grandchild in its own process group (Linux /proc)', async function () {
    if (!fs.existsSync(`/proc/${process.pid}/task/${process.pid}/children`)) {
      console.log('      skipped: no /proc/<pid>/task/<tid>/children on this kernel');
      this.skip();
    }
    // a child that starts a detached grandchild (as the product starts helm) and prints its pid
    const script = "const c=require('child_process').spawn('sleep',['30'],{detached:true,stdio:'ignore'});console.log(c.pid);setInterval(()=>{},1000)";
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const grandchild = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const found = descendants(child.pid!);
      assert.ok(found.includes(grandchild), `${grandchild} in ${found.join(',')}`);
      for (const pid of found) process.kill(pid, 'SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
    assert.deepEqual(descendants(2 ** 22 + 12345), []);
  });

  for (const l of ['v31', 'v34'] as const) {
    it(`the e2e chart, rendered by the real helm of ${l}: ConfigMaps and a ClusterIP Service only; LoadBalancers and the never-pulled Deployment only when asked`, async function () {
      this.timeout(120_000);
      const { helm, helmVersion } = await layer(l);
      const chart = path.join(ROOT, 'tests/fixtures/charts/e2e-app');
      const render = (set: string[] = []): { kind: string; spec?: { type?: string; template?: { spec: { containers: { image: string }[] } } } }[] => {
        const r = spawnSync(helm, ['template', 'e2e', chart, ...set.flatMap((x) => ['--set', x])], { encoding: 'utf8' });
        assert.equal(r.status, 0, `helm ${helmVersion}: ${r.stderr}`);
        return YAML.parseAllDocuments(r.stdout).map((d) => d.toJSON()).filter(Boolean);
      };
      const plain = render();
      assert.deepEqual(plain.map((o) => `${o.kind}${o.spec?.type ? `/${o.spec.type}` : ''}`), ['ConfigMap', 'ConfigMap', 'Service/ClusterIP']);
      assert.ok(!plain.some((o) => ['PersistentVolumeClaim', 'Deployment', 'Pod', 'Job', 'StatefulSet'].includes(o.kind)));
      assert.equal(render(['loadBalancers=6']).filter((o) => o.spec?.type === 'LoadBalancer').length, 6);
      const hold = render(['hold=true']).find((o) => o.kind === 'Deployment');
      assert.equal(hold?.spec?.template?.spec.containers[0].image, 'registry.invalid/stackhub-e2e/never-pulled:0');
    });
  }

  describe('the e2e file run as `npm run test:e2e` does, without clusters', function () {
    this.timeout(120_000);
    const mocha = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, [path.join(ROOT, 'node_modules/mocha/bin/mocha.js'), '--no-config', '--require', 'tsx/cjs', '--extension', 'ts', '--timeout', '60000', path.join(ROOT, 'tests/e2e/helm-release.e2e.test.ts')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: os.homedir(), ...env },
        encoding: 'utf8',
      });

    it('STACKHUB_E2E_CLUSTERS unset: exit 0, the skip reason printed, nothing run', () => {
      const r = mocha({});
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /SKIPPED: STACKHUB_E2E_CLUSTERS is not set \(name=\/path\/to\/kubeconfig,name=\/path\/to\/kubeconfig for two or more clusters\): see tests\/e2e\/README\.md/);
      assert.match(r.stdout, /0 passing/);
      assert.match(r.stdout, /6 pending/);
    });

    it('a bad value: non-zero, the one line, no stack trace', () => {
      const r = mocha({ STACKHUB_E2E_CLUSTERS: `only-one=${a}` });
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /STACKHUB_E2E_CLUSTERS: expected name=\/path\/to\/kubeconfig\[#context\],name=\/path\/to\/kubeconfig\[#context\] \(two or more clusters\); got 1/);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+/);
    });
  });
});
