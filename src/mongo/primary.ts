/**
 * `primary-status` and `primary-move`: where the replica set's primary is, per site, and moving it to a site —
 * through mongosh where the tools run (the agent, or `kubectl exec` into the site's MongoDB pod; see place.ts).
 *
 * Why mongosh and not the `mongodb` Node driver: with kubectl-exec the commands must run inside the pod (the
 * database is not reachable from the agent network — that is the point of that place), and only a tool present in
 * the pod can do that; the driver would need network reach from the agent to every member. mongosh ships in the
 * official MongoDB images next to mongod, so one path serves both places.
 *
 * Move (a primary exists): 1. read the status from a member of the target site; refuse when the site has no
 * electable member within maxLagSeconds; 2. `replSetReconfig` on the primary with the target's priority above all
 * others; 3. `replSetStepDown` on the primary with `secondaryCatchUpPeriodSecs` (a failure puts the configured
 * priorities back); 4. wait until the target is PRIMARY and the commit point is in its term (majority-committed);
 * 5. `replSetReconfig` to the configured priorities led by the target (see replset.ts finalConfig).
 * Move without a primary (majority lost): only with allowForceReconfig — `replSetReconfig {force: true}` on the
 * target, unreachable members votes 0 / priority 0, then 4.
 */
import type { RunContext } from '../platform/capability';
import { PreconditionError, StackHubError } from '../shared/errors';
import type { MongoInputs } from './inputs';
import { openPlace, type ToolPlace } from './place';
import { parseResult, primaryScript, type PrimaryJob } from './primary-script';
import { planMove, priorities, summarize, type PrimaryStatus, type ReplSetConfig, type ReplSetView } from './replset';

/** What the primary commands return. */
export interface PrimaryResult {
  before?: PrimaryStatus;
  after: PrimaryStatus;
  moved: boolean;
  forced: boolean;
}

/** Outputs of the primary commands. */
export interface PrimaryOutputs {
  primaryBefore: string;
  primaryAfter?: string;
  primarySite: string;
  members: unknown[];
}

interface Reply {
  ok: number;
  errmsg?: string;
  code?: number;
  codeName?: string;
  errorName?: string;
}

/** `host (site)`, or '' without a primary. */
export function describePrimary(s: PrimaryStatus | undefined): string {
  return s?.primary ? `${s.primary.host} (${s.primary.site ?? 'no site'})` : '';
}

/** Runs one job of the script where the tools run. */
async function runJob<T>(place: ToolPlace, job: PrimaryJob, timeoutMs: number): Promise<T> {
  const out = await place.mongoshFile((cfg) => primaryScript(job, cfg), { timeoutMs });
  const r = parseResult<T & { error?: string }>(out);
  if (!r) throw new StackHubError(`mongosh (${job.op}) printed no result`);
  if (r.error) throw new PreconditionError(`mongosh (${job.op}): ${r.error}`);
  return r;
}

/** The seed hosts of the connection (the config may name the members differently: both are tried). */
function seedHosts(inputs: Pick<MongoInputs, 'source'>): string[] {
  const ep = inputs.source!;
  const uri = ep.place === 'agent' ? ep.uri : 'uri' in ep.config ? ep.config.uri : undefined;
  return uri && !uri.srv ? uri.hosts.map((h) => (h.includes(':') ? h : `${h}:27017`)) : [];
}

async function readView(place: ToolPlace, hosts: string[], timeoutMs: number): Promise<ReplSetView> {
  const r = await runJob<ReplSetView & { errors?: { host: string; errmsg: string; codeName?: string }[] }>(place, { op: 'status', hosts }, timeoutMs);
  if (r.errors) {
    throw new PreconditionError(`no replica-set member answered from ${place.description}: ${r.errors.map((e) => `${e.host}: ${e.codeName ? `${e.codeName}: ` : ''}${e.errmsg}`).join('; ') || 'no hosts to try'}`);
  }
  return r;
}

