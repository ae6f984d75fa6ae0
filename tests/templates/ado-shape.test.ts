/**
 * The shape of the Azure Pipelines templates, asserted on the example pipeline as Azure Pipelines compiles it for
 * each kind of run (push, pull request, nightly and weekly schedules, manual operations): stage order and
 * dependencies, conditions, the deployment jobs bound to each site's environment on the site's pool, the lock
 * behaviour, the DR runbook leaving the lost site out. The expanded pipelines also validate against the schema and
 * their task steps against the current task.json (the example's input objects included).
 */
import assert from 'node:assert/strict';
import { AdoValidator, checkTaskReferences, schemaMissing } from './helpers/ado';
import { ExpandError, expandTemplate } from './helpers/expand';
import { REPOS, dependenciesOf, expandExample, exampleSitesParameter, stepsOf, toYaml, type Job, type Stage, type Step } from './helpers/example';
import { readTasks } from './helpers/manifests';

const sites = exampleSitesParameter() as { name: string; pool: string; environment: string; azureStackConnection: string; kubernetesConnection: string }[];
const stagesOf = (doc: Record<string, unknown>): Stage[] => doc.stages as Stage[];
const jobId = (j: Job): string => (j.deployment ?? j.job)!;
const poolOf = (j: Job): string | undefined => (typeof j.pool === 'string' ? j.pool : j.pool?.name);
/** The capability steps of a job (the tool setup of preSteps left out). */
const tasksIn = (j: Job): Step[] => stepsOf(j).filter((s) => typeof s.task === 'string' && s.task.startsWith('StackHub') && s.task !== 'StackHubToolSetup@1');

/** Every kind of run of the example, expanded. */
const scenarios: [string, () => Record<string, unknown>][] = [
  ['push (release)', () => expandExample('push')],
  ['pull request (cluster validation)', () => expandExample('pullRequest')],
  ['nightly schedule (backup)', () => expandExample('nightly')],
  ['weekly schedule (backup + drill)', () => expandExample('weekly')],
  ['manual cluster-upgrade', () => expandExample('manual', { operation: 'cluster-upgrade' })],
  ['manual cluster-deploy, first deploy', () => expandExample('manual', { operation: 'cluster-deploy', firstDeploy: true })],
  ['manual dr-failover (dublin lost)', () => expandExample('manual', { operation: 'dr-failover', lostSite: 'dublin' })],
  ['manual dr-failover (seattle lost)', () => expandExample('manual', { operation: 'dr-failover', lostSite: 'seattle' })],
];

/** Checks that hold for every deployment job of every expanded pipeline. */
function deploymentProblems(stages: Stage[]): string[] {
  const problems: string[] = [];
  for (const st of stages) {
    for (const j of st.jobs) {
      if (!j.deployment) continue;
      const site = sites.find((s) => s.environment === j.environment);
      if (!site) problems.push(`${st.stage}/${j.deployment}: environment ${j.environment} is no site's`);
      else if (poolOf(j) !== site.pool) problems.push(`${st.stage}/${j.deployment}: pool ${poolOf(j)} is not ${site.name}'s ${site.pool}`);
      if (st.lockBehavior !== 'sequential') problems.push(`${st.stage}: lockBehavior ${st.lockBehavior} (the Exclusive Lock of ${j.environment} must queue runs, not cancel them)`);
      const steps = stepsOf(j);
      if (!('download' in (steps[0] ?? {})) || steps[0].download !== 'none') problems.push(`${st.stage}/${j.deployment}: first step is not 'download: none'`);
      for (const t of tasksIn(j)) {
        for (const k of ['kubernetesConnection', 'azureStackConnection']) {
          const v = t.inputs?.[k];
          if (v && site && v !== (site as Record<string, string>)[k]) problems.push(`${st.stage}/${j.deployment}: ${t.task} ${k} ${String(v)} is not ${site.name}'s`);
        }
      }
    }
  }
  return problems;
}

