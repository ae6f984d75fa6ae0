/** AKS Engine: reading and storing the cluster state of a run, and the before/after rows of the summary. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, PreconditionError, StackHubError } from '../shared/errors';
import { type Storage } from '../shared/storage';
import { clusterInfo, type ApiModel, type ClusterInfo } from './apimodel';
import { fetchState, latestState, putDirectory, STATE_KIND, type StateData } from './state';
import { Run } from './run';

export function infoRows(before: ClusterInfo | undefined, after: ClusterInfo | undefined): (string | number)[][] {
  const v = (x: ClusterInfo | undefined, k: keyof ClusterInfo): string | number => (x ? (x[k] as string | number) : '—');
  return [
    ['control plane nodes', v(before, 'masters'), v(after, 'masters')],
    ['workers', before ? before.pools.map((p) => `${p.name}: ${p.count}`).join(', ') : '—', after ? after.pools.map((p) => `${p.name}: ${p.count}`).join(', ') : '—'],
    ['Kubernetes', v(before, 'version'), v(after, 'version')],
  ];
}

export function readJson(file: string): ApiModel {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ApiModel;
}

export function adminKubeconfig(dir: string): string | undefined {
  const d = path.join(dir, 'kubeconfig');
  if (!fs.existsSync(d)) return undefined;
  const f = fs.readdirSync(d).filter((x) => x.startsWith('kubeconfig.')).sort()[0];
  return f ? fs.readFileSync(path.join(d, f), 'utf8') : undefined;
}

function stateData(run: Run, model: ApiModel, status: string, previous?: string, error?: string): StateData {
  const info = clusterInfo(model);
  const name = run.clusterName();
  return {
    cluster: { site: run.site().name, resourceGroup: run.inputs.resourceGroup ?? name, dnsPrefix: name, location: run.inputs.location ?? model.location ?? '' },
    status,
    command: run.inputs.command,
    kubernetesVersion: info.version,
    masters: info.masters,
    workers: info.workers,
    pools: info.pools,
    apiServerFqdn: info.fqdn,
    aksEngineVersion: run.binaryVersion,
    previous,
    error,
  };
}

/** Fetches the latest state of the cluster into a private dir; InputError naming dnsPrefix when there is none. */
export async function loadState(run: Run, storage: Storage, key: string): Promise<{ dir: string; model: ApiModel; id: string }> {
  const entry = await latestState(storage, key);
  if (!entry) {
    throw new InputError('dnsPrefix', `no cluster state for '${run.clusterName()}' in ${storage.location(key)}: deploy the cluster first (or check dnsPrefix, resourceGroup, siteName and storagePrefix)`);
  }
  const dir = run.runnerDir('state');
  run.ctx.log.progress(undefined, `fetching cluster state ${entry.name}`);
  const m = await fetchState(storage, entry, run.inputs.encryption!, dir, run.ctx.tempDir);
  const file = path.join(dir, 'apimodel.json');
  if (!fs.existsSync(file)) throw new PreconditionError(`cluster state ${m.id} holds no apimodel.json`);
  return { dir, model: readJson(file), id: m.id };
}

export async function storeState(run: Run, storage: Storage, key: string, dir: string, status: string, previous?: string, error?: string): Promise<string> {
  const model = readJson(path.join(dir, 'apimodel.json'));
  run.ctx.log.progress(undefined, `encrypting and storing the cluster state (${status})`);
  const m = await putDirectory(storage, key, 'state', dir, run.inputs.encryption!, { kind: STATE_KIND, site: run.site().name, data: stateData(run, model, status, previous, error) }, run.ctx.tempDir);
  run.ctx.log.info(`cluster state stored: ${storage.location(`${key}/state/${m.id}`)}`);
  run.ctx.summary.text(`Cluster state version \`${m.id}\` stored (${m.encryption.format === 'age' ? 'age-encrypted' : 'NOT encrypted'}${m.signature ? ', signed' : ''}): ${storage.location(`${key}/state/${m.id}`)}`);
  return m.id;
}

export function withOutputs(e: unknown, outputs: Record<string, unknown>): unknown {
  if (e instanceof StackHubError) e.outputs = { ...(e.outputs ?? {}), ...outputs };
  return e;
}

export function hashFile(file: string): string {
  return fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : '';
}

export function infoFromData(d: StateData): ClusterInfo {
  return { masters: d.masters, workers: d.workers, version: d.kubernetesVersion, pools: d.pools, dnsPrefix: d.cluster.dnsPrefix, fqdn: d.apiServerFqdn };
}