function statusTable(ctx: RunContext, title: string, st: PrimaryStatus): void {
  ctx.summary.text(`**${title}**: replica set ${st.set}, term ${st.term}, config version ${st.configVersion}, primary ${describePrimary(st) || 'NONE'}${st.primary ? (st.majorityCommitted ? ' (majority-committed)' : ' (commit point not yet in this term)') : ''}; read from ${st.from}.`);
  ctx.summary.table(
    ['member', 'site', 'state', 'priority', 'votes', 'lag (s)', 'health', 'electable'],
    st.members.map((m) => [m.host, m.site ?? '?', m.state, m.priority, m.votes, m.lagSeconds ?? '', m.healthy ? 'ok' : 'DOWN', m.notElectable.length ? `no (${m.notElectable.join(', ')})` : 'yes']),
  );
}

/** The outputs for a result. */
export function primaryOutputs(r: PrimaryResult): PrimaryOutputs {
  return {
    primaryBefore: describePrimary(r.before ?? r.after),
    primaryAfter: r.before ? describePrimary(r.after) : undefined,
    primarySite: r.after.primary?.site ?? '',
    members: r.after.members.map((m) => ({ host: m.host, site: m.site, state: m.state, priority: m.priority, votes: m.votes, lagSeconds: m.lagSeconds, healthy: m.healthy })),
  };
}

/** Reads the replica-set status (every member, by site). Opens and cleans up its own place. */
export async function readPrimaryStatus(inputs: Pick<MongoInputs, 'source' | 'kube' | 'sites' | 'timeoutMs'>, ctx: RunContext, hosts?: string[]): Promise<PrimaryStatus> {
  const place = await openPlace(inputs.source!, inputs.kube, ctx);
  try {
    return summarize(await readView(place, hosts ?? seedHosts(inputs), inputs.timeoutMs), inputs.sites);
  } finally {
    const w = await place.cleanup();
    if (w) ctx.log.warning(w);
  }
}

/** primary-status. */
export async function primaryStatus(inputs: MongoInputs, ctx: RunContext): Promise<PrimaryResult> {
  const after = await readPrimaryStatus(inputs, ctx);
  statusTable(ctx, 'Mongo primary', after);
  ctx.log.info(`replica set ${after.set}: primary ${describePrimary(after) || 'NONE'}`);
  return { after, moved: false, forced: false };
}