describe('templates: shape of the Azure Pipelines templates (the example, compiled)', () => {
  for (const [name, expand] of scenarios) {
    describe(name, () => {
      it('every StackHub step matches the current task.json, with the example\'s inputs filled in', () => {
        const doc = expand();
        assert.deepEqual(checkTaskReferences({ rel: `${name} (expanded)`, doc, parameters: new Map() }, readTasks()), []);
      });

      it('every deployment job: the site\'s environment on the site\'s pool with the site\'s connections, stage lockBehavior sequential', () => {
        assert.deepEqual(deploymentProblems(stagesOf(expand())), []);
      });

      it('validates against the schema once compiled', async function () {
        if (schemaMissing()) this.skip();
        const ps = await new AdoValidator().validateText(toYaml(expand()), 'pipeline', `${name}.yml`);
        assert.deepEqual(ps, []);
      });
    });
  }

  it('the pipeline queues for each site\'s lock instead of cancelling (lockBehavior: sequential)', () => {
    assert.equal(expandExample('push').lockBehavior, 'sequential');
  });

  describe('jobs/site-job.yml', () => {
    const site = { name: 'new-site', pool: 'hub-new', environment: 'ratings-new', kubernetesConnection: 'k' };
    const expandJob = (extra: Record<string, unknown> = {}): Job => expandTemplate('templates/jobs/site-job.yml', { site, name: 'release', steps: [{ script: 'echo hi' }], ...extra }, { repos: REPOS })[0] as Job;

    it('is a deployment job named after the site, on its pool, bound to its environment, running the given steps', () => {
      const j = expandJob();
      assert.equal(j.deployment, 'release_new_site');
      assert.equal(poolOf(j), 'hub-new');
      assert.equal(j.environment, 'ratings-new');
      assert.ok(j.strategy?.runOnce?.deploy, 'runOnce deployment');
      const steps = stepsOf(j);
      assert.deepEqual(steps.slice(0, 2), [{ download: 'none' }, { checkout: 'self' }]);
      assert.deepEqual(steps.slice(2), [{ script: 'echo hi' }]);
      assert.equal((j as { variables: Record<string, string> }).variables.STACKHUB_SITE, 'new-site');
    });

    it('passes dependsOn, condition and checkout none through', () => {
      const j = expandJob({ dependsOn: ['a'], condition: 'failed()', checkout: 'none' });
      assert.deepEqual(j.dependsOn, ['a']);
      assert.equal(j.condition, 'failed()');
      assert.deepEqual(stepsOf(j)[1], { checkout: 'none' });
    });
  });

  describe('stages/multi-site-release.yml', () => {
    const release = (): Stage[] => stagesOf(expandExample('push'));
    const artifactPrefix = 'release-record-';

    it('push: preflight of every site, pre-release backups, then one stage per site in order (the canary first), then the rollback stage', () => {
      const n = sites.map((x) => x.name);
      assert.deepEqual(release().map((x) => x.stage), [...n.map((x) => `release_preflight_${x}`), ...n.map((x) => `release_backup_${x}`), ...n.map((x) => `release_${x}`), 'release_rollback']);
    });

    it('preflight: every site in parallel, a plain job on the site\'s pool (no environment), the record published even on failure', () => {
      const stages = release();
      for (const [i, site] of sites.entries()) {
        const st = stages.find((x) => x.stage === `release_preflight_${site.name}`)!;
        assert.deepEqual(dependenciesOf(stages, stages.indexOf(st)), []);
        const [j] = st.jobs;
        assert.equal(j.job, 'preflight');
        assert.equal(j.environment, undefined);
        assert.equal(poolOf(j), site.pool);
        const [t] = tasksIn(j);
        assert.deepEqual([t.task, t.inputs?.command, t.inputs?.site, t.inputs?.kubernetesConnection, t.inputs?.releaseId], ['StackHubHelmRelease@1', 'preflight', site.name, site.kubernetesConnection, '$(Build.BuildId)']);
        const publish = stepsOf(j).find((x) => 'publish' in x)!;
        assert.equal(publish.condition, 'succeededOrFailed()');
        assert.ok(String(publish.artifact).startsWith(`${artifactPrefix}preflight-${site.name}-`), String(publish.artifact));
        void i;
      }
    });

    it('backups: after every preflight, one per site; each id reaches that site\'s upgrade (into the record)', () => {
      const stages = release();
      const preflights = sites.map((x) => `release_preflight_${x.name}`);
      for (const site of sites) {
        const b = stages.find((x) => x.stage === `release_backup_${site.name}`)!;
        assert.deepEqual(b.dependsOn, preflights);
        const [t] = tasksIn(b.jobs[0]);
        assert.deepEqual([t.inputs?.command, t.inputs?.site, t.name], ['backup', site.name, 'backup']);
        const r = stages.find((x) => x.stage === `release_${site.name}`)!;
        const vars = (r.jobs[0] as { variables: Record<string, string> }).variables;
        assert.equal(vars.stackhubBackupId, `$[ stageDependencies.release_backup_${site.name}.backup_${site.name}.outputs['backup_${site.name}.backup.backupId'] ]`);
        const up = tasksIn(r.jobs[0]).find((x) => x.inputs?.command === 'upgrade')!;
        assert.equal(up.inputs?.backupIds, `${site.name}=$(stackhubBackupId)`);
      }
    });

    it('sites go one by one: the canary after every preflight and backup, each next site after the one before', () => {
      const stages = release();
      const idx = (name: string): number => stages.findIndex((x) => x.stage === name);
      assert.deepEqual(new Set(dependenciesOf(stages, idx(`release_${sites[0].name}`))), new Set([...sites.map((x) => `release_preflight_${x.name}`), ...sites.map((x) => `release_backup_${x.name}`)]));
      for (let i = 1; i < sites.length; i++) assert.deepEqual(dependenciesOf(stages, idx(`release_${sites[i].name}`)), [`release_${sites[i - 1].name}`]);
    });

    it('each site stage: download the record, upgrade (drain → upgrade → gates → restore by the traffic coupling), verify, publish the record even on failure', () => {
      for (const site of sites) {
        const st = release().find((x) => x.stage === `release_${site.name}`)!;
        assert.equal(st.lockBehavior, 'sequential');
        const steps = stepsOf(st.jobs[0]);
        const dl = steps.find((x) => x.task === 'DownloadPipelineArtifact@2')!;
        assert.deepEqual(dl.inputs, { buildType: 'current', itemPattern: `${artifactPrefix}*/**`, targetPath: '$(Agent.TempDirectory)/release-record' });
        const t = tasksIn(st.jobs[0]);
        assert.deepEqual(t.map((x) => `${String(x.inputs?.command)}:${String(x.name)}`), ['upgrade:upgrade', 'verify:verify']);
        assert.equal(t[0].inputs?.recordFiles, '$(Agent.TempDirectory)/release-record');
        assert.equal(t[0].inputs?.trafficProvider, 'rfc2136', 'the traffic coupling drains and restores the site');
        for (const x of t) assert.deepEqual([x.inputs?.site, x.inputs?.releaseId, x.inputs?.release], [site.name, '$(Build.BuildId)', 'ratings']);
        const publish = steps[steps.length - 1];
        assert.equal(publish.condition, 'succeededOrFailed()');
        assert.ok(String(publish.artifact).startsWith(`${artifactPrefix}${site.name}-`));
        assert.ok(steps.indexOf(dl) < steps.indexOf(t[0]) && steps.indexOf(t[1]) < steps.indexOf(publish));
      }
    });

    it('rollback: only when a site stage failed, one job per site that its own upgrade reported changed (reachable), rolling back and restoring traffic', () => {
      const stages = release();
      const rb = stages[stages.length - 1];
      assert.equal(rb.stage, 'release_rollback');
      assert.deepEqual(rb.dependsOn, sites.map((x) => `release_${x.name}`));
      assert.equal(rb.condition, 'failed()');
      assert.deepEqual(rb.jobs.map(jobId), sites.map((x) => `rollback_${x.name}`));
      for (const [i, site] of sites.entries()) {
        const j = rb.jobs[i];
        assert.equal(j.condition, `contains(stageDependencies.release_${site.name}.release_${site.name}.outputs['release_${site.name}.upgrade.rollbackSites'], '"${site.name}"')`);
        const [t] = tasksIn(j);
        assert.deepEqual([t.inputs?.command, t.inputs?.site, t.inputs?.recordFiles, t.inputs?.trafficProvider], ['rollback', site.name, '$(Agent.TempDirectory)/release-record', 'rfc2136']);
      }
    });

    it('every record artifact name is unique per stage, site and attempt, and matched by the download pattern', () => {
      const names = release().flatMap((x) => x.jobs.flatMap((j) => stepsOf(j).filter((y) => 'publish' in y).map((y) => String(y.artifact))));
      assert.equal(names.length, sites.length * 3);
      assert.equal(new Set(names).size, names.length);
      for (const n of names) assert.ok(n.startsWith(artifactPrefix) && n.endsWith('-$(System.JobAttempt)'), n);
    });

    it('without pre-release backups, and with a third site (one more list entry)', () => {
      const third = [...sites, { name: 'new-york', pool: 'hub-ny', environment: 'ratings-ny', kubernetesConnection: 'ratings-ny-k8s' }];
      const stages = expandTemplate('templates/stages/multi-site-release.yml', { sites: third, sitesFile: 's.yaml', releaseInputs: { release: 'r', chart: 'c' }, backupBeforeRelease: false }, { repos: REPOS }) as Stage[];
      assert.deepEqual(stages.map((x) => x.stage), [...third.map((x) => `release_preflight_${x.name.replace('-', '_')}`), ...third.map((x) => `release_${x.name.replace('-', '_')}`), 'release_rollback']);
      assert.deepEqual(dependenciesOf(stages, stages.length - 2), ['release_dublin']);
      assert.ok(!JSON.stringify(stages).includes('stackhubBackupId'));
      const upgrades = stages.flatMap((x) => x.jobs.flatMap(tasksIn)).filter((t) => t.inputs?.command === 'upgrade');
      assert.deepEqual(upgrades.map((t) => t.inputs?.backupIds), ['', '', '']);
      const ny = stages.find((x) => x.stage === 'release_new_york')!;
      assert.equal(ny.jobs[0].deployment, 'release_new_york');
      assert.equal(ny.jobs[0].environment, 'ratings-ny');
    });
  });

  describe('stages/backup.yml', () => {
    it('scheduled: one stage per site, each backing up then pruning on the site\'s own pool, then the drill of the weekly schedule only', () => {
      const stages = stagesOf(expandExample('nightly'));
      assert.deepEqual(stages.map((s) => s.stage), sites.map((s) => `backup_${s.name}`));
      for (const [i, st] of stages.entries()) {
        const n = sites[i].name;
        assert.deepEqual(dependenciesOf(stages, i), [], 'sites back up independently');
        assert.deepEqual(st.jobs.map(jobId), [`backup_${n}`, `drill_${n}`]);
        const cmds = tasksIn(st.jobs[0]).map((t) => `${t.task}:${String(t.inputs?.command)}:${String(t.inputs?.site)}`);
        assert.deepEqual(cmds, [`StackHubMongoBackup@1:backup:${n}`, `StackHubMongoBackup@1:prune:${n}`]);
        assert.equal(st.jobs[1].dependsOn, `backup_${n}`, 'the drill after the backup, on the same site');
        assert.deepEqual(tasksIn(st.jobs[1]).map((t) => t.inputs?.command), ['drill']);
        // the weekly run is told apart at run time, by its schedule's display name in the pipeline
        assert.equal(st.jobs[1].condition, "and(succeeded(), eq(variables['Build.CronSchedule.DisplayName'], 'Weekly restore drill'))");
      }
      assert.deepEqual(expandExample('weekly'), expandExample('nightly'));
      const schedules = (expandExample('nightly').schedules as { displayName: string }[]).map((x) => x.displayName);
      assert.ok(schedules.includes('Weekly restore drill'), 'the condition names a schedule of the pipeline');
    });

    it('manual: backup alone, or backup and drill unconditionally', () => {
      const backup = stagesOf(expandExample('manual', { operation: 'backup' }));
      assert.ok(backup.every((s) => s.jobs.length === 1));
      const drill = stagesOf(expandExample('manual', { operation: 'drill' }));
      for (const st of drill) {
        assert.equal(st.jobs.length, 2);
        assert.equal(st.jobs[1].condition, 'succeeded()');
      }
    });
  });

  describe('stages/cluster-lifecycle.yml', () => {
    it('pull request: validation of every site in parallel, plain jobs (no environment, no approvals) on the site pools', () => {
      const stages = stagesOf(expandExample('pullRequest'));
      assert.deepEqual(stages.map((s) => s.stage), sites.map((s) => `cluster_validate_${s.name}`));
      for (const [i, st] of stages.entries()) {
        assert.deepEqual(dependenciesOf(stages, i), []);
        assert.equal(st.jobs.length, 1);
        assert.equal(st.jobs[0].job, 'validate');
        assert.equal(st.jobs[0].environment, undefined);
        assert.equal(poolOf(st.jobs[0]), sites[i].pool);
        const t = tasksIn(st.jobs[0]);
        assert.deepEqual(t.map((x) => [x.inputs?.command, x.inputs?.azureStackConnection, x.inputs?.apiModel]), [['validate', sites[i].azureStackConnection, `pipelines/clusters/${sites[i].name}.json`]]);
      }
    });

    it('upgrade: one site at a time in list order, each drained, upgraded, then put back', () => {
      const stages = stagesOf(expandExample('manual', { operation: 'cluster-upgrade' }));
      assert.deepEqual(stages.map((s) => s.stage), sites.map((s) => `cluster_upgrade_${s.name}`));
      assert.deepEqual(dependenciesOf(stages, 1), [stages[0].stage], 'the second site waits for the first');
      for (const [i, st] of stages.entries()) {
        const t = tasksIn(st.jobs[0]);
        assert.deepEqual(t.map((x) => `${x.task}:${String(x.inputs?.command)}`), ['StackHubTrafficSwap@1:drain', 'StackHubAksEngine@1:upgrade', 'StackHubTrafficSwap@1:restore']);
        assert.equal(t[0].inputs?.site, sites[i].name);
        assert.equal(t[2].inputs?.site, sites[i].name);
        assert.ok(!t[2].condition || t[2].condition === 'succeeded()', 'a failed site stays drained');
      }
    });

    it('first deploy: no traffic to drain', () => {
      const stages = stagesOf(expandExample('manual', { operation: 'cluster-deploy', firstDeploy: true }));
      for (const st of stages) assert.deepEqual(tasksIn(st.jobs[0]).map((x) => `${x.task}:${String(x.inputs?.command)}`), ['StackHubAksEngine@1:deploy']);
    });
  });

  describe('stages/dr-failover.yml', () => {
    for (const lost of ['dublin', 'seattle']) {
      it(`${lost} lost: fail over, restore, verify — all on the survivor, nothing of ${lost} referenced`, () => {
        const doc = expandExample('manual', { operation: 'dr-failover', lostSite: lost });
        const survivor = sites.find((s) => s.name !== lost)!;
        const dead = sites.find((s) => s.name === lost)!;
        const stages = stagesOf(doc);
        assert.deepEqual(stages.map((s) => s.stage), [`dr_failover_${survivor.name}`, `dr_restore_${survivor.name}`, `dr_verify_${survivor.name}`]);
        assert.deepEqual(stages.map((_, i) => dependenciesOf(stages, i)), [[], [stages[0].stage], [stages[1].stage]]);
        for (const st of stages) for (const j of st.jobs) {
          assert.equal(poolOf(j), survivor.pool);
          assert.equal(j.environment, survivor.environment);
        }
        // nothing aimed at the lost Hub: its pool, environment, connections
        const text = JSON.stringify(stages);
        for (const v of [dead.pool, dead.environment, dead.azureStackConnection, dead.kubernetesConnection]) assert.ok(!text.includes(v), `${v} appears in the DR stages`);
        const [move, failover] = tasksIn(stages[0].jobs[0]);
        assert.deepEqual([move.task, move.inputs?.command, move.inputs?.site, move.inputs?.allowForceReconfig], ['StackHubMongoBackup@1', 'primary-move', survivor.name, false], 'the primary moves to the survivor first');
        assert.deepEqual([failover.inputs?.command, failover.inputs?.site, failover.inputs?.mongoPrimaryGate], ['failover', survivor.name, 'primary']);
        const [restore] = tasksIn(stages[1].jobs[0]);
        assert.deepEqual([restore.inputs?.command, restore.inputs?.site, restore.inputs?.kubernetesConnection], ['restore', lost, survivor.kubernetesConnection], 'the lost site\'s latest backup, onto the survivor\'s cluster');
      });
    }

    it('refuses, when compiled, a lost or target site that is no site, a target that is lost, no target among several survivors', () => {
      const three = [...sites, { name: 'denver', pool: 'hub-denver', environment: 'ratings-denver' }];
      const dr = (p: Record<string, unknown>): Stage[] => expandTemplate('templates/stages/dr-failover.yml', { sitesFile: 's.yaml', sites, ...p }, { repos: REPOS }) as Stage[];
      const unknownDependency = (stages: Stage[]): string[] => {
        const names = new Set(stages.map((s) => s.stage));
        return [...new Set(stages.flatMap((s, i) => dependenciesOf(stages, i)).filter((d) => !names.has(d)))];
      };
      assert.deepEqual(unknownDependency(dr({ lostSite: 'nowhere' })), ['lostSite_must_name_one_of_the_sites']);
      assert.deepEqual(unknownDependency(dr({ lostSite: 'dublin', targetSite: 'dublin' })), ['targetSite_must_name_a_surviving_site']);
      assert.deepEqual(unknownDependency(dr({ lostSite: 'dublin', targetSite: 'paris' })), ['targetSite_must_name_a_surviving_site']);
      assert.deepEqual(unknownDependency(dr({ sites: three, lostSite: 'dublin' })), ['targetSite_must_be_given_when_several_sites_survive']);
      assert.deepEqual(unknownDependency(dr({ lostSite: 'dublin' })), []);
      const chosen = dr({ sites: three, lostSite: 'dublin', targetSite: 'denver' });
      assert.deepEqual(unknownDependency(chosen), []);
      assert.deepEqual(chosen.map((s) => s.stage), ['dr_failover_denver', 'dr_restore_denver', 'dr_verify_denver']);
    });

    it('moveMongoPrimary: the failover job moves the primary to the survivor first, then fails over gated on it; force only when asked', () => {
      const dr = (p: Record<string, unknown>): Stage[] => expandTemplate('templates/stages/dr-failover.yml', { sitesFile: 's.yaml', sites, lostSite: 'dublin', ...p }, { repos: REPOS }) as Stage[];
      const survivor = sites.find((s) => s.name !== 'dublin')!;
      const plain = tasksIn(dr({})[0].jobs[0]);
      assert.deepEqual(plain.map((t) => t.task), ['StackHubTrafficSwap@1'], 'off by default');
      assert.equal(plain[0].inputs?.mongoPrimaryGate, 'off');
      const [move, failover] = tasksIn(dr({ moveMongoPrimary: true, mongoInputs: { place: 'kubectl-exec', connectionString: '$(mongo-connection)' } })[0].jobs[0]);
      assert.deepEqual([move.task, move.inputs?.command, move.inputs?.site, move.inputs?.kubernetesConnection, move.inputs?.allowForceReconfig, move.inputs?.place], ['StackHubMongoBackup@1', 'primary-move', survivor.name, survivor.kubernetesConnection, false, 'kubectl-exec']);
      assert.deepEqual([failover.task, failover.inputs?.command, failover.inputs?.mongoPrimaryGate, failover.inputs?.mongoPlace, failover.inputs?.mongoConnectionString], ['StackHubTrafficSwap@1', 'failover', 'primary', 'kubectl-exec', '$(mongo-connection)']);
      const [forced] = tasksIn(dr({ moveMongoPrimary: true, allowForceReconfig: true })[0].jobs[0]);
      assert.equal(forced.inputs?.allowForceReconfig, true);
    });
  });

  it('the expander refuses what it does not know (keeps the templates plain)', () => {
    assert.throws(() => expandTemplate('templates/jobs/site-job.yml', { name: 'x' }, { repos: REPOS }), ExpandError);
  });
});
