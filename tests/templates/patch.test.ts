/**
 * templates/stages/patch.yml as Azure Pipelines compiles it (tests/templates/helpers/expand.ts): one stage per site,
 * one after another, each with the image job (upgrade baseImageOnly, a green run when nothing is newer) and the
 * reboot job after it (reboot of that site only, through the site's Kubernetes connection, the GSLB drain settings
 * passed through); validated against the official schema extended with the tasks, and every task step against
 * task.json.
 */
import assert from 'node:assert/strict';
import { AdoValidator, checkTaskReferences, schemaMissing } from './helpers/ado';
import { expandFile, expandTemplate } from './helpers/expand';
import { REPOS, dependenciesOf, exampleSitesParameter, stepsOf, toYaml, type Job, type Stage, type Step } from './helpers/example';
import { readTasks, readYaml } from './helpers/manifests';

const sites = exampleSitesParameter() as { name: string; pool: string; environment: string; azureStackConnection: string; kubernetesConnection: string }[];
const tasksIn = (j: Job): Step[] => stepsOf(j).filter((s) => typeof s.task === 'string' && s.task.startsWith('StackHub') && s.task !== 'StackHubToolSetup@1');
const WEEKLY = "and(succeeded(), eq(variables['Build.CronSchedule.DisplayName'], 'Weekly base image check'))";

function expand(extra: Record<string, unknown> = {}): Stage[] {
  return expandTemplate('templates/stages/patch.yml', {
    sites,
    sitesFile: 'pipelines/sites.yaml',
    imageCondition: WEEKLY,
    clusterInputs: { storageKind: 's3', s3Endpoint: 'https://s3.backup.contoso.local:9000', s3Bucket: 'clusters', ageIdentity: '$(cluster-age-identity)', encryptionRecipients: '$(cluster-age-recipients)' },
    clusterInputsBySite: Object.fromEntries(sites.map((s) => [s.name, { location: s.name, dnsPrefix: `ratings-${s.name}` }])),
    rebootInputs: { rebootWindow: 'Sat 01:00-05:00 Europe/Berlin', rebootHelperImage: 'registry.contoso.local/tools/reboot-helper:1.0', minWorkers: '2' },
    trafficInputs: { trafficProvider: 'rfc2136', trafficDnsServer: '10.0.0.53', trafficDnsZone: 'contoso.local', trafficDnsName: 'ratings.contoso.local', trafficTsigKey: '$(ratings-tsig-key)' },
    ...extra,
  }) as Stage[];
}

describe('templates: stages/patch.yml (compiled)', () => {
  it('one stage per site, one after another, each queueing for the site\'s lock', () => {
    const stages = expand();
    assert.deepEqual(stages.map((s) => s.stage), sites.map((s) => `patch_${s.name.replace(/-/g, '_')}`));
    for (let i = 1; i < stages.length; i++) assert.deepEqual(dependenciesOf(stages, i), [stages[i - 1].stage], 'each site waits for the one before');
    assert.ok(stages.every((s) => s.lockBehavior === 'sequential'));
  });

  it('each site: the image job (weekly) on the site\'s pool and environment, then the reboot job after it, for that site only', () => {
    for (const [i, st] of expand().entries()) {
      const s = sites[i];
      const n = s.name.replace(/-/g, '_');
      assert.deepEqual(st.jobs.map((j) => j.deployment), [`image_${n}`, `reboot_${n}`]);
      for (const j of st.jobs) {
        assert.equal(j.environment, s.environment);
        assert.equal(typeof j.pool === 'string' ? j.pool : j.pool?.name, s.pool);
      }
      const [image, reboot] = st.jobs;
      assert.equal(image.condition, WEEKLY);
      const up = tasksIn(image);
      assert.deepEqual(up.map((t) => [t.task, t.inputs?.command, t.inputs?.baseImageOnly, t.inputs?.ifNoNewerImage, t.inputs?.azureStackConnection, t.inputs?.siteName, t.inputs?.dnsPrefix]), [
        ['StackHubAksEngine@1', 'upgrade', true, 'succeed', s.azureStackConnection, s.name, `ratings-${s.name}`],
      ]);
      assert.equal(reboot.dependsOn, `image_${n}`);
      assert.equal(reboot.condition, `and(not(canceled()), in(dependencies.image_${n}.result, 'Succeeded', 'Skipped'), true)`, 'reboots also run in the weeks the image job is skipped');
      const rb = tasksIn(reboot);
      assert.deepEqual(rb.map((t) => [t.inputs?.command, t.inputs?.rebootSites, t.inputs?.kubernetesConnection, t.inputs?.sitesFile, t.inputs?.rebootWindow, t.inputs?.trafficProvider]), [
        ['reboot', s.name, s.kubernetesConnection, 'pipelines/sites.yaml', 'Sat 01:00-05:00 Europe/Berlin', 'rfc2136'],
      ]);
    }
  });

  it('reboots only (no image check): the reboot job alone, without a dependency', () => {
    for (const st of expand({ imageCheck: false, rebootCondition: "eq(variables['Build.CronSchedule.DisplayName'], 'Reboot window')" })) {
      assert.equal(st.jobs.length, 1);
      assert.deepEqual(st.jobs[0].dependsOn, []);
      assert.equal(st.jobs[0].condition, "and(succeeded(), eq(variables['Build.CronSchedule.DisplayName'], 'Reboot window'))");
    }
  });

  it('every StackHub step matches task.json', () => {
    const doc = { stages: expand() };
    assert.deepEqual(checkTaskReferences({ rel: 'patch.yml (expanded)', doc, parameters: new Map() }, readTasks()), []);
  });

  it('validates against the schema once compiled (as a pipeline)', async function () {
    const why = schemaMissing();
    if (why) {
      console.log(`    (skipped: ${why})`);
      this.skip();
    }
    const ps = await new AdoValidator().validateText(toYaml({ trigger: 'none', stages: expand() }), 'pipeline', 'patch-expanded.yml');
    assert.deepEqual(ps, []);
  });

  it('the template file itself validates as a stages template', async function () {
    if (schemaMissing()) this.skip();
    assert.deepEqual(await new AdoValidator().validateFile('templates/stages/patch.yml'), []);
  });
});

