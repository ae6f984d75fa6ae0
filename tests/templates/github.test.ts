/**
 * The GitHub side: every workflow in .github/workflows and every composite action in actions/composite validates
 * with @actions/workflow-parser and @actions/languageservice, OFFLINE (our action.yml files and a transcribed list
 * of third-party manifests are the only metadata; reusable workflows come from this repository): zero errors and
 * warnings. Every `uses:` is ours at @v1 or listed; every step of one of our actions maps ALL of its inputs, secret
 * inputs only from `secrets.*`; the example's `*-inputs` JSON objects name real, non-secret inputs. Shapes: site
 * matrices on `[self-hosted, <site pool>]`, a concurrency group per site, `max-parallel: 1` where sites go one by
 * one, the DR workflow leaving the lost site out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { EXAMPLE_WORKFLOW } from './helpers/example';
import { resolveAction, usesOf, validateGithubFile, validateGithubText, type GhProblem } from './helpers/github';
import { ACTION_REF, ACTION_REPO, ROOT, githubFiles, readActions, readYaml } from './helpers/manifests';

const fmt = (ps: GhProblem[]): string => ps.map((p) => `${p.file}:${p.line}: [${p.source}] ${p.message}`).join('\n');
const SECRET = /it is masked\.$/;

type Step = { id?: string; name?: string; if?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = {
  if?: string;
  needs?: string | string[];
  uses?: string;
  with?: Record<string, unknown>;
  'runs-on'?: unknown;
  environment?: unknown;
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean };
  strategy?: { 'max-parallel'?: number; 'fail-fast'?: boolean; matrix?: Record<string, unknown> & { exclude?: unknown[] } };
  steps?: Step[];
};
type Workflow = { on: { workflow_call?: { inputs?: Record<string, unknown>; secrets?: Record<string, unknown> } }; jobs: Record<string, Job> };

const reusable = (): string[] => githubFiles().filter((f) => f.startsWith('.github/workflows/') && 'workflow_call' in ((readYaml<Workflow>(f).on as object) ?? {}));

/** `<owner>/<repo>/actions/<dir>@v1` → `<dir>` for our actions. */
function ourAction(uses: string): string | undefined {
  const m = /^([^/]+\/[^/]+)\/actions\/(.+)@([^@]+)$/.exec(uses);
  return m && m[1] === ACTION_REPO && m[3] === ACTION_REF ? m[2] : undefined;
}

/** The action of a `*-inputs` JSON input of our workflows. */
const INPUT_OBJECTS: Record<string, string> = {
  'tools-inputs': 'setup-tools',
  'backup-inputs': 'mongo-backup',
  'prune-inputs': 'mongo-backup',
  'drill-inputs': 'mongo-backup',
  'restore-inputs': 'mongo-backup',
  'mongo-inputs': 'mongo-backup',
  'cluster-inputs': 'aks-engine',
  'reboot-inputs': 'aks-engine',
  'traffic-inputs': 'traffic-swap',
  'release-inputs': 'helm-release',
};

