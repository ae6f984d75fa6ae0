/**
 * The replica set as the primary operations see it: the server's replies (replSetGetStatus, replSetGetConfig, hello)
 * as mongosh prints them with `EJSON.stringify` (relaxed Extended JSON), the member → site mapping, the per-member
 * status rows, and the pure decisions of `primary move` (which member, refusals, the raised and the final
 * priorities, the forced configuration). No I/O here.
 *
 * Site mapping (first that applies): the member's replica-set tag `site` (`members[n].tags.site`), else the sites
 * file's `mongo.members` list of `host:port` of each site. A tag naming an unknown site, or a member claimed by two
 * sites, is refused.
 */
import { InputError, PreconditionError } from '../shared/errors';
import type { Site } from '../shared/sites';

/** Relaxed EJSON of a BSON Timestamp: `{ $timestamp: { t, i } }`. */
export interface EjsonTimestamp {
  $timestamp: { t: number; i: number };
}
/** Relaxed EJSON of a date: `{ $date: "ISO" }` (or `{ $date: { $numberLong } }` outside 1970-9999). */
export type EjsonDate = { $date: string | number | { $numberLong: string } };
/** An optime `{ ts, t }`. */
export interface OpTime {
  ts: EjsonTimestamp;
  t: number;
}

/** One entry of `replSetGetStatus.members` (the fields used). */
export interface StatusMember {
  _id: number;
  name: string;
  health: number;
  state: number;
  stateStr: string;
  optime?: OpTime;
  optimeDate?: EjsonDate;
  self?: boolean;
  lastHeartbeatMessage?: string;
  syncSourceHost?: string;
  configVersion?: number;
}

/** The `replSetGetStatus` reply (the fields used). */
export interface ReplSetStatus {
  set: string;
  date: EjsonDate;
  myState: number;
  term: number;
  majorityVoteCount?: number;
  writeMajorityCount?: number;
  votingMembersCount?: number;
  optimes: { lastCommittedOpTime: OpTime; appliedOpTime: OpTime; lastCommittedWallTime?: EjsonDate };
  members: StatusMember[];
  ok: number;
}

/** One member of a replica set configuration. */
export interface ConfigMember {
  _id: number;
  host: string;
  arbiterOnly: boolean;
  buildIndexes: boolean;
  hidden: boolean;
  priority: number;
  tags: Record<string, string>;
  secondaryDelaySecs?: number;
  slaveDelay?: number;
  votes: number;
}

/** A replica set configuration (`replSetGetConfig.config`). */
export interface ReplSetConfig {
  _id: string;
  version: number;
  term?: number;
  protocolVersion?: number;
  members: ConfigMember[];
  settings?: Record<string, unknown>;
  [k: string]: unknown;
}

/** What one status read returns (the mongosh script's `status` op). */
export interface ReplSetView {
  /** The member that answered (host:port). */
  from: string;
  status: ReplSetStatus;
  config: ReplSetConfig;
  hello: { isWritablePrimary: boolean; primary?: string; me: string; setName: string; setVersion: number };
}

/** One row of `primary status`. */
export interface MemberRow {
  id: number;
  host: string;
  site?: string;
  state: string;
  priority: number;
  votes: number;
  hidden: boolean;
  arbiter: boolean;
  healthy: boolean;
  /** Seconds behind the primary (or the newest member when there is no primary); undefined for arbiters. */
  lagSeconds?: number;
  /** Why it cannot become primary ([] = electable). */
  notElectable: string[];
}

/** A summary of the replica set. */
export interface PrimaryStatus {
  set: string;
  term: number;
  configVersion: number;
  from: string;
  primary?: { host: string; site?: string };
  /** The commit point is in the current term (a new primary's first write is majority-committed). */
  majorityCommitted: boolean;
  members: MemberRow[];
}

/** ms since the epoch of a relaxed EJSON date (undefined when absent). */
export function ejsonMillis(d: EjsonDate | string | undefined): number | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'string') return Date.parse(d);
  const v = d.$date;
  if (typeof v === 'string') return Date.parse(v);
  if (typeof v === 'number') return v;
  return Number(v.$numberLong);
}

const norm = (h: string): string => h.trim().toLowerCase();

