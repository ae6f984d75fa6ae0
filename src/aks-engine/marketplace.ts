/**
 * Marketplace prerequisites on the Hub: the AKS base image(s) this aks-engine-azurestack version needs (read from
 * `azuredeploy.parameters.json` that `generate --parameters-only` writes offline) and the Custom Script for Linux
 * 2.0 extension. "OS base image not available in target cloud" is the most common deploy failure.
 */
import * as fs from 'node:fs';
import type { ArmClient } from '../shared/azure-stack';
import { ArmError } from '../shared/azure-stack';
import { StackHubError } from '../shared/errors';
import { COMPUTE_API_VERSION, CUSTOM_SCRIPT_EXTENSION } from './defaults';

/** One image reference. */
export interface ImageRef {
  publisher: string;
  offer: string;
  sku: string;
  version: string;
  /** Who needs it: `control plane` or `pool <name>`. */
  usedBy: string[];
}

/** `publisher:offer:sku:version` */
export function imageUrn(i: Pick<ImageRef, 'publisher' | 'offer' | 'sku' | 'version'>): string {
  return `${i.publisher}:${i.offer}:${i.sku}:${i.version}`;
}

/**
 * Reads the images of `azuredeploy.parameters.json`: `osImagePublisher/Offer/SKU/Version` (control plane) and each
 * pool's `<pool>osImage*`. Identical images are merged.
 */
export function imagesFromParameters(file: string, pools: string[]): ImageRef[] {
  let doc: { parameters?: Record<string, { value?: unknown }> };
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StackHubError(`cannot read ${file} written by aks-engine-azurestack generate: ${(e as Error).message}`);
  }
  const p = doc.parameters ?? {};
  const get = (k: string): string | undefined => (typeof p[k]?.value === 'string' && p[k]!.value !== '' ? (p[k]!.value as string) : undefined);
  const out: ImageRef[] = [];
  const add = (prefix: string, usedBy: string): void => {
    const ref = { publisher: get(`${prefix}osImagePublisher`), offer: get(`${prefix}osImageOffer`), sku: get(`${prefix}osImageSKU`), version: get(`${prefix}osImageVersion`) };
    if (!ref.publisher || !ref.offer || !ref.sku) return;
    const img = { publisher: ref.publisher, offer: ref.offer, sku: ref.sku, version: ref.version ?? 'latest', usedBy: [usedBy] };
    const same = out.find((o) => imageUrn(o) === imageUrn(img));
    if (same) same.usedBy.push(usedBy);
    else out.push(img);
  };
  add('', 'control plane');
  for (const pool of pools) add(pool, `pool ${pool}`);
  if (out.length === 0) throw new StackHubError(`${file} names no osImagePublisher/osImageOffer/osImageSKU: cannot tell which base image the cluster needs`);
  return out;
}

/** Result of one marketplace check. */
export interface MarketplaceCheck {
  item: string;
  ok: boolean;
  /** What the Hub has (versions), for the message. */
  found: string[];
  detail: string;
}

async function listVersions(arm: ArmClient, path: string): Promise<string[] | undefined> {
  const res = await arm.request<{ name?: string }[]>('GET', path, { apiVersion: COMPUTE_API_VERSION, acceptStatus: [404] });
  if (res.status === 404) return undefined;
  return (Array.isArray(res.body) ? res.body : []).map((v) => String(v.name ?? '')).filter(Boolean);
}

/**
 * Checks the images and the Custom Script extension through the Hub's ARM (Compute, profile 2020-09-01-hybrid).
 * Returns one check per item; throws only for ARM failures other than 404 (auth, network).
 */
export async function checkMarketplace(arm: ArmClient, subscriptionId: string, location: string, images: ImageRef[]): Promise<MarketplaceCheck[]> {
  const out: MarketplaceCheck[] = [];
  const base = `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Compute/locations/${encodeURIComponent(location)}/publishers`;
  for (const img of images) {
    const versions = await listVersions(arm, `${base}/${encodeURIComponent(img.publisher)}/artifacttypes/vmimage/offers/${encodeURIComponent(img.offer)}/skus/${encodeURIComponent(img.sku)}/versions`);
    const ok = versions !== undefined && (img.version === 'latest' ? versions.length > 0 : versions.includes(img.version));
    out.push({
      item: `AKS base image ${imageUrn(img)} (${img.usedBy.join(', ')})`,
      ok,
      found: versions ?? [],
      detail: ok ? 'in the marketplace' : versions?.length ? `the Hub has only ${versions.join(', ')}` : 'the Hub has no version of this image',
    });
  }
  const ext = CUSTOM_SCRIPT_EXTENSION;
  let extVersions: string[] | undefined;
  try {
    extVersions = await listVersions(arm, `${base}/${ext.publisher}/artifacttypes/vmextension/types/${ext.type}/versions`);
  } catch (e) {
    if (!(e instanceof ArmError)) throw e;
    throw e;
  }
  const extOk = (extVersions ?? []).some((v) => Number(v.split('.')[0]) >= 2);
  out.push({
    item: `Custom Script for Linux ${ext.minVersion} extension (${ext.publisher}.${ext.type})`,
    ok: extOk,
    found: extVersions ?? [],
    detail: extOk ? 'in the marketplace' : extVersions?.length ? `the Hub has only ${extVersions.join(', ')}` : 'not in the marketplace',
  });
  return out;
}
