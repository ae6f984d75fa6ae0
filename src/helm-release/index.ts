/**
 * Helm multi-site release: one chart to N Azure Stack Hub clusters, site by site, health-gated, optionally coupled
 * with traffic, with rollback of every site the release changed. Two topologies on the same cores and record:
 * `run` drives every site from one agent; `preflight` / `upgrade` / `verify` / `rollback` act on one site each and
 * pass the release record (record.ts, docs/release-record.md) between the stages.
 */
import { readPrimaryStatus } from '../mongo/primary';
import { siteKubeSource } from '../shared/secrets';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Capability, RunContext } from '../platform/capability';
import { InputError, PreconditionError, StackHubError, oneLine } from '../shared/errors';
import { pullArgs, registryLoginArgs, repoAddArgs } from './args';
import { inspectLocalChart, ociHost, type LocatedChart } from './chart';
import { ReleaseEngine, pool, type EngineDeps, type PreflightResult, type SiteContext } from './engine';
import { HelmRunner } from './helm';
import { helmReleaseGroups, helmReleaseInputs, helmReleaseOutputs, parseHelmReleaseInputs, type HelmReleaseInputs, type HelmReleaseInputName } from './inputs';
import { RECORD_ATTACHMENT_TYPE, RECORD_SCHEMA, RECORD_VERSION, overallResult, sitesNeedingRollback, type MongoPrimaryRef, type ReleaseRecord, type ReleaseResult } from './record';
import { ganttReport, headerReport, preflightReport, siteTable } from './report';
import { parseTrafficCoupling } from './traffic';
import { writeReportFile } from './report-file';

/** The task editor's groups of the release's inputs (src/capabilities.ts). */
export { helmReleaseGroups };

/** Outputs of the release. */
export interface HelmReleaseOutputs {
  result: ReleaseResult;
  record: ReleaseRecord;
  recordFile: string;
  /** The release page: a self-contained HTML file next to the record (src/report/page.ts). */
  reportFile: string;
  rollbackSites: string[];
}

/** What tests (and the bench) replace. */
export interface HelmReleaseDeps extends EngineDeps {
  parseTraffic: typeof parseTrafficCoupling;
  env: () => NodeJS.ProcessEnv;
}

const defaultDeps: HelmReleaseDeps = {
  sleep: (ms) => delay(ms),
  now: () => new Date(),
  parseTraffic: parseTrafficCoupling,
  env: () => process.env,
};

/** Locates the chart once: local as is; OCI and repository charts pulled into the private temp dir. */
export async function locateChart(inputs: HelmReleaseInputs, ctx: RunContext, helm: HelmRunner): Promise<LocatedChart> {
  const src = inputs.chart;
  if (src.kind === 'dir' || src.kind === 'tgz') return inspectLocalChart(src, src.ref);
  const dest = fs.mkdtempSync(path.join(ctx.tempDir, 'chart-'));
  const reg = inputs.registry;
  const failed = (what: string, e: unknown): never => {
    throw new InputError('chart', `${what}: ${oneLine(e)}`);
  };
  let ref = src.ref;
  if (src.kind === 'oci') {
    if (reg?.username) {
      const host = ociHost(src.ref);
      await helm
        .run(registryLoginArgs({ host, username: reg.username, caFile: reg.caFile }), { input: `${reg.password}\n`, timeoutMs: 120_000, quiet: true })
        .catch((e) => failed(`helm registry login ${host} failed`, e));
    }
  } else {
    await helm
      .run(repoAddArgs({ name: 'stackhub-ha-charts', url: src.repoUrl!, username: reg?.username, caFile: reg?.caFile }), {
        input: reg?.username ? `${reg.password}\n` : undefined,
        timeoutMs: 300_000,
        quiet: true,
      })
      .catch((e) => failed(`cannot read the chart repository ${src.repoUrl}`, e));
    ref = `stackhub-ha-charts/${src.ref}`;
  }
  await ctx.log.group(`helm pull ${src.ref}${src.version ? ` --version ${src.version}` : ''}`, () =>
    helm.run(pullArgs({ ref, version: src.version, destination: dest, caFile: reg?.caFile }), { timeoutMs: 600_000 }),
  ).catch((e) => failed(`chart not found or not readable: ${src.ref}${src.version ? ` ${src.version}` : ''}`, e));
  const files = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  if (files.length !== 1) throw new PreconditionError(`helm pull ${src.ref} left ${files.length} charts in ${dest}`);
  return inspectLocalChart(src, path.join(dest, files[0]));
}