/** member host → site name, from tags `{site}` or the sites file's `mongo.members`. */
export function memberSites(config: ReplSetConfig, sites: readonly Site[], input = 'sitesFile'): Map<string, string | undefined> {
  const byHost = new Map<string, string>();
  for (const s of sites) {
    for (const h of s.mongo?.members ?? []) {
      const prev = byHost.get(norm(h));
      if (prev && prev !== s.name) throw new InputError(input, `mongo member ${h} is listed by sites ${prev} and ${s.name}`);
      byHost.set(norm(h), s.name);
    }
  }
  const names = new Set(sites.map((s) => s.name));
  const out = new Map<string, string | undefined>();
  for (const m of config.members) {
    const tag = m.tags?.site;
    if (tag !== undefined) {
      if (names.size && !names.has(tag)) throw new InputError(input, `replica-set member ${m.host} is tagged site '${tag}', which is not a site of the sites file (${[...names].join(', ')})`);
      const listed = byHost.get(norm(m.host));
      if (listed && listed !== tag) throw new InputError(input, `replica-set member ${m.host} is tagged site '${tag}' but the sites file lists it under ${listed}`);
      out.set(m.host, tag);
    } else out.set(m.host, byHost.get(norm(m.host)));
  }
  return out;
}

/** Why a configured member cannot be elected (static reasons). */
function configReasons(c: ConfigMember): string[] {
  const r: string[] = [];
  if (c.arbiterOnly) r.push('arbiter');
  if (c.hidden) r.push('hidden');
  if (c.priority === 0) r.push('priority 0');
  if (c.votes === 0) r.push('votes 0');
  const delay = c.secondaryDelaySecs ?? c.slaveDelay ?? 0;
  if (delay > 0) r.push(`delayed ${delay} s`);
  return r;
}

/** The per-member rows of a view. */
export function summarize(view: ReplSetView, sites: readonly Site[], input = 'sitesFile'): PrimaryStatus {
  const map = memberSites(view.config, sites, input);
  const byId = new Map(view.status.members.map((m) => [m._id, m]));
  const primary = view.status.members.find((m) => m.state === 1 && m.health === 1);
  const ref = primary
    ? ejsonMillis(primary.optimeDate)
    : Math.max(...view.status.members.filter((m) => m.health === 1 && m.optimeDate).map((m) => ejsonMillis(m.optimeDate) ?? 0));
  const members: MemberRow[] = view.config.members.map((c) => {
    const s = byId.get(c._id);
    const healthy = !!s && s.health === 1 && (s.state === 1 || s.state === 2 || s.state === 7);
    const t = ejsonMillis(s?.optimeDate);
    const lagSeconds = c.arbiterOnly || !healthy || t === undefined || ref === undefined || !Number.isFinite(ref) ? undefined : Math.max(0, Math.round((ref - t) / 1000));
    const notElectable = configReasons(c);
    if (!healthy) notElectable.push(s ? `${s.stateStr}${s.lastHeartbeatMessage ? ` (${s.lastHeartbeatMessage})` : ''}` : 'not in the status');
    return {
      id: c._id,
      host: c.host,
      site: map.get(c.host),
      state: s?.stateStr ?? 'UNKNOWN',
      priority: c.priority,
      votes: c.votes,
      hidden: c.hidden,
      arbiter: c.arbiterOnly,
      healthy,
      lagSeconds,
      notElectable,
    };
  });
  return {
    set: view.status.set,
    term: view.status.term,
    configVersion: view.config.version,
    from: view.from,
    primary: primary ? { host: primary.name, site: map.get(primary.name) } : undefined,
    majorityCommitted: !!primary && view.status.optimes.lastCommittedOpTime.t === view.status.term,
    members,
  };
}

/** How the move is done. */
export type MovePlan =
  | { kind: 'already'; target: MemberRow }
  | { kind: 'stepdown'; target: MemberRow; primary: string; raised: ReplSetConfig; final: ReplSetConfig; original: ReplSetConfig }
  | { kind: 'force'; target: MemberRow; forced: ReplSetConfig; dropped: MemberRow[] };

/** Options of {@link planMove}. */
export interface MoveOptions {
  site: string;
  maxLagSeconds: number;
  allowForceReconfig: boolean;
}

const MAX_PRIORITY = 1000;