describe('pipelines/azure-pipelines-patch.yml (the example, compiled)', () => {
  const PATCH = 'pipelines/azure-pipelines-patch.yml';
  const run = (variables: Record<string, string>): Stage[] => expandFile(PATCH, {}, { repos: REPOS, variables }).stages as Stage[];

  it('scheduled: image check in the weekly run only (decided at run time), reboots in every run; same sites as the main example', () => {
    const stages = run({ 'Build.Reason': 'Schedule', 'Build.CronSchedule.DisplayName': 'Weekly patch' });
    assert.deepEqual(stages.map((s) => s.stage), sites.map((s) => `patch_${s.name}`));
    for (const st of stages) {
      assert.equal(st.jobs[0].condition, "and(succeeded(), eq(variables['Build.CronSchedule.DisplayName'], 'Weekly patch'))");
      assert.deepEqual(tasksIn(st.jobs[1]).map((t) => [t.inputs?.command, t.inputs?.rebootWindow, t.inputs?.rebootHelperImage]), [['reboot', 'Sat 01:00-05:00 Europe/Berlin', 'registry.corp.local/platform/reboot-helper:1.0']]);
    }
    const own = (readYaml<{ parameters: { name: string; default: unknown }[] }>(PATCH).parameters.find((p) => p.name === 'sites')!.default);
    assert.deepEqual(own, exampleSitesParameter(), 'the same site list as pipelines/azure-pipelines.yml (kept in step with sites.yaml by sites.test.ts)');
    const schedules = (expandFile(PATCH, {}, { repos: REPOS, variables: {} }).schedules as { displayName: string }[]).map((x) => x.displayName);
    assert.ok(schedules.includes('Weekly patch'), 'the condition names a schedule of the pipeline');
  });

  it('manual: the image check unconditionally, or only the reboots', () => {
    for (const st of run({ 'Build.Reason': 'Manual' })) assert.equal(st.jobs[0].condition, 'succeeded()');
    for (const st of expandFile(PATCH, { imageCheck: false }, { repos: REPOS, variables: { 'Build.Reason': 'Manual' } }).stages as Stage[]) assert.equal(st.jobs.length, 1);
  });

  it('every StackHub step matches task.json; validates once compiled', async function () {
    const doc = expandFile(PATCH, {}, { repos: REPOS, variables: { 'Build.Reason': 'Schedule', 'Build.CronSchedule.DisplayName': 'Weekly patch' } });
    assert.deepEqual(checkTaskReferences({ rel: 'azure-pipelines-patch.yml (expanded)', doc, parameters: new Map() }, readTasks()), []);
    if (schemaMissing()) this.skip();
    assert.deepEqual(await new AdoValidator().validateText(toYaml(doc), 'pipeline', 'azure-pipelines-patch.yml'), []);
  });
});
