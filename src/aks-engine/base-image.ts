/**
 * Base-OS-image-only upgrade (`upgrade` with `baseImageOnly`), as Microsoft's Azure Stack Hub documentation for AKS
 * engine describes it ("Steps to only upgrade the OS image" / "Forcing an upgrade"): every upgrade creates each node
 * anew from the AKS base image that the aks-engine-azurestack *release* is tied to, so upgrading only the image means
 * running `upgrade --upgrade-version <the version the cluster already runs> --force` with a release whose image is
 * newer than the one the nodes run, after the Hub operator has put that image into the Hub's marketplace.
 *
 * This module decides whether that makes sense: the image the nodes run (their `storageProfile.imageReference`, read
 * from the Hub's ARM), the image the resolved binary would use (from its own `generate --parameters-only`), and the
 * versions the marketplace offers for that publisher/offer/SKU.
 */
import type { ArmClient } from '../shared/azure-stack';
import { PreconditionError } from '../shared/errors';
import { COMPUTE_API_VERSION } from './defaults';
import { imageUrn, type ImageRef } from './marketplace';

/** The image one node VM runs. */
export interface NodeImage {
  vm: string;
  /** aks-engine's `poolName` tag (`master` for the control plane), when set. */
  pool?: string;
  publisher: string;
  offer: string;
  sku: string;
  version: string;
}

interface VmResource {
  name?: string;
  tags?: Record<string, string>;
  properties?: { storageProfile?: { imageReference?: { publisher?: string; offer?: string; sku?: string; version?: string; exactVersion?: string } } };
}

/**
 * The images the cluster's VMs run: `GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/
 * virtualMachines` (Compute 2020-06-01, the Hub's 2020-09-01-hybrid profile), VMs aks-engine tagged
 * (`orchestrator: Kubernetes:<version>`) only. `exactVersion` wins over `version` (`latest`).
 */
export async function clusterNodeImages(arm: ArmClient, subscriptionId: string, resourceGroup: string): Promise<NodeImage[]> {
  const vms = await arm.list<VmResource>(
    `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.Compute/virtualMachines`,
    { apiVersion: COMPUTE_API_VERSION },
  );
  const out: NodeImage[] = [];
  for (const vm of vms) {
    if (!/^Kubernetes:/i.test(vm.tags?.orchestrator ?? '')) continue;
    const r = vm.properties?.storageProfile?.imageReference;
    if (!r?.publisher || !r.offer || !r.sku) continue;
    out.push({ vm: String(vm.name ?? ''), pool: vm.tags?.poolName, publisher: r.publisher, offer: r.offer, sku: r.sku, version: r.exactVersion || r.version || 'latest' });
  }
  return out.sort((a, b) => a.vm.localeCompare(b.vm));
}

/** Compares AKS base image versions (`2026.139.1`): numerically per dot-separated part. */
export function compareImageVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number(x));
  const pb = b.split('.').map((x) => Number(x));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (Number.isNaN(x) || Number.isNaN(y)) return a.localeCompare(b);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The newest of a list of versions, or undefined. */
export function newestImageVersion(versions: string[]): string | undefined {
  return [...versions].filter((v) => /^\d+(\.\d+)*$/.test(v)).sort(compareImageVersions).pop();
}

/** The refusal when every node already runs the image the binary would use (ifNoNewerImage: succeed turns it into a result). */
export class NoNewerImageError extends PreconditionError {}

/** What the base-image-only upgrade would do, or why it is refused. */
export interface BaseImagePlan {
  /** The image the binary would put on the nodes (one per distinct SKU). */
  target: ImageRef[];
  /** Nodes that would get a newer image. */
  outdated: NodeImage[];
}

/**
 * Decides: for each image the binary needs (per SKU), the nodes on that SKU must run an older version, the binary's
 * version must be in the marketplace. Refuses (PreconditionError, naming the current image) when no node would get a
 * newer image, when the binary would downgrade nodes, or when the binary's image is not in the marketplace; says when
 * the marketplace holds a newer image than the binary uses (a newer aks-engine-azurestack release is needed for it).
 */
