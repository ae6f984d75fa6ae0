/**
 * A replica set across two sites for the mongosh double (tests/helpers/mongo-doubles/replset.js): the state file
 * in the World's servers dir, a sites file mapping members to sites (tags for seattle, `mongo.members` for dublin),
 * and readers of the state for assertions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import type { World } from './world';

/** One member of the fake set. */
export interface FakeMember {
  host: string;
  site?: string;
  priority?: number;
  votes?: number;
  hidden?: boolean;
  arbiterOnly?: boolean;
  /** tag the member with {site} (else the sites file lists it) */
  tag?: boolean;
  state?: 'PRIMARY' | 'SECONDARY' | 'ARBITER';
  down?: boolean;
  lagSeconds?: number;
  stuck?: boolean;
}

/** The replica set state (see replset.js). */
export interface ReplSetState {
  users: Record<string, { password: string; roles: string[] }>;
  now: number;
  term: number;
  lastCommitted: { t: number; ts: number };
  config: { _id: string; version: number; term: number; protocolVersion: number; writeConcernMajorityJournalDefault: boolean; members: Record<string, unknown>[]; settings: Record<string, unknown> };
  nodes: Record<string, { state: string; down?: boolean; lagSeconds?: number; stuck?: boolean; stepDownUntil?: number }>;
  stepDownError?: { code: number; codeName: string; errmsg: string };
  events?: string[];
}

export const S0 = 'mongo-0.seattle.contoso.local:27017';
export const S1 = 'mongo-1.seattle.contoso.local:27017';
export const D0 = 'mongo-0.dublin.contoso.local:27017';
export const D1 = 'mongo-1.dublin.contoso.local:27017';
export const ARB = 'arbiter.witness.contoso.local:27017';

/** seattle (priority 2, primary), dublin (priority 1), an arbiter at a witness site. */
export function twoSites(): FakeMember[] {
  return [
    { host: S0, site: 'seattle', priority: 2, tag: true, state: 'PRIMARY' },
    { host: S1, site: 'seattle', priority: 2, tag: true },
    { host: D0, site: 'dublin', priority: 1 },
    { host: D1, site: 'dublin', priority: 1 },
    { host: ARB, arbiterOnly: true, priority: 0, state: 'ARBITER' },
  ];
}

/** Writes the replica set state for `members` into the world's servers dir. */
export function writeReplSet(w: World, members: FakeMember[], patch: (s: ReplSetState) => void = () => undefined): ReplSetState {
  const now = 1_765_100_000;
  const s: ReplSetState = {
    users: { admin: { password: w.password, roles: ['clusterAdmin'] } },
    now,
    term: 3,
    lastCommitted: { t: 3, ts: now },
    config: {
      _id: 'rs0',
      version: 5,
      term: 3,
      protocolVersion: 1,
      writeConcernMajorityJournalDefault: true,
      members: members.map((m, i) => ({
        _id: i,
        host: m.host,
        arbiterOnly: !!m.arbiterOnly,
        buildIndexes: true,
        hidden: !!m.hidden,
        priority: m.priority ?? 1,
        tags: m.tag && m.site ? { site: m.site } : {},
        secondaryDelaySecs: 0,
        votes: m.votes ?? 1,
      })),
      settings: {
        chainingAllowed: true,
        heartbeatIntervalMillis: 2000,
        heartbeatTimeoutSecs: 10,
        electionTimeoutMillis: 10000,
        catchUpTimeoutMillis: -1,
        catchUpTakeoverDelayMillis: 30000,
        getLastErrorModes: {},
        getLastErrorDefaults: { w: 1, wtimeout: 0 },
        replicaSetId: { $oid: '6755c0ffee00000000000001' },
      },
    },
    nodes: Object.fromEntries(members.map((m) => [m.host, { state: m.state ?? 'SECONDARY', down: m.down, lagSeconds: m.lagSeconds ?? 0, stuck: m.stuck }])),
  };
  patch(s);
  fs.writeFileSync(path.join(w.servers, 'replset.json'), JSON.stringify(s, null, 2));
  return s;
}

/** The replica set state now. */
export function readReplSet(w: World): ReplSetState {
  return JSON.parse(fs.readFileSync(path.join(w.servers, 'replset.json'), 'utf8')) as ReplSetState;
}

/** The primary host now (undefined when none). */
export function primaryHost(w: World): string | undefined {
  const s = readReplSet(w);
  return Object.entries(s.nodes).find(([, n]) => n.state === 'PRIMARY' && !n.down)?.[0];
}

/** Priorities host → p now. */
export function prioritiesNow(w: World): Record<string, number> {
  return Object.fromEntries(readReplSet(w).config.members.map((m) => [m.host as string, m.priority as number]));
}

/** A sites file: seattle's members are tagged, dublin's are listed under mongo.members. */
export function writeSitesFile(w: World, members: FakeMember[] = twoSites()): string {
  const file = path.join(w.dir, 'sites.yaml');
  const site = (name: string): Record<string, unknown> => ({
    name,
    hub: { domain: `${name}.contoso.local` },
    cluster: { kubeconfig: { env: 'KUBECONFIG_TEST' }, namespace: 'ratings' },
    mongo: {
      pod: { namespace: 'ratings', selector: 'app=mongo', container: 'mongodb' },
      ...(members.some((m) => m.site === name && !m.tag) ? { members: members.filter((m) => m.site === name && !m.tag).map((m) => m.host) } : {}),
    },
  });
  fs.writeFileSync(file, YAML.stringify({ sites: [site('seattle'), site('dublin')] }));
  return file;
}

/** A replica-set connection string of the admin user (seeds: every member). */
export function rsUri(w: World, hosts: string[] = [S0, S1, D0, D1]): string {
  return `mongodb://admin:${encodeURIComponent(w.password)}@${hosts.join(',')}/?replicaSet=rs0&authSource=admin`;
}
