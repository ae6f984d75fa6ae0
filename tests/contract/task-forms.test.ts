/**
 * Task forms show only what matters (issue 14 item 10): the visibleRules generated from the input definitions'
 * `commands` / `when` are valid ADO rules (one of && or ||, no parentheses, comparing pickList inputs with their
 * options), say exactly what the definitions say for every command, and give the forms below — written out by hand
 * here, so a definition that loses or gains a condition shows up as a changed form.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAPABILITIES } from '../../src/capabilities';
import { onChannel } from '../../src/platform/inputs';
import { conditionsOf } from '../../src/platform/visibility';
import { evaluateVisibleRule, visibleInputs } from '../helpers/visible-rule';

interface TaskJson {
  inputs: { name: string; type: string; defaultValue?: unknown; visibleRule?: string; groupName?: string; options?: Record<string, string> }[];
  groups?: { name: string; visibleRule?: string }[];
}
const ROOT = path.resolve(__dirname, '..', '..');
const task = (folder: string): TaskJson => JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', folder, 'task.json'), 'utf8')) as TaskJson;

describe('task forms: visible inputs per command', () => {
  for (const e of CAPABILITIES) {
    const t = task(e.task.folder);
    const defs = e.capability.inputs.filter((d) => onChannel(d, 'azure-pipelines'));
    describe(e.task.name, () => {
      it('every visibleRule is one the task editor accepts', () => {
        const rules = [...t.inputs.map((i) => [i.name, i.visibleRule] as const), ...(t.groups ?? []).map((g) => [`group ${g.name}`, g.visibleRule] as const)].filter(([, r]) => r);
        for (const [owner, rule] of rules) {
          assert.doesNotThrow(() => evaluateVisibleRule(rule!, () => ''), owner);
          for (const m of rule!.matchAll(/([A-Za-z][A-Za-z0-9]*)\s*(?:==|=|!=)\s*(\S+)/g)) {
            const ref = t.inputs.find((i) => i.name === m[1]);
            assert.ok(ref && (ref.type === 'pickList' || ref.type === 'radio'), `${owner}: '${m[1]}' is not a pickList or radio input`);
            assert.ok(Object.keys(ref.options ?? {}).includes(m[2]), `${owner}: '${m[2]}' is not an option of ${m[1]}`);
          }
        }
      });

      const command = t.inputs.find((i) => i.name === 'command');
      const pick = (n: string): string[] => Object.keys(t.inputs.find((i) => i.name === n)?.options ?? {});
      const dims = [...new Set(defs.flatMap((d) => [...conditionsOf(d).keys()]))];
      it(`for every combination of ${dims.join(', ') || 'nothing'}, the form shows exactly the inputs whose definitions apply`, () => {
        let combos: Record<string, string>[] = [{}];
        for (const d of dims) combos = combos.flatMap((c) => [...pick(d), ...(defs.find((x) => x.name === d)?.required || defs.find((x) => x.name === d)?.default !== undefined ? [] : [''])].map((v) => ({ ...c, [d]: v })));
        assert.ok(combos.length <= 2000, `${combos.length} combinations`);
        for (const values of combos) {
          const value = (n: string): string => values[n] ?? defs.find((d) => d.name === n)?.default ?? '';
          const want = defs.filter((d) => [...conditionsOf(d)].every(([n, vs]) => vs.includes(value(n)))).map((d) => d.name);
          const groupOk = (g?: string) => !g || defs.filter((d) => d.group === g).some((d) => want.includes(d.name));
          assert.deepEqual(visibleInputs(t, values), want.filter((n) => groupOk(defs.find((d) => d.name === n)!.group)), JSON.stringify(values));
        }
      });
      if (command) it('has a command input whose options the conditions use', () => assert.ok(pick('command').length > 1));
    });
  }

  it('task.json help links to the published docs, never to a file the .vsix does not hold', () => {
    for (const e of CAPABILITIES) {
      const t = JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', e.task.folder, 'task.json'), 'utf8')) as { helpUrl?: string; helpMarkDown: string; inputs: { name: string; helpMarkDown?: string }[] };
      assert.match(t.helpUrl ?? '', /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/main\/docs\/tasks\/\w+\.md$/);
      assert.ok(fs.existsSync(path.join(ROOT, t.helpUrl!.replace(/^.*\/blob\/main\//, ''))), `${t.helpUrl} names a file of this repository`);
      for (const [owner, text] of [['task', t.helpMarkDown], ...t.inputs.map((i) => [i.name, i.helpMarkDown ?? ''])]) {
        const bare = text.replace(/\[[^\]]*\]\([^)]*\)/g, '');
        assert.doesNotMatch(bare, /(?:^|[\s(])(?:docs|src)\/[\w./-]+\.(?:md|json)/, `${e.task.name} ${owner}: a repository path without a link`);
        for (const m of text.matchAll(/\]\(([^)]+)\)/g)) assert.match(m[1], /^https:\/\//, `${e.task.name} ${owner}: relative link ${m[1]}`);
      }
    }
  });

  const shown = (folder: string, values: Record<string, string>) => new Set(visibleInputs(task(folder), values));
  const has = (set: Set<string>, yes: string[], no: string[], what: string) => {
    for (const n of yes) assert.ok(set.has(n), `${what}: ${n} should be shown`);
    for (const n of no) assert.ok(!set.has(n), `${what}: ${n} should be hidden`);
  };

  it('Mongo: a backup form has no restore, drill or retention inputs; each other command its own', () => {
    assert.deepEqual(
      [...shown('StackHubMongoBackupV1', { command: 'backup' })],
      ['command', 'site', 'sitesFile', 'scope', 'database', 'place', 'connectionString', 'readPreference', 'dumpExtraArgs', 'kubernetesConnection', 'kubeconfigSecureFile', 'timeoutMinutes', 'storageKind', 'storagePrefix', 'storagePath', 'storageLocation', 'storageCaCertificate', 'storageRetries', 'allowSameHub', 'encryption', 'encryptionRecipients', 'signingKey', 'signingKeySecureFile'],
    );
    has(shown('StackHubMongoBackupV1', { command: 'restore', scope: 'database', place: 'kubectl-exec' }), ['backupId', 'drop', 'targetDatabase', 'ageIdentity', 'verifyKey', 'podSelector', 'restoreExtraArgs'], ['encryptionRecipients', 'signingKey', 'keepLast', 'drillTarget', 'dumpExtraArgs', 'collection'], 'restore');
    // a secure file stands beside its secret input, shown for the same commands
    has(shown('StackHubMongoBackupV1', { command: 'restore' }), ['ageIdentity', 'ageIdentitySecureFile'], ['signingKey', 'signingKeySecureFile'], 'restore: the age identity as a secure file');
    has(shown('StackHubAksEngineV1', { command: 'get-logs' }), ['sshPrivateKey', 'sshPrivateKeySecureFile'], [], 'get-logs: the SSH key as a secure file');
    has(shown('StackHubAksEngineV1', { command: 'versions' }), [], ['sshPrivateKey', 'sshPrivateKeySecureFile'], 'versions: no SSH key');
    has(shown('StackHubMongoBackupV1', { command: 'prune' }), ['keepLast', 'keepDays', 'orphanGraceHours', 'dryRun', 'storageKind'], ['connectionString', 'backupId', 'ageIdentity', 'encryptionRecipients'], 'prune');
    has(shown('StackHubMongoBackupV1', { command: 'drill', place: 'kubectl-exec', drillTarget: 'scratch' }), ['drillTarget', 'scratchConnectionString', 'scratchPodSelector', 'ageIdentity'], ['drop', 'keepLast'], 'drill');
    has(shown('StackHubMongoBackupV1', { command: 'drill', drillTarget: 'same-instance' }), ['drillTarget'], ['scratchConnectionString', 'scratchPodSelector'], 'drill in the same instance');
    has(shown('StackHubMongoBackupV1', { command: 'backup', storageKind: 's3' }), ['s3Endpoint', 's3SecretAccessKey'], ['storageAccountKey', 'storagePath'], 's3');
    has(shown('StackHubMongoBackupV1', { command: 'primary-move', place: 'kubectl-exec' }), ['site', 'sitesFile', 'podSelector', 'maxLagSeconds', 'stepDownSeconds', 'allowForceReconfig', 'timeoutMinutes'], ['storageKind', 'storagePrefix', 'ageIdentity', 'encryption', 'backupId', 'keepLast'], 'primary-move');
    has(shown('StackHubMongoBackupV1', { command: 'primary-status' }), ['connectionString'], ['maxLagSeconds', 'allowForceReconfig', 'storageKind', 'verifyKey'], 'primary-status');
  });

  it('Release: the per-site commands show only what they use', () => {
    has(shown('StackHubHelmReleaseV1', { command: 'run' }), ['chart', 'strategy', 'maxParallel', 'dryRun', 'allowedRegistries'], ['site', 'kubernetesConnection', 'recordFiles'], 'run');
    has(shown('StackHubHelmReleaseV1', { command: 'upgrade' }), ['site', 'kubernetesConnection', 'chart', 'recordFiles', 'atomic'], ['maxParallel', 'dryRun', 'allowedRegistries', 'helmTest'], 'upgrade');
    has(shown('StackHubHelmReleaseV1', { command: 'rollback' }), ['site', 'recordFiles', 'timeoutSeconds'], ['chart', 'valuesFiles', 'atomic', 'helmTest', 'maxLoadBalancers'], 'rollback');
    assert.ok(task('StackHubHelmReleaseV1').inputs.filter((i) => i.visibleRule).length >= 40, 'most release inputs are conditional');
  });

  it('Traffic: each provider shows its own inputs only', () => {
    has(shown('StackHubTrafficSwapV1', { command: 'failover', trafficProvider: 'rfc2136' }), ['trafficDnsServer', 'trafficTsigKey', 'trafficDnsZone'], ['trafficProfile', 'trafficClientSecret', 'trafficDnsHub'], 'rfc2136');
    has(shown('StackHubTrafficSwapV1', { command: 'failover', trafficProvider: 'azure-traffic-manager' }), ['trafficProfile', 'trafficClientSecret', 'trafficFederatedTokenPath'], ['trafficDnsServer', 'trafficTsigKey', 'trafficDnsHub'], 'Traffic Manager');
    has(shown('StackHubTrafficSwapV1', { command: 'status', trafficProvider: 'azure-stack-dns' }), ['trafficHubConnection', 'trafficDnsHub', 'trafficDnsZone', 'trafficClientSecret'], ['trafficProfile', 'trafficTsigKey', 'site', 'weights'], 'Hub DNS');
  });
});