describe('templates: GitHub reusable workflows and composite actions (offline validation)', function () {
  it('there are reusable workflows, and the example workflow', () => {
    const files = githubFiles();
    for (const f of ['multi-site-release', 'backup', 'cluster-lifecycle', 'dr-failover']) assert.ok(files.includes(`.github/workflows/${f}.yml`), f);
    assert.ok(files.includes('actions/composite/release-record/action.yml'));
    assert.ok(files.includes(EXAMPLE_WORKFLOW));
  });

  it('every workflow and composite action validates with zero errors and warnings', async () => {
    const all: GhProblem[] = [];
    for (const f of githubFiles()) all.push(...(await validateGithubFile(f)));
    assert.equal(fmt(all), '');
  });

  it('every `uses:` is one of ours at @v1, one of our reusable workflows, or a listed third-party action', () => {
    const problems: string[] = [];
    for (const f of githubFiles()) {
      for (const u of usesOf(readYaml(f))) {
        if (u.uses.startsWith('./') || u.uses.startsWith('docker://') || u.uses.startsWith('$/')) {
          problems.push(`${f} ${u.where}: ${u.uses} (local and docker references are not checked offline: use ${ACTION_REPO}/…@${ACTION_REF})`);
          continue;
        }
        const wf = /^([^/]+\/[^/]+)\/(\.github\/workflows\/[^@]+)@(.+)$/.exec(u.uses);
        if (wf) {
          if (wf[1] !== ACTION_REPO || wf[3] !== ACTION_REF || !fs.existsSync(path.join(ROOT, wf[2]))) problems.push(`${f} ${u.where}: ${u.uses} is not one of our reusable workflows`);
          continue;
        }
        const [repoPath, ref] = u.uses.split('@');
        const [owner, name, ...rest] = repoPath.split('/');
        if (!resolveAction({ owner, name, ref, path: rest.length ? rest.join('/') : undefined })) problems.push(`${f} ${u.where}: ${u.uses} is unknown`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('every step of one of our actions maps all its inputs; secret inputs only from secrets, others never', () => {
    const actions = readActions();
    const problems: string[] = [];
    for (const f of githubFiles()) {
      for (const u of usesOf(readYaml(f))) {
        const dir = ourAction(u.uses);
        if (!dir || u.where.startsWith('jobs.') === false) continue;
        const a = actions.get(dir);
        if (!a) continue; // reported by the test above
        const w = u.with ?? {};
        for (const [name, def] of Object.entries(a.inputs ?? {})) {
          if (!(name in w)) {
            problems.push(`${f} ${u.where}: ${dir} input '${name}' is not mapped`);
            continue;
          }
          const v = String(w[name]);
          const fromSecret = /\$\{\{\s*secrets\./.test(v);
          if (SECRET.test(def.description.trim()) && !(fromSecret && /^\$\{\{\s*secrets\.[A-Za-z0-9_-]+\s*\}\}$/.test(v))) problems.push(`${f} ${u.where}: secret input '${name}' = ${v} (only \${{ secrets.${name} }})`);
          if (!SECRET.test(def.description.trim()) && fromSecret) problems.push(`${f} ${u.where}: '${name}' is not a secret input but reads a secret (it would reach the logs)`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the example\'s `*-inputs` JSON objects are valid JSON naming real, non-secret inputs of the right action', () => {
    const actions = readActions();
    const problems: string[] = [];
    const calls = usesOf(readYaml(EXAMPLE_WORKFLOW)).filter((u) => u.with);
    assert.ok(calls.length >= 3);
    for (const c of calls) {
      for (const [k, v] of Object.entries(c.with!)) {
        const bySite = k.endsWith('-by-site');
        const dir = INPUT_OBJECTS[bySite ? k.slice(0, -'-by-site'.length) : k];
        if (!dir) continue;
        let obj: Record<string, unknown>;
        try {
          obj = JSON.parse(String(v).replace(/\$\{\{[^}]*\}\}/g, 'x'));
        } catch (e) {
          problems.push(`${c.where} ${k}: not JSON: ${(e as Error).message}`);
          continue;
        }
        const a = actions.get(dir);
        if (!a) {
          problems.push(`${c.where} ${k}: actions/${dir} has not landed`);
          continue;
        }
        const objects = bySite ? Object.values(obj as Record<string, Record<string, unknown>>) : [obj];
        for (const o of objects) {
          for (const name of Object.keys(o)) {
            const def = a.inputs?.[name];
            if (!def) problems.push(`${c.where} ${k}: '${name}' is not an input of actions/${dir}`);
            else if (SECRET.test(def.description.trim())) problems.push(`${c.where} ${k}: '${name}' is a secret input: pass it as a secret, never in inputs`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  describe('shapes', () => {
    const perSiteJobs = (): [string, string, Job][] =>
      reusable().flatMap((f) => Object.entries(readYaml<Workflow>(f).jobs).filter(([, j]) => JSON.stringify(j.strategy?.matrix ?? {}).includes('inputs.sites')).map(([id, j]) => [f, id, j] as [string, string, Job]));

    it('every site job runs on the site\'s own self-hosted runners: runs-on [self-hosted, <site pool>], the matrix from the sites input', () => {
      const jobs = perSiteJobs();
      assert.ok(jobs.length >= 5);
      for (const [f, id, j] of jobs) {
        assert.deepEqual(j['runs-on'], ['self-hosted', '${{ matrix.site.pool }}'], `${f} ${id}`);
        assert.equal(j.strategy?.matrix?.site, '${{ fromJSON(inputs.sites) }}', `${f} ${id}`);
      }
    });

    it('every job that changes a site: the site\'s environment and its concurrency group, shared by all workflows, never cancelling', () => {
      for (const [f, id, j] of perSiteJobs()) {
        if (id === 'validate' || id === 'preflight') {
          assert.equal(j.environment, undefined, `${f} ${id}: read-only checks ask no approval`);
          continue;
        }
        assert.equal(j.environment, '${{ matrix.site.environment }}', `${f} ${id}`);
        assert.equal(j.concurrency?.group, 'stackhub-ha-site-${{ matrix.site.name }}', `${f} ${id}`);
        assert.equal(j.concurrency?.['cancel-in-progress'], false, `${f} ${id}`);
      }
    });

    it('sites go one by one (max-parallel: 1, fail-fast) in cluster changes and DR; backups in parallel without fail-fast', () => {
      const job = (f: string, id: string): Job => readYaml<Workflow>(`.github/workflows/${f}.yml`).jobs[id];
      for (const [f, id] of [['multi-site-release', 'release'], ['cluster-lifecycle', 'change'], ['dr-failover', 'failover'], ['dr-failover', 'restore'], ['dr-failover', 'verify']]) {
        assert.equal(job(f, id).strategy?.['max-parallel'], 1, `${f} ${id}`);
        assert.equal(job(f, id).strategy?.['fail-fast'], true, `${f} ${id}`);
      }
      for (const id of ['backup', 'drill']) assert.equal(job('backup', id).strategy?.['fail-fast'], false);
      assert.equal(job('cluster-lifecycle', 'validate').strategy?.['max-parallel'], undefined);
      for (const id of ['preflight', 'backup']) assert.equal(job('multi-site-release', id).strategy?.['max-parallel'], undefined, `${id} runs on every site at once`);
    });

    it('patch and update: sites one by one, each the base image check then the reboots of that site only', () => {
      const wf = readYaml<Workflow>('.github/workflows/patch.yml');
      const job = wf.jobs.patch;
      assert.equal(job.strategy?.['max-parallel'], 1);
      assert.equal(job.strategy?.['fail-fast'], true);
      const steps = (job.steps ?? []).filter((s) => s.uses && ourAction(s.uses) === 'aks-engine');
      assert.deepEqual(steps.map((s) => [s.id, s.if, s.with?.command]), [
        ['image', '${{ inputs.image-check }}', 'upgrade'],
        ['reboot', '${{ inputs.reboot }}', 'reboot'],
      ]);
      assert.equal(steps[0].with?.baseImageOnly, 'true');
      assert.equal(steps[0].with?.ifNoNewerImage, 'succeed', 'a week without a new image is a green run');
      assert.equal(steps[1].with?.rebootSites, '${{ matrix.site.name }}', 'each job reboots its own site only');
      assert.equal(steps[1].with?.sitesFile, '${{ inputs.sites-file }}');
      assert.equal(steps[1].with?.rebootWindow, '${{ fromJSON(inputs.reboot-inputs).rebootWindow }}');
      assert.equal(steps[1].with?.trafficProvider, '${{ fromJSON(inputs.traffic-inputs).trafficProvider }}');
      assert.equal(steps[1].env?.STACKHUB_KUBECONFIG, '${{ secrets.kubeconfig }}');
      for (const k of ['rebootWindow', 'trafficProvider', 'sitesFile']) assert.equal(steps[0].with?.[k], '', `the image step ignores ${k}`);
    });

    it('cluster changes: drain, operate, restore in that order; validation only validates', () => {
      const wf = readYaml<Workflow>('.github/workflows/cluster-lifecycle.yml');
      const cmds = (id: string): string[] => (wf.jobs[id].steps ?? []).filter((s) => s.uses && !s.uses.includes('setup-tools') && !s.uses.startsWith('actions/')).map((s) => `${ourAction(s.uses!)}:${String(s.with?.command)}`);
      assert.deepEqual(cmds('change'), ['traffic-swap:drain', 'aks-engine:${{ inputs.operation }}', 'traffic-swap:restore']);
      assert.deepEqual(cmds('validate'), ['aks-engine:validate']);
      assert.match(String(wf.jobs.change.steps!.find((s) => s.id === 'restore')!.if), /^\$\{\{ inputs\.drain-traffic \}\}$/, 'no always(): a failed site stays drained');
    });

    it('DR: every job leaves the lost site out of its matrix, the order is failover → restore → verify, bad names fail', () => {
      const wf = readYaml<Workflow>('.github/workflows/dr-failover.yml');
      for (const id of ['failover', 'restore', 'verify']) {
        assert.deepEqual(wf.jobs[id].strategy?.matrix?.exclude, [{ site: { name: '${{ inputs.lost-site }}' } }], id);
      }
      assert.equal(wf.jobs.restore.needs, 'failover');
      assert.deepEqual(wf.jobs.verify.needs, ['failover', 'restore']);
      assert.match(String(wf.jobs.check.if), /!contains\(fromJSON\(inputs\.sites\)\.\*\.name, inputs\.lost-site\)/);
      assert.deepEqual(wf.jobs.check['runs-on'], ['self-hosted'], 'any runner still online');
      const restore = wf.jobs.restore.steps!.find((s) => s.id === 'restore')!;
      assert.equal(restore.with?.site, "${{ inputs.restore-from == 'lost-site' && inputs.lost-site || matrix.site.name }}");
      assert.equal(restore.with?.kubeconfig, '${{ secrets.kubeconfig }}', 'the target environment\'s cluster');
    });

    it('the example calls our reusable workflows as users do (owner/repo/.github/workflows/x.yml@v1), gated off in this repository', () => {
      const wf = readYaml<Workflow>(EXAMPLE_WORKFLOW);
      for (const [id, j] of Object.entries(wf.jobs)) {
        assert.match(String(j.uses), new RegExp(`^${ACTION_REPO}/\\.github/workflows/[a-z-]+\\.yml@${ACTION_REF}$`), id);
        assert.match(String(j.if), /github\.repository != 'stackhub-ha\/stackhub-ha'/, id);
      }
    });
  });

  describe('multi-site release', () => {
    const wf = (): Workflow => readYaml<Workflow>('.github/workflows/multi-site-release.yml');
    const step = (job: string, id: string): Step => wf().jobs[job].steps!.find((x) => x.id === id)!;
    const runScript = (script: string, env: Record<string, string>): Record<string, string> => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-step-'));
      try {
        const out = path.join(dir, 'output');
        fs.writeFileSync(out, '');
        // as the runner runs `shell: bash` steps
        execFileSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env: { PATH: '/usr/bin:/bin', HOME: dir, GITHUB_OUTPUT: out, ...env } });
        const text = fs.readFileSync(out, 'utf8');
        const res: Record<string, string> = {};
        for (const m of text.matchAll(/^([\w-]+)<<(\w+)\n([\s\S]*?)\n?\2$|^([\w-]+)=(.*)$/gm)) res[m[1] ?? m[4]] = m[3] ?? m[5];
        return res;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };

    it('preflight on every site → backups after every preflight → sites one by one → rollback only on failure', () => {
      const j = wf().jobs;
      assert.deepEqual(Object.keys(j), ['preflight', 'backup', 'release', 'rollback']);
      assert.equal(j.backup.needs, 'preflight');
      assert.deepEqual(j.release.needs, ['preflight', 'backup']);
      assert.match(String(j.release.if), /needs\.preflight\.result == 'success' && \(needs\.backup\.result == 'success' \|\| needs\.backup\.result == 'skipped'\)/);
      assert.equal(j.rollback.needs, 'release');
      assert.match(String(j.rollback.if), /!cancelled\(\) && needs\.release\.result == 'failure'/);
    });

    it('each site: download the record, upgrade (traffic coupled), verify, upload the record even on failure, then report what to roll back', () => {
      const steps = wf().jobs.release.steps!;
      const names = steps.map((x) => x.id ?? (x.uses?.includes('release-record') ? `record:${String(x.with?.operation)}` : x.uses?.split('@')[0].split('/').pop()));
      assert.deepEqual(names, ['checkout', 'setup-tools', 'record:download', 'ids', 'upgrade', 'verify', 'record:upload', 'page', 'plan']);
      const up = step('release', 'upgrade');
      assert.deepEqual([up.with?.command, up.with?.site, up.with?.releaseId, up.with?.recordFiles, up.with?.backupIds], ['upgrade', '${{ matrix.site.name }}', '${{ github.run_id }}', '${{ runner.temp }}/release-record', '${{ steps.ids.outputs.ids }}']);
      assert.equal(up.with?.trafficProvider, '${{ fromJSON(inputs.traffic-inputs).trafficProvider || fromJSON(inputs.release-inputs).trafficProvider }}');
      assert.equal(steps[6].if, '${{ !cancelled() }}');
      assert.equal(step('release', 'plan').if, '${{ always() }}');
      assert.equal((wf().jobs.release as { outputs?: Record<string, string> }).outputs?.['rollback-indices'], '${{ steps.plan.outputs.indices }}');
    });

    it('every job that runs the release uploads its release page (reportFile) as an artifact of its own, even on failure', () => {
      for (const [job, expr] of [['preflight', 'steps.preflight.outputs.reportFile'], ['release', 'steps.verify.outputs.reportFile || steps.upgrade.outputs.reportFile'], ['rollback', 'steps.rollback.outputs.reportFile']]) {
        const p = step(job, 'page');
        assert.match(String(p.uses), /\/actions\/composite\/release-record@v1$/, job);
        assert.equal(p.with?.operation, 'upload', job);
        assert.equal(p.with?.path, `\${{ ${expr} }}`, job);
        assert.equal(p.if, `\${{ !cancelled() && (${expr}) != '' }}`, job);
        assert.match(String(p.with?.name), /^\$\{\{ inputs\.record-artifact \}\}-page-/, job);
      }
      // the output the workflow uploads is one the release declares
      const yml = readYaml<{ outputs: Record<string, unknown> }>('actions/helm-release/action.yml');
      assert.ok('reportFile' in yml.outputs);
    });

    it('the helm steps reach the site\'s cluster through the environment\'s KUBECONFIG, as STACKHUB_KUBECONFIG (the sites file\'s reference)', () => {
      for (const [job, id] of [['preflight', 'preflight'], ['release', 'upgrade'], ['release', 'verify'], ['rollback', 'rollback']]) {
        assert.deepEqual((step(job, id) as { env?: Record<string, string> }).env, { STACKHUB_KUBECONFIG: '${{ secrets.kubeconfig }}' }, `${job}.${id}`);
      }
    });

    it('rollback: one job per reported site, on that site\'s runners, environment and concurrency group, rolling it back', () => {
      const j = wf().jobs.rollback;
      assert.equal(j.strategy?.matrix?.index, '${{ fromJSON(needs.release.outputs.rollback-indices) }}');
      assert.deepEqual(j['runs-on'], ['self-hosted', '${{ fromJSON(inputs.sites)[matrix.index].pool }}']);
      assert.equal(j.environment, '${{ fromJSON(inputs.sites)[matrix.index].environment }}');
      assert.equal(j.concurrency?.group, 'stackhub-ha-site-${{ fromJSON(inputs.sites)[matrix.index].name }}');
      const rb = step('rollback', 'rollback');
      assert.deepEqual([rb.with?.command, rb.with?.site], ['rollback', '${{ fromJSON(inputs.sites)[matrix.index].name }}']);
    });

    it('the rollback plan: the indexes of the reported sites, in site order (run with bash)', () => {
      const script = String(step('release', 'plan').run);
      assert.deepEqual(runScript(script, { ROLLBACK_SITES: '["seattle","dublin"]', SITE_NAMES: 'seattle dublin new-york' }), { indices: '[0,1]' });
      assert.deepEqual(runScript(script, { ROLLBACK_SITES: '["dublin"]', SITE_NAMES: 'seattle dublin' }), { indices: '[1]' });
      assert.deepEqual(runScript(script, { ROLLBACK_SITES: '["dublin-2"]', SITE_NAMES: 'dublin dublin-2' }), { indices: '[1]' });
      assert.deepEqual(runScript(script, { ROLLBACK_SITES: '', SITE_NAMES: 'seattle dublin' }), { indices: '[]' });
    });

    it('the backup ids: every site\'s file, as `site=id` lines for backupIds (run with bash)', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ids-'));
      try {
        for (const [s, id] of [['seattle', '20260101T010000Z-a'], ['dublin', '20260101T010000Z-b']]) {
          fs.mkdirSync(path.join(dir, `release-record-backup-${s}-1`));
          fs.writeFileSync(path.join(dir, `release-record-backup-${s}-1`, `backup-${s}.txt`), `${s}=${id}\n`);
        }
        fs.mkdirSync(path.join(dir, 'release-record-preflight-seattle-1'));
        fs.writeFileSync(path.join(dir, 'release-record-preflight-seattle-1', 'preflight-seattle.json'), '{}');
        const out = runScript(String(step('release', 'ids').run), { RECORD_DIR: dir });
        assert.deepEqual(out.ids.split('\n').sort(), ['dublin=20260101T010000Z-b', 'seattle=20260101T010000Z-a']);
        assert.deepEqual(runScript(String(step('release', 'ids').run), { RECORD_DIR: path.join(dir, 'none') }), { ids: '' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('the record travels only through actions/composite/release-record, with the artifact actions chosen by input, unique names', () => {
      const names: string[] = [];
      for (const [id, j] of Object.entries(wf().jobs)) {
        for (const x of j.steps ?? []) {
          assert.ok(!x.uses?.startsWith('actions/upload-artifact') && !x.uses?.startsWith('actions/download-artifact'), `${id}: ${x.uses}`);
          if (x.uses?.includes('/actions/composite/release-record@')) {
            assert.equal(x.with?.['artifact-actions'], '${{ inputs.artifact-actions }}');
            if (x.with?.operation === 'upload') names.push(String(x.with?.name));
            else assert.equal(x.with?.pattern, '${{ inputs.record-artifact }}-');
          }
        }
      }
      assert.equal(new Set(names).size, names.length);
      for (const n of names) assert.match(n, /^\$\{\{ inputs\.record-artifact \}\}-.*\$\{\{ github\.run_attempt \}\}$/);
      const composite = readYaml<{ runs: { steps: Step[] } }>('actions/composite/release-record/action.yml').runs.steps;
      const uses = composite.filter((x) => x.uses).map((x) => `${x.uses} if ${x.if}`);
      assert.deepEqual(uses, [
        "actions/upload-artifact@v4 if ${{ inputs.operation == 'upload' && inputs.artifact-actions == 'v4' }}",
        "actions/upload-artifact@v3 if ${{ inputs.operation == 'upload' && inputs.artifact-actions == 'v3' }}",
        "actions/download-artifact@v4 if ${{ inputs.operation == 'download' && inputs.artifact-actions == 'v4' }}",
        "actions/download-artifact@v3 if ${{ inputs.operation == 'download' && inputs.artifact-actions == 'v3' }}",
      ]);
      assert.equal(readYaml<Workflow>(EXAMPLE_WORKFLOW).jobs.release.with?.['artifact-actions'], 'v3', 'the example targets GitHub Enterprise Server');
    });

    it('v3 downloads every artifact of the run: only the record\'s stay (run with bash)', () => {
      const s = readYaml<{ runs: { steps: Step[] } }>('actions/composite/release-record/action.yml').runs.steps.find((x) => x.name === "Keep only the release record's artifacts")!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'v3-'));
      try {
        for (const d of ['release-record-seattle-1', 'release-record-preflight-dublin-1', 'test-results']) fs.mkdirSync(path.join(dir, d));
        fs.writeFileSync(path.join(dir, 'test-results', 'report.json'), '{}');
        runScript(String(s.run), { RECORD_DIR: dir, RECORD_PREFIX: 'release-record-' });
        assert.deepEqual(fs.readdirSync(dir).sort(), ['release-record-preflight-dublin-1', 'release-record-seattle-1']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the validation bites', () => {
    const wf = (): string => fs.readFileSync(path.join(ROOT, '.github/workflows/backup.yml'), 'utf8');
    const ex = (): string => fs.readFileSync(path.join(ROOT, EXAMPLE_WORKFLOW), 'utf8');

    it('an unknown input of our action, and a missing required one', async () => {
      const ps = fmt(await validateGithubText(wf().replace('storageKind:', 'storageKnd:').replace(/\n\s+tools: \$\{\{ fromJSON\(inputs\.tools-inputs\)\.tools[^\n]*/, ''), '.github/workflows/backup.yml'));
      assert.match(ps, /Invalid action input 'storageKnd'/);
      assert.match(ps, /Missing required input `tools`/);
    });

    it('an action that is neither ours nor listed, and one of ours at another version', async () => {
      const ps = fmt(await validateGithubText(wf().replace('actions/checkout@v4', 'actions/checkout@v3').replace('actions/mongo-backup@v1', 'actions/mongo-backup@v2'), '.github/workflows/backup.yml'));
      assert.match(ps, /Unable to resolve action `actions\/checkout@v3`/);
      assert.match(ps, /Unable to resolve action `stackhub-ha\/stackhub-ha\/actions\/mongo-backup@v2`/);
    });

    it('a reusable workflow called with an unknown input, without a required one, or not found', async () => {
      const ps = fmt(await validateGithubText(ex().replace('sites-file: pipelines/sites.yaml\n      drill', 'sites-filez: pipelines/sites.yaml\n      drill'), EXAMPLE_WORKFLOW));
      assert.match(ps, /sites-filez is not defined in the referenced workflow/);
      assert.match(ps, /Input sites-file is required/);
      const nf = fmt(await validateGithubText(ex().replace('workflows/backup.yml@v1', 'workflows/backups.yml@v1'), EXAMPLE_WORKFLOW));
      assert.match(nf, /Unable to find reusable workflow/);
    });

    it('an undefined input or context, and a bad key', async () => {
      const ps = fmt(await validateGithubText(wf().replace('${{ inputs.backup }}', '${{ inputs.backups }}').replace('timeout-minutes: 300', 'timeout-minute: 300'), '.github/workflows/backup.yml'));
      assert.match(ps, /backups/);
      assert.match(ps, /timeout-minute/);
    });

    it('a broken composite action', async () => {
      const text = 'name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - uses: stackhub-ha/stackhub-ha/actions/setup-tools@v1\n      with:\n        toolz: helm\n';
      const ps = fmt(await validateGithubText(text, 'actions/composite/broken/action.yml'));
      assert.match(ps, /toolz|tools/);
    });
  });
});

/** Exported for other suites. */
export function exampleWorkflow(): Workflow {
  return YAML.parse(fs.readFileSync(path.join(ROOT, EXAMPLE_WORKFLOW), 'utf8')) as Workflow;
}
