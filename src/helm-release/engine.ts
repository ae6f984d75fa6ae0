/**
 * The release logic shared by every command: preflight of a site, reading its state, upgrading it behind its gates
 * (with the traffic coupling), verifying it, and rolling it back to the revision recorded before the release. The
 * orchestrated `run` and the per-site commands (index.ts) are compositions of these steps around one release record.
 */
import type { RunContext } from '../platform/capability';
import { oneLine, PreconditionError, StackHubError, ToolError } from '../shared/errors';
import { netOf } from '../shared/net';
import type { TrafficController, TrafficState } from '../traffic/api';
import {
  getManifestArgs,
  getValuesArgs,
  historyArgs,
  lintArgs,
  rollbackArgs,
  statusArgs,
  templateArgs,
  testArgs,
  uninstallArgs,
  upgradeArgs,
  type KubeTarget,
} from './args';
import type { LocatedChart } from './chart';
import type { HelmRunner } from './helm';
import type { HelmReleaseInputs, ReleaseSite } from './inputs';
import {
  diffManifests,
  existingLoadBalancers,
  imageAllowed,
  imagesOf,
  loadBalancers,
  parseManifests,
  type DiffStats,
} from './manifest';
import { probeUrl } from './probe';
import { putSite, withStep, writeRecord, type Check, type ReleaseRecord, type SiteRecord, type StepName } from './record';
import { assertNotBlocked, describeState, isReleaseNotFound, parseHistory, stateFromHistory, type SiteState } from './state';
import { sameValues } from './values';

/** Everything the steps need about one site: the parsed site and its kubeconfig file. */
export interface SiteContext extends ReleaseSite {
  target: KubeTarget;
}

/** A preflight's outcome for one site. */
export interface PreflightResult {
  ok: boolean;
  checks: Check[];
  state?: SiteState;
  diff?: { text: string; stats: DiffStats; truncated: boolean };
  loadBalancers?: { existing: number; chart: number; limit: number };
  /** The site already runs this chart version with these values. */
  unchanged?: boolean;
  /** When the preflight started (ISO). */
  startedAt?: string;
}

/** Dependencies that tests replace. */
export interface EngineDeps {
  sleep(ms: number): Promise<void>;
  now(): Date;
}

/** A failure of one site's step: the message, already one line. */
function failMessage(e: unknown): string {
  return oneLine(e);
}