/** A new record for this release. */
function newRecord(inputs: HelmReleaseInputs, chart: LocatedChart, now: Date): ReleaseRecord {
  return {
    schema: RECORD_SCHEMA,
    version: RECORD_VERSION,
    releaseId: inputs.releaseId,
    release: inputs.release,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    chart: {
      source: chart.source.kind,
      ref: chart.source.kind === 'dir' || chart.source.kind === 'tgz' ? path.basename(chart.source.ref) : chart.source.ref,
      ...(chart.source.repoUrl ? { repoUrl: chart.source.repoUrl } : {}),
      name: chart.name,
      version: chart.version,
      ...(chart.appVersion !== undefined ? { appVersion: chart.appVersion } : {}),
      digest: chart.digest,
    },
    strategy: inputs.strategy,
    maxParallel: inputs.maxParallel,
    onFailure: inputs.onFailure,
    siteOrder: inputs.sites.sites.map((s) => s.name),
    sites: {},
    result: 'pending',
  };
}

/** Builds the capability with replaceable dependencies (tests, bench). */
export function createHelmRelease(deps: Partial<HelmReleaseDeps> = {}): Capability<HelmReleaseInputs, HelmReleaseOutputs, HelmReleaseInputName> {
  const d: HelmReleaseDeps = { ...defaultDeps, ...deps };
  return {
    name: 'helm-release',
    title: 'Stack Hub helm multi-site release',
    inputs: helmReleaseInputs,
    outputs: helmReleaseOutputs,
    parse: (read, platform) => parseHelmReleaseInputs(read, platform, d.env(), d.parseTraffic),
    // k8s:// references read the cluster of the site this (per-site) job acts on
    secretSourcesDoc: { k8s: 'the cluster of the site this job acts on: the Kubernetes service connection (`kubernetesConnection`), else the site\'s `cluster.kubeconfig` in the sites file' },
    secretSources: (read, platform) => ({ kube: siteKubeSource(read, platform, { connection: 'kubernetesConnection', site: 'site', sitesFile: 'sitesFile' }) }),
    run: (inputs, ctx) => runRelease(inputs, ctx, d),
  };
}

/** The registered capability. */
export const helmRelease = createHelmRelease();

