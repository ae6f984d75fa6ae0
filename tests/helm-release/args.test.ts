/**
 * helm 3 vs helm 4 argv: exact tables for the pure getArgs functions, then every argv checked against the REAL helm
 * 3.17 and 4.1 flag parsers (pointed at a closed port: a flag error comes first, "cluster unreachable" means the
 * flags were accepted), and the helm double held to the same verdicts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  getValuesArgs,
  historyArgs,
  kubectlGetArgs,
  lintArgs,
  pullArgs,
  registryLoginArgs,
  repoAddArgs,
  rollbackArgs,
  statusArgs,
  templateArgs,
  testArgs,
  uninstallArgs,
  upgradeArgs,
  type HelmMajor,
  type UpgradeOptions,
} from '../../src/helm-release/args';
import { installHelmDouble, type HelmDouble } from '../helpers/helm-double';
import { CHART_DIR, helmLayers } from './world';

const T = { kubeconfig: '/tmp/k/site.yaml', context: 'seattle', namespace: 'ratings' };
const V = { valuesFiles: ['/v/shared.yaml', '/v/seattle.yaml'], sets: [{ kind: 'set' as const, expr: 'replicaCount=2' }, { kind: 'set-string' as const, expr: 'image.tag=1.10' }] };
const KUBE = ['--namespace', 'ratings', '--kubeconfig', '/tmp/k/site.yaml', '--kube-context', 'seattle'];
const VALS = ['--values', '/v/shared.yaml', '--values', '/v/seattle.yaml', '--set', 'replicaCount=2', '--set-string', 'image.tag=1.10'];

function up(major: HelmMajor, extra: Partial<UpgradeOptions> = {}): UpgradeOptions {
  return { major, release: 'ratings', chart: '/c/ratings-1.2.0.tgz', target: T, ...V, timeoutSeconds: 600, wait: true, createNamespace: false, atomic: false, forceReplace: false, ...extra };
}

describe('helm-release argv (pure getArgs)', () => {
  const table: [string, string[], string[]][] = [
    ['upgrade, helm 3, wait', upgradeArgs(up(3)), ['upgrade', '--install', 'ratings', '/c/ratings-1.2.0.tgz', ...KUBE, ...VALS, '--timeout', '600s', '--wait']],
    ['upgrade, helm 4, wait', upgradeArgs(up(4)), ['upgrade', '--install', 'ratings', '/c/ratings-1.2.0.tgz', ...KUBE, ...VALS, '--timeout', '600s', '--wait=watcher']],
    ['upgrade, helm 3, no wait', upgradeArgs(up(3, { wait: false })), ['upgrade', '--install', 'ratings', '/c/ratings-1.2.0.tgz', ...KUBE, ...VALS, '--timeout', '600s']],
    [
      'upgrade, helm 3, atomic + force + create-namespace + description',
      upgradeArgs(up(3, { atomic: true, forceReplace: true, createNamespace: true, description: 'stackhub-ha release r1' })),
      ['upgrade', '--install', 'ratings', '/c/ratings-1.2.0.tgz', ...KUBE, ...VALS, '--timeout', '600s', '--wait', '--create-namespace', '--atomic', '--force', '--description', 'stackhub-ha release r1'],
    ],
    [
      'upgrade, helm 4, rollback-on-failure + force-replace (not the deprecated flags)',
      upgradeArgs(up(4, { atomic: true, forceReplace: true })),
      ['upgrade', '--install', 'ratings', '/c/ratings-1.2.0.tgz', ...KUBE, ...VALS, '--timeout', '600s', '--wait=watcher', '--rollback-on-failure', '--force-replace'],
    ],
    ['rollback, helm 3', rollbackArgs({ major: 3, release: 'ratings', revision: 4, target: T, timeoutSeconds: 300, wait: true }), ['rollback', 'ratings', '4', ...KUBE, '--timeout', '300s', '--wait']],
    ['rollback, helm 4', rollbackArgs({ major: 4, release: 'ratings', revision: 4, target: T, timeoutSeconds: 300, wait: true }), ['rollback', 'ratings', '4', ...KUBE, '--timeout', '300s', '--wait=watcher']],
    ['uninstall, helm 3', uninstallArgs({ major: 3, release: 'ratings', target: T, timeoutSeconds: 300, wait: true }), ['uninstall', 'ratings', ...KUBE, '--timeout', '300s', '--wait']],
    ['uninstall, helm 4', uninstallArgs({ major: 4, release: 'ratings', target: T, timeoutSeconds: 300, wait: true, description: 'd' }), ['uninstall', 'ratings', ...KUBE, '--timeout', '300s', '--wait=watcher', '--description', 'd']],
    ['history', historyArgs({ release: 'ratings', target: T }), ['history', 'ratings', ...KUBE, '--output', 'json']],
    ['status', statusArgs({ release: 'ratings', target: T }), ['status', 'ratings', ...KUBE, '--output', 'json']],
    ['get values', getValuesArgs({ release: 'ratings', target: T }), ['get', 'values', 'ratings', ...KUBE, '--output', 'json']],
    ['test', testArgs({ release: 'ratings', target: T, timeoutSeconds: 120 }), ['test', 'ratings', ...KUBE, '--timeout', '120s']],
    ['lint', lintArgs({ chart: '/c', ...V, kubeVersion: '1.31' }), ['lint', '/c', ...VALS, '--kube-version', '1.31']],
    [
      'template',
      templateArgs({ release: 'ratings', chart: '/c', namespace: 'ratings', ...V, kubeVersion: '1.31', apiVersions: ['monitoring.coreos.com/v1', 'policy/v1'], isUpgrade: true }),
      ['template', 'ratings', '/c', '--namespace', 'ratings', ...VALS, '--kube-version', '1.31', '--api-versions', 'monitoring.coreos.com/v1', '--api-versions', 'policy/v1', '--is-upgrade'],
    ],
    ['registry login (password on stdin)', registryLoginArgs({ host: 'registry.corp.local', username: 'ci', caFile: '/ca.pem' }), ['registry', 'login', 'registry.corp.local', '--username', 'ci', '--password-stdin', '--ca-file', '/ca.pem']],
    ['repo add (password on stdin)', repoAddArgs({ name: 'r', url: 'https://charts.corp.local', username: 'ci' }), ['repo', 'add', 'r', 'https://charts.corp.local', '--username', 'ci', '--password-stdin', '--force-update']],
    ['repo add, anonymous', repoAddArgs({ name: 'r', url: 'https://charts.corp.local', caFile: '/ca.pem' }), ['repo', 'add', 'r', 'https://charts.corp.local', '--ca-file', '/ca.pem', '--force-update']],
    ['pull', pullArgs({ ref: 'oci://registry.corp.local/charts/ratings', version: '1.2.0', destination: '/d', caFile: '/ca.pem' }), ['pull', 'oci://registry.corp.local/charts/ratings', '--version', '1.2.0', '--destination', '/d', '--ca-file', '/ca.pem']],
    [
      'kubectl get services (all namespaces)',
      kubectlGetArgs({ resource: 'services', allNamespaces: true, output: 'json', kubeconfig: '/k', context: 'c', cacheDir: '/cache', timeoutSeconds: 30 }),
      ['get', 'services', '--all-namespaces', '--output', 'json', '--kubeconfig', '/k', '--context', 'c', '--cache-dir', '/cache', '--request-timeout=30s'],
    ],
  ];
  for (const [name, got, want] of table) it(name, () => assert.deepEqual(got, want));

  it('no argv ever carries a password flag', () => {
    for (const [, got] of table) assert.ok(!got.some((a) => a === '--password' || a.startsWith('--password=') || a === '-p'), got.join(' '));
  });
});

/** Runs a binary, resolving to its exit code and stderr. */
function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile(bin, args, { env, timeout: 30_000 }, (e, _o, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stderr }));
    c.stdin?.end('pw\n');
  });
}