/** primary-move to inputs.site. */
export async function primaryMove(inputs: MongoInputs, ctx: RunContext): Promise<PrimaryResult> {
  const o = inputs.primary;
  const place = await openPlace(inputs.source!, inputs.kube, ctx);
  const t = inputs.timeoutMs;
  try {
    // 1. read from the target site first (after a site loss, that is what still answers)
    const seeds = seedHosts(inputs);
    let view = await readView(place, seeds, t);
    const mine = summarize(view, inputs.sites).members.filter((m) => m.site === inputs.site).map((m) => m.host);
    const order = [...mine, ...view.config.members.map((m) => m.host).filter((h) => !mine.includes(h)), ...seeds];
    const hosts = [...new Set(order)];
    if (mine.length && !mine.includes(view.from)) view = await readView(place, hosts, t).catch(() => view);
    const before = summarize(view, inputs.sites);
    statusTable(ctx, 'Mongo primary before', before);
    const plan = planMove(before, view.config, { site: inputs.site, maxLagSeconds: o.maxLagSeconds, allowForceReconfig: o.allowForceReconfig });
    if (plan.kind === 'already') {
      ctx.log.info(`the primary ${plan.target.host} is already at site ${inputs.site}: nothing to move`);
      return { before, after: before, moved: false, forced: false };
    }
    const target = plan.target.host;
    let forced = false;
    if (plan.kind === 'force') {
      ctx.log.warning(`FORCED reconfiguration on ${target}: replica set ${before.set} has no primary; ${plan.dropped.map((d) => d.host).join(', ') || 'no member'} get votes 0 and priority 0. Writes the old primary took that did not replicate to ${inputs.site} will be rolled back when its members return (allowForceReconfig: true)`);
      const r = await runJob<{ reply: Reply }>(place, { op: 'reconfig', host: target, config: plan.forced, force: true }, t);
      if (!r.reply.ok) throw new PreconditionError(`forced replSetReconfig on ${target} failed: ${r.reply.codeName ?? r.reply.code ?? ''} ${r.reply.errmsg ?? ''}`.trim());
      forced = true;
    } else {
      ctx.log.info(`raising ${target} above the other members (${priorities(plan.raised)}) on the primary ${plan.primary}`);
      const r = await runJob<{ reply: Reply }>(place, { op: 'reconfig', host: plan.primary, config: plan.raised, force: false }, t);
      if (!r.reply.ok) throw new PreconditionError(`replSetReconfig on the primary ${plan.primary} failed: ${r.reply.codeName ?? r.reply.code ?? ''} ${r.reply.errmsg ?? ''}; nothing was changed`.replace(/\s+/g, ' '));
      ctx.log.info(`replSetStepDown ${o.stepDownSeconds} s on ${plan.primary}, secondaryCatchUpPeriodSecs ${o.catchUpSeconds}`);
      const sd = await runJob<{ reply: Reply }>(place, { op: 'stepDown', host: plan.primary, stepDownSecs: o.stepDownSeconds, catchUpSecs: o.catchUpSeconds }, t);
      // NotWritablePrimary: the raised target already took over (priority takeover) — the wait below confirms it
      if (!sd.reply.ok && sd.reply.codeName !== 'NotWritablePrimary' && sd.reply.errorName !== 'MongoNetworkError') {
        const back = await putBack(place, hosts, plan.original, t);
        throw new PreconditionError(`replSetStepDown on ${plan.primary} failed: ${sd.reply.codeName ?? sd.reply.code ?? ''} ${sd.reply.errmsg ?? ''}; ${back}`.replace(/\s+/g, ' '));
      }
    }
    // 4. wait until the target is primary and majority-committed
    const w = await runJob<{ done: boolean; polls: number; view?: ReplSetView & { errors?: unknown } }>(place, { op: 'wait', hosts, target, timeoutSecs: o.electionTimeoutSeconds, intervalMs: 1000 }, t);
    const last = w.view && !w.view.errors ? summarize(w.view, inputs.sites) : undefined;
    if (!w.done) {
      if (last) statusTable(ctx, 'Mongo primary now', last);
      throw new PreconditionError(`${target} did not become a majority-committed primary within electionTimeoutSeconds ${o.electionTimeoutSeconds} (primary now: ${describePrimary(last) || 'NONE'}); the raised priority is left in place, see the summary`);
    }
    let after = last!;
    // 5. the configured priorities, led by the target (not after a forced reconfiguration: the lost members keep votes 0)
    if (plan.kind === 'stepdown') {
      const final: ReplSetConfig = { ...plan.final, version: w.view!.config.version + 1 };
      const r = await runJob<{ reply: Reply }>(place, { op: 'reconfig', host: target, config: final, force: false }, t);
      if (!r.reply.ok) ctx.log.warning(`the primary is at ${target}, but restoring the configured priorities failed (${r.reply.codeName ?? ''} ${r.reply.errmsg ?? ''}); the raised priority stays until the next reconfiguration`);
      else ctx.log.info(`priorities now ${priorities(final)}`);
      after = summarize(await readView(place, hosts, t), inputs.sites);
      if (after.primary?.host !== target) throw new PreconditionError(`after restoring the priorities the primary is ${describePrimary(after) || 'NONE'}, not ${target}`);
    }
    statusTable(ctx, 'Mongo primary after', after);
    ctx.summary.table(['primary', 'host (site)'], [['before', describePrimary(before) || 'NONE'], ['after', describePrimary(after)], ...(forced ? [['forced reconfiguration', 'yes — see the warning']] : [])]);
    ctx.log.info(`primary moved: ${describePrimary(before) || 'NONE'} → ${describePrimary(after)}${forced ? ' (forced reconfiguration)' : ''}`);
    return { before, after, moved: true, forced };
  } finally {
    const w = await place.cleanup();
    if (w) ctx.log.warning(w);
  }
}

/** After a failed step-down: the configured priorities back on whichever member is primary. */
async function putBack(place: ToolPlace, hosts: string[], original: ReplSetConfig, t: number): Promise<string> {
  try {
    const v = await readView(place, hosts, t);
    const p = v.status.members.find((m) => m.state === 1);
    if (!p) return 'there is no primary to put the configured priorities back on: the raised priority is in place';
    const r = await runJob<{ reply: Reply }>(place, { op: 'reconfig', host: p.name, config: { ...original, version: v.config.version + 1 }, force: false }, t);
    return r.reply.ok ? `the configured priorities are back (${priorities(original)}); the primary is still ${p.name}` : `putting the configured priorities back failed too (${r.reply.errmsg ?? ''})`;
  } catch (e) {
    return `putting the configured priorities back failed too (${(e as Error).message})`;
  }
}
