/**
 * Bad input: one line naming the input, a failed run, no stack trace, no site touched (no cluster call at all) and no
 * record written.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { helmReleaseInputs } from '../../src/helm-release/inputs';
import { parseCommandLine } from '../../src/platform/cli';
import { installHelmDouble } from '../helpers/helm-double';
import { World, chartVersion } from './world';

describe('helm-release bad input', function () {
  this.timeout(120_000);
  let w: World;
  before(async () => {
    w = await new World(['a', 'b']).start();
  });
  after(() => w.close());

  async function bad(extra: Record<string, string>, want: RegExp, setup?: () => void): Promise<void> {
    setup?.();
    w.helm.clearCalls();
    w.api.requests.length = 0;
    const recordDir = path.join(w.dir, 'agent-temp', 'stackhub-ha-release');
    fs.rmSync(recordDir, { recursive: true, force: true });
    const r = await w.run(extra);
    assert.equal(r.ok, false, `expected a failure for ${JSON.stringify(extra)}`);
    assert.match(r.failed!, want);
    assert.doesNotMatch(r.failed!, /\n/);
    assert.doesNotMatch(r.log, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
    assert.deepEqual(w.helm.calls().filter((c) => c.argv[0] !== 'version').map((c) => c.argv.join(' ')), [], 'no helm call beyond version');
    assert.equal(w.api.requests.filter((q) => q.site).length, 0, 'no cluster request');
    assert.ok(!fs.existsSync(recordDir), 'no record written');
  }

  const sitesWith = (doc: unknown): string => {
    const f = path.join(w.dir, `sites-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(f, typeof doc === 'string' ? doc : YAML.stringify(doc));
    return f;
  };
  const site = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    name,
    cluster: { kubeconfig: { file: path.join(w.dir, 'kube', 'a.yaml') }, context: 'a-ctx', namespace: 'ratings' },
    ...extra,
  });

  beforeEach(() => {
    w.api.requests.length = 0;
  });

  it('sites file missing', () => bad({ sitesFile: path.join(w.dir, 'nope.yaml') }, /^input 'sitesFile': expected a readable file, cannot read .*nope\.yaml$/));
  it('sites file with an unknown key', () => bad({ sitesFile: sitesWith({ sites: [site('a', { colour: 'red' })] }) }, /^input 'sitesFile': .*sites\[0\]: unknown key 'colour'/));
  it('sites file with duplicate names', () => bad({ sitesFile: sitesWith({ sites: [site('a'), site('a')] }) }, /^input 'sitesFile': .*sites\[1\]\.name: 'a' is used twice/));
  it('sites file with no sites', () => bad({ sitesFile: sitesWith({ sites: [] }) }, /^input 'sitesFile': .*expected at least 1 entry/));
  it('kubeconfig unreadable', () => bad({ sitesFile: sitesWith({ sites: [site('a', { cluster: { kubeconfig: { file: 'missing.yaml' }, namespace: 'n' } })] }) }, /^input 'sitesFile': cannot read .*missing\.yaml$/));
  it('kubeconfig environment variable not set', () =>
    bad({ sitesFile: sitesWith({ sites: [site('a', { cluster: { kubeconfig: { env: 'NOT_SET_ANYWHERE' }, namespace: 'n' } })] }) }, /^input 'sitesFile': environment variable NOT_SET_ANYWHERE is not set/));
  it('kubeconfig context missing', () =>
    bad({ sitesFile: sitesWith({ sites: [site('a', { cluster: { kubeconfig: { file: path.join(w.dir, 'kube', 'a.yaml') }, context: 'nope', namespace: 'n' } })] }) }, /^input 'sitesFile': the kubeconfig of site a: context 'nope' does not exist \(contexts: a-ctx\)$/));
  it('kubeconfig that is not one', () => {
    const f = path.join(w.dir, 'not-kube.yaml');
    fs.writeFileSync(f, 'hello: world\n');
    return bad({ sitesFile: sitesWith({ sites: [site('a', { cluster: { kubeconfig: { file: f }, namespace: 'n' } })] }) }, /^input 'sitesFile': the kubeconfig of site a is not a valid kubeconfig/);
  });
  it('no namespace anywhere', () => bad({ sitesFile: sitesWith({ sites: [site('a', { cluster: { kubeconfig: { file: path.join(w.dir, 'kube', 'a.yaml') }, context: 'a-ctx' } })] }) }, /^input 'namespace': site a has no cluster\.namespace/));
  it('chart not found', () => bad({ chart: path.join(w.dir, 'no-chart') }, /^input 'chart': chart not found: .*no-chart does not exist/));
  it('chart version invalid', () => bad({ chartVersion: 'latest!' }, /^input 'chartVersion': expected a chart version like 1\.2\.3 or a range like ~1\.2, got 'latest!'$/));
  it('chart version not the local chart\'s', () => bad({ chartVersion: '9.9.9' }, /^input 'chartVersion': the chart at .* is ratings 1\.2\.0, not 9\.9\.9$/));
  it('oci reference with a tag', () => bad({ chart: 'oci://registry.corp.local/charts/ratings:1.2.0' }, /^input 'chart': expected oci:\/\/<registry>\/<path>\/<chart> without a tag/));
  it('release name invalid', () => bad({ release: 'Ratings_App' }, /^input 'release': expected a helm release name/));
  it('helm older than 3.13', () => {
    const old = installHelmDouble({ dir: path.join(w.dir, 'old-helm'), version: '3.12.3' });
    return bad({ helmPath: old.bin }, /^input 'helmPath': helm 3\.12\.3 is older than 3\.13\.0: install helm 3\.13 or later \(or helm 4\)$/);
  });
  it('helm not found', () => bad({ helmPath: 'helm-that-does-not-exist' }, /^input 'helmPath': helm 'helm-that-does-not-exist' is not on PATH: set helmPath or run the tool setup task/));
  it('maxParallel < 1', () => bad({ strategy: 'parallel', maxParallel: '0' }, /^input 'maxParallel': expected a whole number of at least 1, got '0'$/));
  it('onFailure unknown', () => bad({ onFailure: 'retry' }, /^input 'onFailure': expected one of rollback-all, stop, continue, got 'retry'$/));
  it('per-site command without a site or a record', async () => {
    await bad({ command: 'upgrade' }, /^input 'site': is required for upgrade/);
    await bad({ command: 'rollback', site: 'a' }, /^input 'recordFiles': rollback needs the release record/);
    await bad({ command: 'run', site: 'a' }, /^input 'site': is for the per-site commands/);
    await bad({ command: 'upgrade', site: 'zz' }, /^input 'site': unknown site 'zz': expected one of a, b$/);
  });
  it('a record that does not match the release', async () => {
    const rec = path.join(w.dir, 'rec.json');
    fs.writeFileSync(rec, '{"schema":"something-else"}');
    await bad({ command: 'upgrade', site: 'a', recordFiles: rec }, /^input 'recordFiles': .*rec\.json: not a release record/);
    // a real record of the same sites, for another chart: detected once the chart is located, before any cluster call
    const good = await w.run({ command: 'preflight', recordPath: path.join(w.dir, 'pre.json') });
    assert.equal(good.ok, true, good.failed);
    await bad({ command: 'upgrade', site: 'a', recordFiles: path.join(w.dir, 'pre.json'), chart: chartVersion(w.dir, '2.0.0') }, /^input 'recordFiles': the record was made for chart ratings 1\.2\.0/);
    const other = JSON.parse(fs.readFileSync(path.join(w.dir, 'pre.json'), 'utf8'));
    other.siteOrder = ['b', 'a'];
    fs.writeFileSync(rec, JSON.stringify(other));
    await bad({ command: 'upgrade', site: 'a', recordFiles: rec }, /^input 'recordFiles': the record's sites \(b, a\) differ from the sites file's \(a, b\)$/);
  });
  it('bad values: shared --set, site values file', async () => {
    await bad({ set: 'just-a-key' }, /^input 'set': expected key=value, got 'just-a-key'$/);
    await bad({ valuesFiles: path.join(w.dir, 'no-values.yaml') }, /^input 'valuesFiles': cannot read the values file/);
    await bad({ set: 'a[x]=1' }, /^input 'set': --set 'a\[x\]=…': key "a" has an invalid index$/);
  });
  it('secrets are refused on the CLI command line (registry password)', () => {
    assert.throws(() => parseCommandLine(['--registry-password', 'hunter22'], helmReleaseInputs), /input 'registryPassword': secret values are not accepted on the command line/);
  });
});