/** A flag-parser verdict from helm's stderr. */
function verdict(stderr: string): 'flags rejected' | 'flags accepted' {
  return /unknown flag|unknown shorthand|invalid argument|flag needs an argument/.test(stderr) ? 'flags rejected' : 'flags accepted';
}

describe('helm-release argv against the real helm 3.17 and 4.1 parsers (and the double)', function () {
  this.timeout(120_000);
  let dir: string;
  let kc: string;
  let env: NodeJS.ProcessEnv;
  const reals: Record<string, string> = {};
  const doubles: Record<string, HelmDouble> = {};

  before(async () => {
    const l = await helmLayers();
    reals['3'] = l.v31.helm;
    reals['4'] = l.v34.helm;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-argv-'));
    kc = path.join(dir, 'kc.yaml');
    fs.writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: abc}}]\ncontexts: [{name: seattle, context: {cluster: c, user: u}}]\ncurrent-context: seattle\n',
      { mode: 0o600 },
    );
    env = { PATH: '/usr/bin:/bin', HOME: dir, HELM_CACHE_HOME: path.join(dir, 'c'), HELM_CONFIG_HOME: path.join(dir, 'f'), HELM_DATA_HOME: path.join(dir, 'd') };
    doubles['3'] = installHelmDouble({ dir: path.join(dir, 'd3'), version: '3.17.3' });
    doubles['4'] = installHelmDouble({ dir: path.join(dir, 'd4'), version: '4.1.4' });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const target = (): typeof T => ({ ...T, kubeconfig: kc });
  const cases = (major: HelmMajor): [string, string[]][] => [
    ['upgrade', upgradeArgs({ ...up(major, { atomic: true, forceReplace: true, createNamespace: true, description: 'x y' }), chart: CHART_DIR, target: target(), valuesFiles: [], sets: V.sets })],
    ['rollback', rollbackArgs({ major, release: 'ratings', revision: 2, target: target(), timeoutSeconds: 60, wait: true })],
    ['uninstall', uninstallArgs({ major, release: 'ratings', target: target(), timeoutSeconds: 60, wait: true, description: 'd' })],
    ['history', historyArgs({ release: 'ratings', target: target() })],
    ['status', statusArgs({ release: 'ratings', target: target() })],
    ['get values', getValuesArgs({ release: 'ratings', target: target() })],
    ['test', testArgs({ release: 'ratings', target: target(), timeoutSeconds: 60 })],
  ];

  for (const major of [3, 4] as const) {
    it(`helm ${major}: every cluster argv is accepted by the real parser and by the double`, async () => {
      for (const [name, args] of cases(major)) {
        const real = await runBin(reals[String(major)], args, env);
        assert.equal(verdict(real.stderr), 'flags accepted', `real helm ${major} ${name}: ${real.stderr}`);
        assert.match(real.stderr, /cluster unreachable|connection refused/i, `real helm ${major} ${name} should fail only at the cluster: ${real.stderr}`);
        const dbl = await runBin(doubles[String(major)].bin, args, env);
        assert.equal(verdict(dbl.stderr), 'flags accepted', `double ${major} ${name}: ${dbl.stderr}`);
      }
    });

    it(`helm ${major}: the other version's wait and failure flags are handled exactly like the real helm does`, async () => {
      const other = major === 3 ? 4 : 3;
      const foreign = upgradeArgs({ ...up(other as HelmMajor, { atomic: true, forceReplace: true }), chart: CHART_DIR, target: target(), valuesFiles: [], sets: [] });
      const real = await runBin(reals[String(major)], foreign, env);
      const dbl = await runBin(doubles[String(major)].bin, foreign, env);
      if (major === 3) {
        // helm 3 rejects --wait=watcher and the helm 4 flags
        assert.equal(verdict(real.stderr), 'flags rejected', real.stderr);
        assert.equal(verdict(dbl.stderr), 'flags rejected', dbl.stderr);
        assert.equal(dbl.stderr.trim().split('\n').pop(), real.stderr.trim().split('\n').pop(), 'the double answers with the real error line');
      } else {
        // helm 4 still takes --atomic/--force and bare --wait, with deprecation warnings
        for (const s of [real.stderr, dbl.stderr]) {
          assert.equal(verdict(s), 'flags accepted', s);
          assert.match(s, /Flag --atomic has been deprecated, use --rollback-on-failure instead/);
          assert.match(s, /Flag --force has been deprecated, use --force-replace instead/);
        }
      }
    });
  }

  it('client-only argv (lint, template with kube and api versions) run on both real helms', async () => {
    for (const major of ['3', '4']) {
      const lint = await runBin(reals[major], lintArgs({ chart: CHART_DIR, valuesFiles: [], sets: V.sets, kubeVersion: '1.31' }), env);
      assert.equal(lint.code, 0, lint.stderr);
      const tpl = await runBin(reals[major], templateArgs({ release: 'ratings', chart: CHART_DIR, namespace: 'ratings', valuesFiles: [], sets: V.sets, kubeVersion: '1.29', apiVersions: ['monitoring.coreos.com/v1'] }), env);
      assert.equal(tpl.code, 0, tpl.stderr);
    }
  });
});