async function runRelease(inputs: HelmReleaseInputs, ctx: RunContext, deps: HelmReleaseDeps): Promise<HelmReleaseOutputs> {
  const { log, summary } = ctx;
  const helm = await HelmRunner.detect(ctx, inputs.helmPath, inputs.kubectlPath);
  log.info(`helm ${helm.version} (${helm.binary})`);
  const notes: string[] = [`helm ${helm.version}`];
  if (helm.major === 4) notes.push('helm 4: waits with `--wait=watcher`; new installs use server-side apply, upgrades keep the release\'s apply method (`--server-side=auto`)');

  const chart = await locateChart(inputs, ctx, helm);
  log.info(`chart ${chart.name} ${chart.version}${chart.appVersion ? ` (app ${chart.appVersion})` : ''} ${chart.digest}`);

  // the record: the earlier stages', or a new one
  let record: ReleaseRecord;
  if (inputs.record) {
    record = inputs.record;
    if (record.chart.digest !== chart.digest || record.chart.version !== chart.version) {
      throw new InputError(
        inputs.recordInput,
        `the record was made for chart ${record.chart.name} ${record.chart.version} (${record.chart.digest}), not ${chart.name} ${chart.version} (${chart.digest}): a release record belongs to one chart`,
      );
    }
  } else record = newRecord(inputs, chart, deps.now());
  if (Object.keys(inputs.backups).length) record.backups = { ...(record.backups ?? {}), ...inputs.backups };

  // where the MongoDB primary is (the first stage's reading stays the "before")
  const readMongo = async (): Promise<MongoPrimaryRef | null | undefined> => {
    if (!inputs.mongo) return undefined;
    try {
      const st = await readPrimaryStatus({ ...inputs.mongo, timeoutMs: 120_000 }, ctx);
      return st.primary ? { host: st.primary.host, ...(st.primary.site ? { site: st.primary.site } : {}) } : null;
    } catch (e) {
      log.warning(`could not read the MongoDB primary for the record: ${(e as Error).message}`);
      return undefined;
    }
  };
  if (inputs.mongo && record.mongo?.before === undefined) {
    const before = await readMongo();
    if (before !== undefined) record.mongo = { ...(record.mongo ?? {}), before };
  }

  const traffic = inputs.traffic?.create(ctx);
  const engine = new ReleaseEngine(inputs, ctx, helm, chart, record, traffic, deps);
  const contexts = inputs.targets.map((s) => engine.siteContext(s));
  const sites = contexts.map((sc) => sc.name);

  // values hashes must match the preflight's for per-site stages
  const checkRecordFor = (sc: SiteContext): void => {
    const e = record.sites[sc.name];
    if (e?.valuesHash && e.valuesHash !== sc.valuesHash) {
      throw new InputError(inputs.recordInput, `the values of site ${sc.name} differ from those its preflight checked (values hash): run the preflight again`);
    }
  };

  const finish = async (result: ReleaseResult | undefined, failure?: string, extra: string[] = []): Promise<HelmReleaseOutputs> => {
    record.result = result ?? overallResult(record);
    if (inputs.mongo && inputs.command !== 'preflight' && !inputs.dryRun) {
      const after = await readMongo();
      if (after !== undefined) record.mongo = { ...(record.mongo ?? {}), after };
    }
    if (record.mongo) {
      const d = (p: MongoPrimaryRef | null | undefined): string => (p === undefined ? 'not read' : p === null ? 'NONE' : `${p.host} (${p.site ?? 'no site'})`);
      extra = [...extra, `MongoDB primary: before ${d(record.mongo.before)}${record.mongo.after !== undefined ? `, after ${d(record.mongo.after)}` : ''}`];
    }
    await engine.persist();
    ctx.platform.attach?.(RECORD_ATTACHMENT_TYPE, path.basename(inputs.recordPath, '.json'), inputs.recordPath);
    const reportFile = writeReportFile(record, inputs.recordPath);
    log.info(`release page: ${reportFile}`);
    headerReport(summary, record, [...notes, ...extra, `Record: \`${inputs.recordPath}\` · release page: \`${reportFile}\``]);
    siteTable(summary, record, inputs.command === 'run' || inputs.command === 'preflight' ? sites : record.siteOrder);
    ganttReport(summary, record, inputs.command === 'run' || inputs.command === 'preflight' ? sites : record.siteOrder);
    if (engine.diffs.size || inputs.command === 'preflight' || record.result === 'preflight-failed' || record.result === 'dry-run') {
      preflightReport(summary, record, sites, engine.diffs);
    }
    const outputs: HelmReleaseOutputs = { result: record.result, record, recordFile: inputs.recordPath, reportFile, rollbackSites: sitesNeedingRollback(record) };
    if (failure !== undefined) {
      const err = new PreconditionError(failure);
      (err as StackHubError).outputs = { ...outputs };
      throw err;
    }
    return outputs;
  };

  // preflight of the targeted sites (all of them for run), before any site is touched
  // (results in the order of the sites)
  const runPreflight = async (): Promise<{ sc: SiteContext; r: PreflightResult }[]> => {
    const results: { sc: SiteContext; r: PreflightResult }[] = [];
    let done = 0;
    // read-only: up to 4 sites at once, or maxParallel with the parallel strategy
    const width = inputs.strategy === 'parallel' ? Math.max(4, inputs.maxParallel) : 4;
    await pool(contexts, Math.min(width, contexts.length), async (sc) => {
      const r = await log.group(`preflight ${sc.name}`, () => engine.preflight(sc));
      results.push({ sc, r });
      await engine.savePreflight(sc, r);
      log.progress((++done * 100) / contexts.length / (inputs.command === 'run' && !inputs.dryRun ? 3 : 1), `preflight ${sc.name}: ${r.ok ? 'passed' : 'FAILED'}`);
    });
    return results.sort((a, b) => contexts.indexOf(a.sc) - contexts.indexOf(b.sc));
  };
  const preflightFailure = (results: { sc: SiteContext; r: PreflightResult }[]): string | undefined => {
    const bad = results.filter((x) => !x.r.ok);
    if (!bad.length) return undefined;
    return `preflight failed on ${bad.map((x) => x.sc.name).join(', ')} (no site was touched): ${bad
      .map(({ sc, r }) => `${sc.name}: ${r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`)
      .join(' | ')}`;
  };

  switch (inputs.command) {
    case 'preflight': {
      for (const sc of contexts) checkRecordFor(sc);
      const results = await runPreflight();
      const bad = preflightFailure(results);
      return finish(undefined, bad);
    }

    case 'run': {
      const results = await runPreflight();
      const bad = preflightFailure(results);
      if (bad) return finish('preflight-failed', bad);
      if (inputs.dryRun) return finish('dry-run', undefined, ['**Dry run**: stopped after the preflight; nothing was changed.']);
      return orchestrate(inputs, ctx, engine, contexts, finish);
    }

    case 'upgrade': {
      const [sc] = contexts;
      const name = sc.name;
      checkRecordFor(sc);
      assertReadyToUpgrade(record, name, inputs);
      await engine.captureTrafficBefore();
      const e = await engine.upgrade(sc);
      if (e.status === 'failed') {
        const extra: string[] = [];
        if (inputs.onFailure === 'rollback-all') {
          const rb = await engine.rollback(sc);
          extra.push(await engine.restoreTraffic([name], false));
          if (rb.status === 'rollback-failed') return finish(undefined, `site ${name} failed (${e.error}) and its ROLLBACK FAILED: an operator must restore it (${rb.rollback?.detail})`, extra);
        }
        const others = sitesNeedingRollback(record).filter((s) => s !== name);
        return finish(
          undefined,
          `site ${name} failed: ${e.error}${inputs.onFailure === 'rollback-all' ? `; ${name} rolled back${others.length ? `; roll back ${others.join(', ')} with the rollback command` : ''}` : ''}`,
          extra,
        );
      }
      await engine.captureTrafficAfter();
      return finish(undefined);
    }

    case 'verify': {
      const [sc] = contexts;
      const name = sc.name;
      const e = record.sites[name];
      if (!e || (e.status !== 'succeeded' && e.status !== 'unchanged')) {
        throw new PreconditionError(`site ${name} is ${e?.status ?? 'not in the record'}: only an upgraded site can be verified`);
      }
      const v = await engine.verify(sc);
      if (v.status === 'failed') {
        const extra: string[] = [];
        if (inputs.onFailure === 'rollback-all' && v.changed) {
          const rb = await engine.rollback(sc);
          extra.push(await engine.restoreTraffic([name], false));
          if (rb.status === 'rollback-failed') return finish(undefined, `site ${name} failed its verification and its ROLLBACK FAILED: an operator must restore it`, extra);
        }
        return finish(undefined, `site ${name} failed its verification: ${v.error}`, extra);
      }
      return finish(undefined);
    }

    case 'rollback': {
      const [sc] = contexts;
      const name = sc.name;
      const rb = await engine.rollback(sc);
      const extra = rb.rollback?.action === 'none' && !rb.changed ? [] : [await engine.restoreTraffic([name], false)];
      if (rb.status === 'rollback-failed') return finish(undefined, `ROLLBACK of site ${name} FAILED: an operator must restore it (${rb.rollback?.detail})`, extra);
      log.info(`${name}: ${rb.rollback?.detail ?? 'not changed by this release: nothing to roll back'}`);
      return finish(undefined, undefined, extra);
    }
  }
}

/** Per-site upgrade: every site passed its preflight; in sequential order every earlier site is done. */
function assertReadyToUpgrade(record: ReleaseRecord, name: string, inputs: HelmReleaseInputs): void {
  const missing = record.siteOrder.filter((n) => !record.sites[n]?.preflight);
  if (missing.length) throw new PreconditionError(`no preflight in the release record for ${missing.join(', ')}: run the preflight on every site before upgrading any`);
  const failed = record.siteOrder.filter((n) => record.sites[n]?.preflight?.ok === false);
  if (failed.length) throw new PreconditionError(`the preflight failed on ${failed.join(', ')}: no site may be upgraded`);
  const broken = record.siteOrder.filter((n) => n !== name && ['failed', 'rolled-back', 'rollback-failed'].includes(record.sites[n]?.status ?? ''));
  if (broken.length && inputs.onFailure !== 'continue') {
    throw new PreconditionError(`the release failed on ${broken.join(', ')} (onFailure ${inputs.onFailure}): not upgrading ${name}; roll back the changed sites`);
  }
  if (inputs.strategy === 'sequential') {
    const idx = record.siteOrder.indexOf(name);
    const notDone = record.siteOrder.slice(0, idx).filter((n) => !['succeeded', 'unchanged'].includes(record.sites[n]?.status ?? '') && !(inputs.onFailure === 'continue' && record.sites[n]?.status === 'failed'));
    if (notDone.length) {
      throw new PreconditionError(`sequential release: ${notDone.map((n) => `${n} is ${record.sites[n]?.status ?? 'pending'}`).join(', ')}; sites are upgraded in the sites file's order`);
    }
  }
}

type Finish = (result: ReleaseResult | undefined, failure?: string, extra?: string[]) => Promise<HelmReleaseOutputs>;

/** The orchestrated rollout after a passed preflight. */
async function orchestrate(
  inputs: HelmReleaseInputs,
  ctx: RunContext,
  engine: ReleaseEngine,
  contexts: SiteContext[],
  finish: Finish,
): Promise<HelmReleaseOutputs> {
  const { log } = ctx;
  const sites = contexts.map((sc) => sc.name);
  await engine.captureTrafficBefore();
  const failures: string[] = [];
  let done = 0;
  const limit = inputs.strategy === 'parallel' ? inputs.maxParallel : 1;
  await pool(contexts, limit, async (sc, stop) => {
    log.progress(33 + (done * 33) / sites.length, `upgrading ${sc.name}`);
    const e = await engine.upgrade(sc);
    done++;
    log.info(`${sc.name}: ${e.status}${e.error ? ` (${e.error})` : ''}`);
    if (e.status === 'failed') {
      failures.push(sc.name);
      if (inputs.onFailure !== 'continue') stop();
    }
  });
  for (const n of sites) {
    const e = engine.record.sites[n];
    if (e && (e.status === 'preflight-ok' || e.status === 'pending')) await engine.save({ ...e, status: 'skipped' });
  }

  const extra: string[] = [];
  if (failures.length && inputs.onFailure === 'rollback-all') {
    const changedSites = contexts.filter((sc) => engine.record.sites[sc.name]?.changed);
    const changed = changedSites.map((sc) => sc.name);
    log.info(`rolling back ${changed.join(', ') || 'nothing'} (onFailure rollback-all)`);
    const order = inputs.strategy === 'sequential' ? [...changedSites].reverse() : changedSites;
    let rolled = 0;
    await pool(order, limit, async (sc) => {
      log.progress(66 + (rolled++ * 34) / Math.max(1, order.length), `rolling back ${sc.name}`);
      await engine.rollback(sc);
    });
    extra.push(await engine.restoreTraffic(sites, true));
    const rbFailed = sites.filter((n) => engine.record.sites[n]?.status === 'rollback-failed');
    if (rbFailed.length) {
      return finish(undefined, `release failed on ${failures.join(', ')}; ROLLBACK FAILED on ${rbFailed.join(', ')}: an operator must restore ${rbFailed.length > 1 ? 'them' : 'it'}`, extra);
    }
    return finish(undefined, `release failed on ${failures.join(', ')} (${engine.record.sites[failures[0]]?.error}); rolled back ${changed.join(', ')}`, extra);
  }
  await engine.captureTrafficAfter();
  log.progress(100, 'release done');
  if (failures.length) {
    const drained = failures.filter((n) => engine.record.sites[n]?.traffic?.drained && !engine.record.sites[n]?.traffic?.restored);
    if (drained.length) extra.push(`traffic: ${drained.join(', ')} stay drained`);
    return finish(undefined, `release failed on ${failures.join(', ')} (${engine.record.sites[failures[0]]?.error}); onFailure ${inputs.onFailure}: nothing rolled back`, extra);
  }
  return finish(undefined);
}
