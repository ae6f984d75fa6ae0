/**
 * Inputs and wiring of the traffic capability's MongoDB primary gate (the check itself is `mongoPrimaryGate` in
 * gates.ts): which site's replica-set view to read, and how (mongosh on the agent, or `kubectl exec` into the site's
 * MongoDB pod — the same two places and the same credential handling as Mongo backup).
 */
import * as path from 'node:path';
import type { RunContext } from '../platform/capability';
import type { InputName, InputReader } from '../platform/inputs';
import { kubeconfigSecrets } from '../platform/kubeconfig';
import type { Platform } from '../platform/types';
import { InputError } from '../shared/errors';
import { findSite, readSecretRef, type SitesFile } from '../shared/sites';
import { parseMongoUri } from '../mongo/args';
import type { MongoEndpoint } from '../mongo/inputs';
import { readPrimaryStatus } from '../mongo/primary';
import type { MongoSiteView } from './gates';
import { defineInputs } from '../shared/inputs';

const G = 'mongoGate';

/** The gate's inputs (traffic capability only). */
export const mongoGateInputs = defineInputs([
  {
    name: 'mongoPrimaryGate',
    label: 'MongoDB primary gate',
    type: 'pickList',
    options: ['off', 'primary', 'within-lag'],
    default: 'off',
    group: G,
    help: 'failover / restore: `primary` refuses unless the site gaining users holds the MongoDB replica set\'s primary (move it first with `mongo primary move`); `within-lag` refuses unless a member of that site is within mongoMaxLagSeconds of the primary. Read with mongosh as Mongo backup does (mongoPlace).',
  },
  { name: 'mongoMaxLagSeconds', label: 'MongoDB lag bound (seconds)', type: 'number', decimal: true, default: '10', group: G, help: 'within-lag: the largest replication lag accepted.' },
  {
    name: 'mongoPlace',
    label: 'Where mongosh runs',
    type: 'pickList',
    options: ['agent', 'kubectl-exec'],
    default: 'agent',
    group: G,
    help: '`agent`: mongosh on the agent reaches the members (mongoConnectionString or the site\'s `mongo.connection`). `kubectl-exec`: mongosh in the site\'s MongoDB pod (`mongo.pod`), through the site\'s `cluster.kubeconfig` reference.',
  },
  {
    name: 'mongoConnectionString',
    label: 'MongoDB connection string',
    type: 'secret',
    group: G,
    help: 'Connection string of the replica set (a user with `clusterMonitor`). Default: the gaining site\'s `mongo.connection` in the sites file. Reaches mongosh only through a 0600 file.',
  },
]);

/** The names of the MongoDB primary gate's inputs. */
export type MongoGateInputName = InputName<typeof mongoGateInputs>;

/** The parsed gate. */
export interface MongoGateConfig {
  mode: 'primary' | 'within-lag';
  maxLagSeconds: number;
  site: string;
  source: MongoEndpoint;
  kube?: { kubeconfig: string; context?: string };
  sites: SitesFile['sites'];
}

/** How to read a replica set's status from a site (the gate's and the release record's). */
export type MongoAccess = Pick<MongoGateConfig, 'source' | 'kube' | 'sites'>;

/** Parses the gate's inputs for an operation that sends users to `site` (undefined when the gate is off). */
export function parseMongoGate(read: InputReader<MongoGateInputName>, platform: Platform, sites: SitesFile, site: string): MongoGateConfig | undefined {
  const mode = read.choice<'off' | 'primary' | 'within-lag'>('mongoPrimaryGate') ?? 'off';
  const maxLagSeconds = read.number('mongoMaxLagSeconds', { min: 0, max: 86400 }) ?? 10;
  if (mode === 'off') return undefined;
  const access = parseMongoAccess(read, platform, sites, site, `with mongoPrimaryGate ${mode}`)!;
  return { mode, maxLagSeconds, site, ...access };
}

/**
 * `mongoConnectionString` (or the site's `mongo.connection`) and `mongoPlace`. `requiredFor` set: an InputError
 * when there is no connection; unset: undefined (mongo not configured).
 */
export function parseMongoAccess(read: InputReader<'mongoConnectionString' | 'mongoPlace'>, platform: Platform, sites: SitesFile, site: string, requiredFor?: string): MongoAccess | undefined {
  const s = findSite(sites, site, 'site');
  const dir = sites.file ? path.dirname(sites.file) : process.cwd();
  const given = read.secret('mongoConnectionString');
  if (!given && !requiredFor) return undefined;
  const raw = given ?? (s.mongo?.connection ? readSecretRef(s.mongo.connection, 'mongoConnectionString', process.env, dir) : undefined);
  if (!raw) throw new InputError('mongoConnectionString', `is required ${requiredFor} (or set site ${site}'s mongo.connection in the sites file)`);
  platform.mask(raw);
  const uri = parseMongoUri(raw, 'mongoConnectionString');
  if (uri.password) platform.mask(uri.password);
  const place = read.choice<'agent' | 'kubectl-exec'>('mongoPlace') ?? 'agent';
  if (place === 'agent') return { source: { place, uri, input: 'mongoConnectionString' }, sites: sites.sites };
  const pod = s.mongo?.pod;
  if (!pod) throw new InputError('mongoPlace', `kubectl-exec needs site ${site}'s mongo.pod in the sites file`);
  if (!s.cluster?.kubeconfig) throw new InputError('mongoPlace', `kubectl-exec needs site ${site}'s cluster.kubeconfig reference in the sites file`);
  const kubeconfig = readSecretRef(s.cluster.kubeconfig, 'sitesFile', process.env, dir);
  for (const secret of kubeconfigSecrets(kubeconfig)) platform.mask(secret);
  return {
    source: { place, pod, config: { uri, input: 'mongoConnectionString' }, inputs: { namespace: 'sitesFile', pod: 'sitesFile' } },
    kube: { kubeconfig, context: s.cluster.context },
    sites: sites.sites,
  };
}

/** The replica set as seen from `site` (its members only), for the gate. */
export async function readMongoSite(g: MongoAccess, site: string, ctx: RunContext): Promise<MongoSiteView> {
  const st = await readPrimaryStatus({ source: g.source, kube: g.kube, sites: g.sites, timeoutMs: 120_000 }, ctx);
  return { primary: st.primary, members: st.members.filter((m) => m.site === site && !m.arbiter).map((m) => ({ host: m.host, lagSeconds: m.lagSeconds, healthy: m.healthy })) };
}