export function planBaseImageUpgrade(o: {
  nodes: NodeImage[];
  target: ImageRef[];
  /** `publisher:offer:sku` (lower case) → versions the Hub's marketplace holds. */
  marketplace: Map<string, string[]>;
  binaryVersion: string;
  kubernetesVersion: string;
}): BaseImagePlan {
  const key = (i: { publisher: string; offer: string; sku: string }): string => `${i.publisher}:${i.offer}:${i.sku}`.toLowerCase();
  const by = `aks-engine-azurestack v${o.binaryVersion}`;
  if (o.nodes.length === 0) throw new PreconditionError('the resource group holds no VM tagged by aks-engine (orchestrator: Kubernetes:…): cannot tell which base image the cluster runs (check resourceGroup)');
  const outdated: NodeImage[] = [];
  const notes: string[] = [];
  for (const t of o.target) {
    const onSku = o.nodes.filter((n) => key(n) === key(t));
    const offered = o.marketplace.get(key(t)) ?? [];
    const newest = newestImageVersion(offered);
    const running = [...new Set(onSku.map((n) => n.version))].sort(compareImageVersions);
    if (!offered.includes(t.version)) {
      throw new PreconditionError(
        `${by} upgrades nodes to the AKS base image ${imageUrn(t)}, which is not in the Hub's marketplace (it has ${offered.length ? offered.join(', ') : 'no version of it'}): ask the Hub operator to download it to the marketplace first; the cluster runs ${running.join(', ') || 'another image'}`,
      );
    }
    const newer = onSku.filter((n) => compareImageVersions(n.version, t.version) < 0);
    const ahead = onSku.filter((n) => compareImageVersions(n.version, t.version) > 0);
    if (ahead.length) {
      throw new PreconditionError(
        `nodes ${ahead.map((n) => n.vm).join(', ')} run ${t.publisher}:${t.offer}:${t.sku}:${ahead[0].version}, newer than the ${t.version} that ${by} would put on them: use the aks-engine-azurestack release that pins ${ahead[0].version} or later`,
      );
    }
    outdated.push(...newer);
    if (newest && compareImageVersions(newest, t.version) > 0) notes.push(`the marketplace also holds ${newest}, which ${by} does not use (a later aks-engine-azurestack release pins it)`);
  }
  const other = o.nodes.filter((n) => !o.target.some((t) => key(t) === key(n)));
  if (other.length && outdated.length === 0) {
    // a node on another SKU (an older distro) would also be re-created: that is a distro change, not an image-only upgrade
    throw new PreconditionError(`nodes ${other.map((n) => n.vm).join(', ')} run ${imageUrn(other[0])}, a different image than ${by} uses (${o.target.map(imageUrn).join(', ')}): that is a distro change, not a base-image-only upgrade`);
  }
  if (outdated.length === 0) {
    const current = o.target.map(imageUrn).join(', ');
    throw new NoNewerImageError(
      `no newer base image: every node already runs ${current}, the image ${by} uses for Kubernetes ${o.kubernetesVersion}${notes.length ? `; ${notes.join('; ')}` : ' and the newest the Hub\'s marketplace offers'}`,
    );
  }
  return { target: o.target, outdated: [...outdated, ...other] };
}

/** Summary rows: image (per SKU the binary uses), the versions the nodes run, the binary's version, the newest on the Hub. */
export function imageRows(nodes: NodeImage[], target: ImageRef[], marketplace: Map<string, string[]>): string[][] {
  const key = (i: { publisher: string; offer: string; sku: string }): string => `${i.publisher}:${i.offer}:${i.sku}`.toLowerCase();
  return target.map((t) => {
    const onSku = nodes.filter((n) => key(n) === key(t));
    const running = [...new Set(onSku.map((n) => n.version))].sort(compareImageVersions);
    const counts = running.map((v) => `${v} (${onSku.filter((n) => n.version === v).length} nodes)`).join(', ');
    return [`${t.publisher}:${t.offer}:${t.sku}`, counts || '—', t.version, newestImageVersion(marketplace.get(key(t)) ?? []) ?? '—'];
  });
}