/**
 * Decides how to move the primary to `site`. Refuses (PreconditionError, nothing changed) when the site has no
 * electable member within maxLagSeconds, or when there is no primary (majority lost) and allowForceReconfig is off.
 */
export function planMove(st: PrimaryStatus, config: ReplSetConfig, o: MoveOptions): MovePlan {
  const mine = st.members.filter((m) => m.site === o.site);
  if (mine.length === 0) {
    throw new InputError('site', `no member of replica set ${st.set} belongs to site ${o.site} (tag members with {site: "${o.site}"} or list them in the site's mongo.members)`);
  }
  if (st.primary?.site === o.site) return { kind: 'already', target: mine.find((m) => m.host === st.primary!.host)! };
  const electable = mine.filter((m) => m.notElectable.length === 0);
  if (electable.length === 0) {
    throw new PreconditionError(`site ${o.site} has no electable member of replica set ${st.set}: ${mine.map((m) => `${m.host} (${m.notElectable.join(', ')})`).join('; ')}; nothing was changed`);
  }
  const target = [...electable].sort((a, b) => (a.lagSeconds ?? Infinity) - (b.lagSeconds ?? Infinity) || b.priority - a.priority || a.id - b.id)[0];
  if (target.lagSeconds === undefined || target.lagSeconds > o.maxLagSeconds) {
    throw new PreconditionError(`${target.host} (site ${o.site}) is ${target.lagSeconds ?? '?'} s behind ${st.primary ? `the primary ${st.primary.host}` : 'the newest member'}, more than maxLagSeconds ${o.maxLagSeconds}: moving the primary there would wait on (or, forced, lose) that much replication; nothing was changed`);
  }
  if (!st.primary) {
    if (!o.allowForceReconfig) {
      throw new PreconditionError(`replica set ${st.set} has no primary (a majority of voting members is unreachable from ${st.from}): the primary can be moved to ${o.site} only by a forced reconfiguration, which can lose writes the old primary took that did not replicate; set allowForceReconfig: true to do it; nothing was changed`);
    }
    const down = st.members.filter((m) => !m.healthy);
    const forced = structuredClone(config);
    forced.version = config.version + 1; // the server raises a forced version further by a large random number
    for (const c of forced.members) {
      if (down.some((d) => d.id === c._id)) {
        c.votes = 0;
        c.priority = 0;
      }
    }
    const tc = forced.members.find((c) => c._id === target.id)!;
    tc.priority = Math.min(MAX_PRIORITY, Math.max(...forced.members.map((c) => c.priority)) + 1);
    return { kind: 'force', target, forced, dropped: down };
  }
  // raised: the target strictly above every other member, so the election after the step-down picks it
  const raised = structuredClone(config);
  raised.version = config.version + 1;
  const top = Math.max(...config.members.map((c) => c.priority));
  const rt = raised.members.find((c) => c._id === target.id)!;
  if (top >= MAX_PRIORITY && rt.priority < MAX_PRIORITY) throw new PreconditionError(`a member already has the highest priority ${MAX_PRIORITY}: the target cannot be raised above it; nothing was changed`);
  rt.priority = Math.min(MAX_PRIORITY, top + 1);
  return { kind: 'stepdown', target, primary: st.primary.host, raised, final: finalConfig(config, target.id, raised.version + 1), original: config };
}

/**
 * The configured priorities back, led by the target: a literal restore would let a member of higher priority take
 * the primary back (priority takeover), so the target takes the highest configured priority and the members that
 * held it take the target's former one. Every other member keeps its configured priority.
 */
export function finalConfig(config: ReplSetConfig, targetId: number, version: number): ReplSetConfig {
  const out = structuredClone(config);
  out.version = version;
  const top = Math.max(...config.members.map((c) => c.priority));
  const t = out.members.find((c) => c._id === targetId)!;
  const was = config.members.find((c) => c._id === targetId)!.priority;
  if (was === top) return out;
  for (const c of out.members) if (c._id !== targetId && c.priority === top) c.priority = was;
  t.priority = top;
  return out;
}

/** Priorities `host=p` for messages. */
export function priorities(config: ReplSetConfig): string {
  return config.members.map((c) => `${c.host}=${c.priority}`).join(', ');
}