/** One release in progress. */
export class ReleaseEngine {
  /** Diff text per site for the summary (never logged). */
  readonly diffs = new Map<string, { text: string; stats: DiffStats; truncated: boolean }>();
  /** The write in progress (one at a time); `dirty` says a change arrived after it took its snapshot. */
  private flushing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    readonly inputs: HelmReleaseInputs,
    readonly ctx: RunContext,
    readonly helm: HelmRunner,
    readonly chart: LocatedChart,
    readonly record: ReleaseRecord,
    readonly traffic: TrafficController | undefined,
    readonly deps: EngineDeps,
  ) {}

  /** The context of a site (kubeconfig written 0600 on first use). */
  siteContext(site: ReleaseSite): SiteContext {
    return { ...site, target: this.helm.target(site.name, site.cluster) };
  }

  /** The site's record entry (a fresh one when the record has none). */
  entry(name: string): SiteRecord {
    return this.record.sites[name] ?? { site: name, seq: 0, updatedAt: this.deps.now().toISOString(), status: 'pending', changed: false };
  }

  /** Stores a site's entry and writes the record file (serialised: parallel sites write one after the other). */
  async save(entry: SiteRecord): Promise<SiteRecord> {
    const e = putSite(this.record, { ...entry, error: entry.error && this.ctx.masker.scrub(entry.error) }, this.deps.now());
    await this.persist();
    return e;
  }

  /**
   * Writes the record file; resolves once a write that includes every change made before the call is on disk.
   * Changes that arrive together (parallel sites finishing a step at once) share one write instead of one each:
   * the write waits for the current turn of the event loop to end, and a change during a write makes one more.
   */
  persist(): Promise<void> {
    this.dirty = true;
    this.flushing ??= (async () => {
      try {
        while (this.dirty) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.dirty = false;
          await writeRecord(this.record, this.inputs.recordPath);
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  // ------------------------------------------------------------------------------------------------- reads

  /**
   * The site's state from `helm history -o json`. Not installed ONLY on `release: not found`; any other failure
   * throws a PreconditionError (never taken for "not installed").
   */
  async readState(sc: SiteContext): Promise<SiteState> {
    let stdout: string;
    try {
      stdout = (await this.helm.run(historyArgs({ release: this.inputs.release, target: sc.target }), { capture: true, quiet: true, timeoutMs: 120_000 })).stdout;
    } catch (e) {
      if (e instanceof ToolError && isReleaseNotFound(e.stderrTail)) return { installed: false };
      throw new PreconditionError(
        `site ${sc.name}: cannot read the state of release ${this.inputs.release} (helm history: ${failMessage(e)}); stopping: a failed read is never taken for "not installed"`,
      );
    }
    return stateFromHistory(parseHistory(stdout, `site ${sc.name}`));
  }

  /** The user values a site runs (`helm get values -o json`; captured, never printed). */
  async deployedValues(sc: SiteContext): Promise<unknown> {
    const res = await this.helm.run(getValuesArgs({ release: this.inputs.release, target: sc.target }), { capture: true, quiet: true, timeoutMs: 120_000 });
    const text = res.stdout.trim();
    return text === '' || text === 'null' ? {} : (JSON.parse(text) as unknown);
  }

  /** Whether a site already runs this chart version with these values. */
  async isUnchanged(sc: SiteContext, state: SiteState): Promise<boolean> {
    if (!state.installed || state.status !== 'deployed' || state.chart !== `${this.chart.name}-${this.chart.version}`) return false;
    return sameValues(await this.deployedValues(sc), sc.desired);
  }

  // ------------------------------------------------------------------------------------------------ preflight

  /** Every check of one site, without changing anything. Never throws for a failed check. */
  async preflight(sc: SiteContext): Promise<PreflightResult> {
    const checks: Check[] = [];
    const result: PreflightResult = { ok: false, checks, startedAt: this.deps.now().toISOString() };
    const t0 = Date.now();
    const check = (name: string, ok: boolean, detail: string): void => void checks.push({ name, ok, detail });
    const { release } = this.inputs;
    const ns = sc.cluster.namespace;

    // state first: a failed read or a pending operation stops the release
    try {
      result.state = await this.readState(sc);
      assertNotBlocked(result.state, release, ns, sc.name);
      check('state', true, describeState(result.state));
    } catch (e) {
      check('state', false, failMessage(e));
    }

    try {
      await this.ctx.log.group(`${sc.name}: helm lint`, () =>
        this.helm.run(lintArgs({ chart: this.chart.path, ...sc.valueArgs, kubeVersion: sc.cluster.kubeVersion }), { timeoutMs: 300_000 }),
      );
      check('lint', true, 'passed');
    } catch (e) {
      check('lint', false, failMessage(e));
    }

    let rendered: ReturnType<typeof parseManifests> | undefined;
    try {
      const res = await this.helm.run(
        templateArgs({
          release,
          chart: this.chart.path,
          namespace: ns,
          ...sc.valueArgs,
          kubeVersion: sc.cluster.kubeVersion,
          apiVersions: sc.cluster.apiVersions,
          isUpgrade: result.state?.installed,
        }),
        { capture: true, timeoutMs: 300_000 },
      );
      rendered = parseManifests(res.stdout);
      check('template', true, `${rendered.length} objects${sc.cluster.kubeVersion ? ` for Kubernetes ${sc.cluster.kubeVersion}` : ''}`);
    } catch (e) {
      check('template', false, failMessage(e));
    }

    if (rendered && this.inputs.allowedRegistries.length > 0) {
      const bad = imagesOf(rendered, ns).filter((i) => !imageAllowed(i.image, this.inputs.allowedRegistries));
      const uniq = [...new Set(bad.map((b) => `${b.image} (${b.where})`))];
      check(
        'images',
        uniq.length === 0,
        uniq.length === 0
          ? `every image from ${this.inputs.allowedRegistries.join(', ')}`
          : `outside allowedRegistries (${this.inputs.allowedRegistries.join(', ')}): ${uniq.slice(0, 5).join('; ')}${uniq.length > 5 ? ` and ${uniq.length - 5} more` : ''}`,
      );
    }

    try {
      const nsObj = await this.helm.kubeGet(sc.target, { resource: 'namespace', name: ns, output: 'name' });
      if (nsObj !== undefined) check('namespace', true, `${ns} exists`);
      else if (this.inputs.createNamespace) check('namespace', true, `${ns} will be created (createNamespace)`);
      else check('namespace', false, `namespace ${ns} does not exist: create it or set createNamespace`);
    } catch (e) {
      check('namespace', false, failMessage(e));
    }

    if (rendered) {
      try {
        const list = await this.helm.kubeGet(sc.target, { resource: 'services', allNamespaces: true, output: 'json' });
        if (list === undefined) throw new PreconditionError('the API server does not know services');
        const existing = existingLoadBalancers(list, release, ns);
        const chartLbs = loadBalancers(rendered, ns);
        const total = existing.others.length + chartLbs.length;
        const limit = this.inputs.maxLoadBalancers;
        result.loadBalancers = { existing: existing.others.length, chart: chartLbs.length, limit };
        check(
          'load balancers',
          total <= limit,
          total <= limit
            ? `${total} of ${limit} (${existing.others.length} in the cluster + ${chartLbs.length} in the chart)`
            : `${total} Services of type LoadBalancer would exceed ${limit} per cluster (Azure Stack Hub Basic load balancer): ${existing.others.length} in the cluster + ${chartLbs.length} in the chart (${chartLbs.join(', ')}); use an ingress`,
        );
      } catch (e) {
        check('load balancers', false, `cannot count the cluster's LoadBalancer services: ${failMessage(e)}`);
      }
    }

    // diff against what the site runs (summary only, redacted)
    if (rendered && result.state) {
      try {
        let current: ReturnType<typeof parseManifests> = [];
        if (result.state.installed) {
          const res = await this.helm.run(getManifestArgs({ release, target: sc.target }), { capture: true, quiet: true, timeoutMs: 120_000 });
          current = parseManifests(res.stdout);
        }
        result.diff = diffManifests(current, rendered, ns, (s) => this.ctx.masker.scrub(s));
        this.diffs.set(sc.name, result.diff);
        if (result.state.installed) result.unchanged = await this.isUnchanged(sc, result.state);
        const st = result.diff.stats;
        check('diff', true, result.unchanged ? 'same chart version and values: no change' : `${st.added} added, ${st.changed} changed, ${st.removed} removed`);
      } catch (e) {
        check('diff', false, `cannot read what the site runs: ${failMessage(e)}`);
      }
    }

    result.ok = checks.every((c) => c.ok);
    this.ctx.log.debug(`${sc.name}: preflight took ${Date.now() - t0} ms`);
    return result;
  }

  /** Records a preflight in the site's entry. */
  async savePreflight(sc: SiteContext, r: PreflightResult): Promise<SiteRecord> {
    const e = this.entry(sc.name);
    const keepBefore = e.changed ? e.before : undefined;
    const endedAt = this.deps.now().toISOString();
    return this.save({
      ...e,
      steps: withStep(e.steps, { name: 'preflight', startedAt: r.startedAt ?? endedAt, endedAt, outcome: r.ok ? 'ok' : 'failed' }),
      namespace: sc.cluster.namespace,
      helmVersion: this.helm.version,
      valuesHash: sc.valuesHash,
      status: e.changed ? e.status : r.ok ? 'preflight-ok' : 'preflight-failed',
      preflight: {
        ok: r.ok,
        at: this.deps.now().toISOString(),
        checks: r.checks,
        diff: r.diff?.stats,
        loadBalancers: r.loadBalancers,
      },
      before: keepBefore ?? r.state ?? e.before,
      backupId: this.inputs.backups[sc.name] ?? e.backupId,
      error: r.ok ? undefined : r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; '),
    });
  }

  // -------------------------------------------------------------------------------------------------- gates

  /** The gates of a deployed site: helm status, optional helm test, optional probe. */
  async gates(sc: SiteContext, expect: { minRevision?: number; revision?: number }): Promise<Check[]> {
    const out: Check[] = [];
    const { release } = this.inputs;
    let t = Date.now();
    try {
      const res = await this.helm.run(statusArgs({ release, target: sc.target }), { capture: true, quiet: true, timeoutMs: 120_000 });
      const st = JSON.parse(res.stdout) as { version?: number; info?: { status?: string }; chart?: { metadata?: { version?: string } } };
      const status = st.info?.status ?? '?';
      const rev = st.version ?? 0;
      const chartVersion = st.chart?.metadata?.version;
      const problems: string[] = [];
      if (status !== 'deployed') problems.push(`status ${status}`);
      if (expect.minRevision !== undefined && rev < expect.minRevision) problems.push(`revision ${rev}, expected a new revision (> ${expect.minRevision - 1})`);
      if (expect.revision !== undefined && rev !== expect.revision) problems.push(`revision ${rev}, expected ${expect.revision}`);
      if (chartVersion !== undefined && chartVersion !== this.chart.version) problems.push(`chart ${chartVersion}, expected ${this.chart.version}`);
      out.push({ name: 'status', ok: problems.length === 0, detail: problems.length ? problems.join(', ') : `deployed, revision ${rev}`, durationMs: Date.now() - t });
    } catch (e) {
      out.push({ name: 'status', ok: false, detail: failMessage(e), durationMs: Date.now() - t });
    }
    if (this.inputs.helmTest && out.every((c) => c.ok)) {
      t = Date.now();
      try {
        const res = await this.helm.run(testArgs({ release, target: sc.target, timeoutSeconds: sc.timeoutSeconds }), {
          capture: true,
          timeoutMs: (sc.timeoutSeconds + 60) * 1000,
        });
        // print the test phases only (helm test also prints the release NOTES, which may hold values)
        for (const l of res.stdout.split('\n').filter((x) => /^(TEST SUITE|Last Started|Last Completed|Phase):/.test(x.trim()))) this.ctx.log.info(`  ${l.trim()}`);
        out.push({ name: 'helm test', ok: true, detail: 'passed', durationMs: Date.now() - t });
      } catch (e) {
        out.push({ name: 'helm test', ok: false, detail: failMessage(e), durationMs: Date.now() - t });
      }
    }
    const url = sc.probeUrl;
    if (this.inputs.probe.enabled && url && out.every((c) => c.ok)) {
      out.push(await probeUrl(url, this.inputs.probe, netOf(this.ctx).proxyFor, this.deps.sleep));
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------ upgrade

  /**
   * Upgrades one site behind its gates. Never throws for the site's own failure: the entry says `failed` with the
   * reason (a failed site stays drained). Returns the saved entry.
   */
  async upgrade(sc: SiteContext): Promise<SiteRecord> {
    const started = Date.now();
    let e: SiteRecord = { ...this.entry(sc.name), startedAt: this.deps.now().toISOString(), error: undefined, gates: undefined, rollback: undefined };
    e.namespace = sc.cluster.namespace;
    e.helmVersion = this.helm.version;
    e.valuesHash = sc.valuesHash;
    e.backupId = this.inputs.backups[sc.name] ?? e.backupId;
    const done = async (patch: Partial<SiteRecord>): Promise<SiteRecord> => this.save({ ...e, ...patch, durationMs: Date.now() - started });
    const iso = (): string => this.deps.now().toISOString();
    const step = (name: StepName, startedAt: string, outcome: 'ok' | 'failed', detail?: string): void => {
      e.steps = withStep(e.steps, { name, startedAt, endedAt: iso(), outcome, ...(detail ? { detail: this.ctx.masker.scrub(detail) } : {}) });
    };

    // 1. the state right before touching the site
    let now: SiteState;
    try {
      now = await this.readState(sc);
      assertNotBlocked(now, this.inputs.release, sc.cluster.namespace, sc.name);
    } catch (err) {
      return done({ status: 'failed', error: failMessage(err) });
    }
    if (!e.changed) {
      const pre = e.before;
      if (pre && (pre.installed !== now.installed || pre.latestRevision !== now.latestRevision)) {
        return done({
          status: 'failed',
          error: `the release changed on site ${sc.name} since its preflight (${describeState(pre)} → ${describeState(now)}): run the preflight again`,
        });
      }
      e.before = now;
    }

    // 2. idempotent: same chart version and values → nothing to do
    if (!this.inputs.force) {
      try {
        if (await this.isUnchanged(sc, now)) {
          this.ctx.log.info(`${sc.name}: already runs ${this.chart.name} ${this.chart.version} with the same values: no change (force: true releases again)`);
          return done({ status: e.changed ? 'succeeded' : 'unchanged', after: now });
        }
      } catch (err) {
        return done({ status: 'failed', error: `cannot read the deployed values: ${failMessage(err)}` });
      }
    }

    // 3. traffic: take the site out of rotation
    if (this.traffic) {
      const tDrain = iso();
      try {
        const state = await this.traffic.status();
        const serving = state.sites.find((s) => s.site === sc.name)?.enabled ?? false;
        e.traffic = { ...(e.traffic ?? {}), servingBefore: e.traffic?.servingBefore ?? serving };
        if (serving) {
          this.ctx.log.info(`${sc.name}: draining traffic`);
          await this.traffic.drain(sc.name);
          e.traffic.drained = true;
          const wait = this.inputs.traffic!.drainWaitMs;
          if (wait > 0) {
            this.ctx.log.info(`${sc.name}: drained; waiting ${Math.round(wait / 1000)} s for cached answers to expire`);
            await this.deps.sleep(wait);
          }
          step('drain', tDrain, 'ok');
        }
      } catch (err) {
        step('drain', tDrain, 'failed', failMessage(err));
        return done({ status: 'failed', error: `traffic: ${failMessage(err)}` });
      }
    }

    // 4. the upgrade itself: from here on the site counts as changed
    e = await this.save({ ...e, status: 'upgrading', changed: true });
    const tUpgrade = iso();
    try {
      await this.ctx.log.group(`${sc.name}: helm upgrade --install ${this.inputs.release} (${this.chart.name} ${this.chart.version})`, async () => {
        await this.helm.run(
          upgradeArgs({
            major: this.helm.major,
            release: this.inputs.release,
            chart: this.chart.path,
            target: sc.target,
            ...sc.valueArgs,
            timeoutSeconds: sc.timeoutSeconds,
            wait: this.inputs.wait,
            createNamespace: this.inputs.createNamespace,
            atomic: this.inputs.atomic,
            forceReplace: this.inputs.forceReplace,
            description: `stackhub-ha release ${this.record.releaseId}`,
          }),
          // stdout holds the release NOTES (may hold values): captured
          { capture: true, timeoutMs: (sc.timeoutSeconds + 120) * 1000 },
        );
      });
    } catch (err) {
      step('upgrade', tUpgrade, 'failed', failMessage(err));
      const after = await this.readState(sc).catch(() => undefined);
      return done({ status: 'failed', after, error: `helm upgrade: ${failMessage(err)}` });
    }
    step('upgrade', tUpgrade, 'ok');

    // 5. gates
    const tVerify = iso();
    const gates: Check[] = [];
    if (this.inputs.wait) gates.push({ name: 'wait', ok: true, detail: this.helm.major === 4 ? '--wait=watcher' : '--wait' });
    gates.push(...(await this.gates(sc, { minRevision: (now.latestRevision ?? 0) + 1 })));
    const after = await this.readState(sc).catch(() => undefined);
    if (!gates.every((g) => g.ok)) {
      const bad = gates.filter((g) => !g.ok).map((g) => `${g.name}: ${g.detail}`).join('; ');
      step('verify', tVerify, 'failed', bad);
      return done({ status: 'failed', gates, after, error: `gate failed: ${bad}` });
    }
    step('verify', tVerify, 'ok');

    // 6. traffic back
    if (this.traffic && e.traffic?.drained) {
      const tRestore = iso();
      try {
        this.ctx.log.info(`${sc.name}: restoring traffic`);
        await this.traffic.restore(sc.name);
        e.traffic = { ...e.traffic, restored: true, servingAfter: true };
        step('restore-traffic', tRestore, 'ok');
      } catch (err) {
        step('restore-traffic', tRestore, 'failed', failMessage(err));
        return done({ status: 'failed', gates, after, error: `traffic restore: ${failMessage(err)}` });
      }
    }
    return done({ status: 'succeeded', gates, after });
  }

  // ------------------------------------------------------------------------------------------------- verify

  /** Runs the gates of a site the release upgraded (per-site `verify`). */
  async verify(sc: SiteContext): Promise<SiteRecord> {
    const started = Date.now();
    const e = this.entry(sc.name);
    const tVerify = this.deps.now().toISOString();
    const gates = await this.gates(sc, { revision: e.after?.revision });
    const ok = gates.every((g) => g.ok);
    return this.save({
      ...e,
      steps: withStep(e.steps, { name: 'verify', startedAt: tVerify, endedAt: this.deps.now().toISOString(), outcome: ok ? 'ok' : 'failed' }),
      gates: [...(e.gates ?? []).filter((g) => !g.name.startsWith('verify ')), ...gates.map((g) => ({ ...g, name: `verify ${g.name}` }))],
      status: ok ? e.status : 'failed',
      error: ok ? e.error : `verify: ${gates.filter((g) => !g.ok).map((g) => `${g.name}: ${g.detail}`).join('; ')}`,
      durationMs: (e.durationMs ?? 0) + (Date.now() - started),
    });
  }

  // ----------------------------------------------------------------------------------------------- rollback

  /**
   * Puts a site back to what it ran before the release: `helm rollback <rev>` (waiting), or `helm uninstall` where
   * the release was not installed before; then verifies it. Never throws: the entry says rolled-back or
   * rollback-failed.
   */
  async rollback(sc: SiteContext): Promise<SiteRecord> {
    const e = this.entry(sc.name);
    const at = (): string => this.deps.now().toISOString();
    if (!e.changed) {
      return e.status === 'pending' || e.status === 'preflight-ok' ? e : this.save({ ...e, rollback: { ok: true, action: 'none', at: at(), detail: 'not changed by this release' } });
    }
    const before = e.before;
    if (!before) return this.save({ ...e, status: 'rollback-failed', rollback: { ok: false, action: 'none', at: at(), detail: 'the record holds no state from before the release' } });
    const { release } = this.inputs;
    const ns = sc.cluster.namespace;
    const t0 = Date.now();
    const tRollback = at();
    const rbStep = (ok: boolean, detail?: string): SiteRecord['steps'] =>
      withStep(e.steps, { name: 'rollback', startedAt: tRollback, endedAt: at(), outcome: ok ? 'ok' : 'failed', ...(detail ? { detail } : {}) });
    let action: 'rollback' | 'uninstall' | 'none' = before.installed ? 'rollback' : 'uninstall';
    try {
      const cur = await this.readState(sc);
      const already = before.installed
        ? cur.installed && cur.status === 'deployed' && cur.chart === before.chart && (cur.latestRevision === before.latestRevision || e.rollback?.ok === true)
        : !cur.installed;
      if (already) action = 'none';
      else if (before.installed) {
        await this.ctx.log.group(`${sc.name}: helm rollback ${release} ${before.revision}`, () =>
          this.helm.run(
            rollbackArgs({ major: this.helm.major, release, revision: before.revision!, target: sc.target, timeoutSeconds: sc.timeoutSeconds, wait: true }),
            { timeoutMs: (sc.timeoutSeconds + 120) * 1000 },
          ),
        );
      } else {
        await this.ctx.log.group(`${sc.name}: helm uninstall ${release} (not installed before the release)`, async () => {
          try {
            await this.helm.run(
              uninstallArgs({ major: this.helm.major, release, target: sc.target, timeoutSeconds: sc.timeoutSeconds, wait: true, description: `stackhub-ha rollback ${this.record.releaseId}` }),
              { timeoutMs: (sc.timeoutSeconds + 120) * 1000 },
            );
          } catch (err) {
            if (!(err instanceof ToolError && err.stderrTail.some((l) => /release: not found|not found/.test(l)))) throw err;
          }
        });
      }
      // verify
      const now = await this.readState(sc);
      const problems: string[] = [];
      if (before.installed) {
        if (!now.installed || now.status !== 'deployed') problems.push(`status ${now.installed ? now.status : 'not installed'}`);
        else if (now.chart !== before.chart) problems.push(`runs ${now.chart}, expected ${before.chart}`);
      } else if (now.installed) problems.push(`still installed (${now.status})`);
      if (problems.length === 0 && before.installed && this.inputs.probe.enabled && sc.probeUrl) {
        const pc = await probeUrl(sc.probeUrl, this.inputs.probe, netOf(this.ctx).proxyFor, this.deps.sleep);
        if (!pc.ok) problems.push(`probe: ${pc.detail}`);
      }
      if (problems.length) throw new StackHubError(`rollback not verified: ${problems.join(', ')}`);
      const detail = action === 'none' ? `already at ${describeState(before)}` : before.installed ? `rolled back to revision ${before.revision} (now ${describeState(now)})` : 'uninstalled';
      return this.save({
        ...e,
        status: 'rolled-back',
        steps: rbStep(true, detail),
        after: now,
        rollback: { ok: true, action, toRevision: before.revision, at: at(), detail },
        durationMs: (e.durationMs ?? 0) + (Date.now() - t0),
      });
    } catch (err) {
      const msg = failMessage(err);
      this.ctx.log.error(`SITE ${sc.name} NEEDS AN OPERATOR: ${action} of release ${release} failed: ${msg} (namespace ${ns}; it should run ${describeState(before)})`);
      return this.save({
        ...e,
        status: 'rollback-failed',
        steps: rbStep(false, this.ctx.masker.scrub(msg)),
        rollback: { ok: false, action, toRevision: before.revision, at: at(), detail: this.ctx.masker.scrub(msg) },
        durationMs: (e.durationMs ?? 0) + (Date.now() - t0),
      });
    }
  }

  // ------------------------------------------------------------------------------------------------ traffic

  /** Captures the routing before the release (once per release). */
  async captureTrafficBefore(): Promise<void> {
    if (!this.traffic || this.record.traffic?.before) return;
    const before = await this.traffic.status();
    this.record.traffic = { ...(this.record.traffic ?? {}), provider: this.traffic.provider, before };
    await this.persist();
  }

  /**
   * After rollbacks: with `whole` (orchestrated run), routing goes back to the state captured before the run when
   * every rollback was verified; otherwise (and for per-site commands) only the sites whose rollback was verified
   * and that served before come back (a site that needs an operator stays drained). Returns a line for the summary.
   */
  async restoreTraffic(sites: readonly string[], whole: boolean): Promise<string> {
    if (!this.traffic) return '';
    const before: TrafficState | undefined = this.record.traffic?.before;
    const failed = sites.filter((s) => this.record.sites[s]?.status === 'rollback-failed');
    try {
      if (whole && before && failed.length === 0) {
        const r = await this.traffic.undo(before);
        for (const s of sites) this.markTraffic(s, true);
        return r.noChange ? 'traffic: already as before the release' : 'traffic: restored to the state captured before the release';
      }
      const back: string[] = [];
      const now = await this.traffic.status();
      for (const s of sites) {
        const e = this.record.sites[s];
        if (e?.status !== 'rolled-back' || !e.traffic?.servingBefore) continue;
        if (now.sites.find((x) => x.site === s)?.enabled) continue;
        await this.traffic.restore(s);
        this.markTraffic(s, true);
        back.push(s);
      }
      return `traffic: ${back.length ? `restored ${back.join(', ')}` : 'nothing restored'}${failed.length ? `; ${failed.join(', ')} stay drained (rollback failed)` : ''}`;
    } catch (err) {
      const msg = `traffic could not be restored: ${failMessage(err)}`;
      this.ctx.log.error(msg);
      return msg;
    } finally {
      await this.captureTrafficAfter();
    }
  }

  private markTraffic(site: string, serving: boolean): void {
    const e = this.record.sites[site];
    if (e?.traffic?.drained) e.traffic = { ...e.traffic, restored: serving, servingAfter: serving };
  }

  /** Records the routing after the run. */
  async captureTrafficAfter(): Promise<void> {
    if (!this.traffic) return;
    try {
      const after = await this.traffic.status();
      this.record.traffic = { ...(this.record.traffic ?? {}), after };
      await this.persist();
    } catch (err) {
      this.ctx.log.warning(`could not read the traffic state after the release: ${failMessage(err)}`);
    }
  }
}

/** Runs `fn` over items with at most `limit` at once, in order of start; `stop()` prevents new starts. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, stop: () => void) => Promise<void>): Promise<void> {
  let next = 0;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  const worker = async (): Promise<void> => {
    while (!stopped && next < items.length) {
      const item = items[next++];
      await fn(item, stop);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
