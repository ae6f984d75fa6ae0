/**
 * Checks on rendered manifests (`helm template` output, never printed) and the redacted diff against what a site
 * runs (`helm get manifest`): Services of type LoadBalancer (Azure Stack Hub's Basic load balancer has at most 5
 * frontend IPs per cluster), images outside the allowed registries, and a per-object diff in which the data of every
 * `kind: Secret` and every value that looks like a secret is redacted before anything is shown.
 */
import YAML from 'yaml';

/** A Kubernetes object as rendered. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** Parses a multi-document manifest (comments and empty documents skipped). */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of YAML.parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length) throw new Error(`rendered manifest is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
    const v = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) continue;
    const o = v as K8sObject;
    // a List (rare in charts) holds its objects in items
    if (o.kind === 'List' && Array.isArray(o.items)) out.push(...(o.items as K8sObject[]));
    else out.push(o);
  }
  return out;
}

/** `Kind/namespace/name` of an object (namespace defaulted). */
export function objectKey(o: K8sObject, namespace: string): string {
  return `${o.kind ?? '?'}/${o.metadata?.namespace ?? namespace}/${o.metadata?.name ?? '?'}`;
}

/** Whether an object is a helm hook (hooks are not part of `helm get manifest`). */
export function isHook(o: K8sObject): boolean {
  return o.metadata?.annotations?.['helm.sh/hook'] !== undefined;
}

/** Services of type LoadBalancer among objects: their keys. */
export function loadBalancers(objs: readonly K8sObject[], namespace: string): string[] {
  return objs
    .filter((o) => o.kind === 'Service' && (o.spec as { type?: string } | undefined)?.type === 'LoadBalancer')
    .map((o) => objectKey(o, namespace));
}

/** A Service as listed by the API server (`GET /api/v1/services`). */
interface ListedService {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { type?: string };
}

/**
 * LoadBalancer Services already in a cluster (from a ServiceList), without those that belong to this release in
 * this namespace: an upgrade replaces its own, it does not add to them.
 */
export function existingLoadBalancers(serviceListJson: string, release: string, namespace: string): { others: string[]; own: string[] } {
  const list = JSON.parse(serviceListJson) as { kind?: string; items?: ListedService[] };
  if (!Array.isArray(list.items)) throw new Error('the API server did not answer with a ServiceList');
  const others: string[] = [];
  const own: string[] = [];
  for (const s of list.items) {
    if (s.spec?.type !== 'LoadBalancer') continue;
    const key = `Service/${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
    const a = s.metadata?.annotations ?? {};
    if (a['meta.helm.sh/release-name'] === release && (a['meta.helm.sh/release-namespace'] ?? s.metadata?.namespace) === namespace) own.push(key);
    else others.push(key);
  }
  return { others, own };
}

/** Every container image referenced by pod templates in the objects (containers, initContainers, ephemeralContainers). */
export function imagesOf(objs: readonly K8sObject[], namespace: string): { image: string; where: string }[] {
  const out: { image: string; where: string }[] = [];
  const visit = (v: unknown, where: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, where);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if ((k === 'containers' || k === 'initContainers' || k === 'ephemeralContainers') && Array.isArray(child)) {
        for (const c of child as { image?: unknown; name?: string }[]) {
          if (typeof c?.image === 'string') out.push({ image: c.image, where: `${where} (${c.name ?? 'container'})` });
        }
      }
      visit(child, where);
    }
  };
  for (const o of objs) visit(o, objectKey(o, namespace));
  return out;
}

/**
 * The registry and repository of an image reference, normalised like the container runtime does: no registry →
 * `docker.io` (and `library/` for one-part names). A first component is a registry when it holds `.` or `:` or is
 * `localhost`.
 */
export function parseImage(image: string): { registry: string; repository: string } {
  const noDigest = image.split('@')[0];
  const parts = noDigest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) registry = parts.shift()!;
  let repo = parts.join('/');
  const colon = repo.lastIndexOf(':');
  if (colon >= 0) repo = repo.slice(0, colon);
  if (registry === 'docker.io' && !repo.includes('/')) repo = `library/${repo}`;
  return { registry: registry.toLowerCase(), repository: repo };
}

/**
 * Whether an image comes from one of the allowed registries. An entry is a registry host (`registry.corp.local`,
 * `registry.corp.local:5000`), a `*.` wildcard (`*.corp.local`), or a registry with a path prefix
 * (`registry.corp.local/team`, matching `registry.corp.local/team/...`).
 */
export function imageAllowed(image: string, allowed: readonly string[]): boolean {
  const { registry, repository } = parseImage(image);
  const full = `${registry}/${repository}`;
  return allowed.some((entry) => {
    const e = entry.toLowerCase().replace(/\/+$/, '');
    if (e.startsWith('*.')) {
      const host = registry.split(':')[0];
      return host.endsWith(e.slice(1));
    }
    if (!e.includes('/')) return registry === e;
    return full === e || full.startsWith(`${e}/`);
  });
}

// ------------------------------------------------------------------------------------------------- redaction

const SECRETISH_RE = /(passw(or)?d|passwd|secret|token|api[-_]?key|private[-_]?key|credential|connection[-_]?string|sas[-_]?key|access[-_]?key)/i;
/** Keys that name or point at a secret rather than hold one (`secretName`, `tokenPath`, `secretKeyRef`). */
const REFERENCE_RE = /(name|ref|path|file|mode)$/i;
const SECRETISH = { test: (k: string): boolean => SECRETISH_RE.test(k) && !REFERENCE_RE.test(k) };
/** What a redacted value is shown as. */
export const REDACTED = '<redacted>';
/** What a redacted value is shown as in the new manifest when it differs from the running one. */
export const REDACTED_CHANGED = '<redacted, changed>';

type Tree = Record<string, unknown> | unknown[];

/**
 * Redacts an object for display: Secret `data`/`stringData` values; string values under secret-looking keys; env
 * entries whose name looks secret. `old` (the same object as running) marks a changed value as such.
 */
export function redactObject(o: K8sObject, old?: K8sObject): K8sObject {
  const copy = JSON.parse(JSON.stringify(o)) as K8sObject;
  const mark = (now: unknown, before: unknown): string => (old !== undefined && JSON.stringify(now) !== JSON.stringify(before) ? REDACTED_CHANGED : REDACTED);
  if (copy.kind === 'Secret') {
    for (const field of ['data', 'stringData'] as const) {
      const m = copy[field] as Record<string, unknown> | undefined;
      if (!m || typeof m !== 'object') continue;
      const oldM = (old?.[field] ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(m)) m[k] = mark(m[k], oldM[k]);
    }
  }
  const walk = (node: Tree, oldNode: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        const oldChild = Array.isArray(oldNode) ? oldNode[i] : undefined;
        if (typeof child === 'object' && child !== null) {
          const c = child as Record<string, unknown>;
          // env: [{name: DB_PASSWORD, value: ...}]
          if (typeof c.name === 'string' && 'value' in c && SECRETISH.test(c.name) && typeof c.value === 'string') {
            c.value = mark(c.value, (oldChild as Record<string, unknown> | undefined)?.value);
          }
          walk(c as Tree, oldChild);
        }
      });
      return;
    }
    for (const [k, v] of Object.entries(node)) {
      const oldV = oldNode && typeof oldNode === 'object' ? (oldNode as Record<string, unknown>)[k] : undefined;
      if (typeof v === 'string' && SECRETISH.test(k) && v !== REDACTED && v !== REDACTED_CHANGED) node[k] = mark(v, oldV);
      else if (typeof v === 'object' && v !== null) walk(v as Tree, oldV);
    }
  };
  walk(copy as Tree, old);
  return copy;
}

// ------------------------------------------------------------------------------------------------------ diff

/** Counts of a manifest diff. */
export interface DiffStats {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
}

function lineDiff(a: string[], b: string[], context = 3): string[] {
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) return ['@@ (object too large to diff line by line) @@'];
  // LCS table from the end
  const dp: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const ops: { t: ' ' | '-' | '+'; l: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ t: ' ', l: a[i] });
      i++;
      j++;
    } else if (i < n && (j >= m || dp[i + 1][j] >= dp[i][j + 1])) ops.push({ t: '-', l: a[i++] });
    else ops.push({ t: '+', l: b[j++] });
  }
  // keep changes with `context` lines around them
  const keep = new Array<boolean>(ops.length).fill(false);
  ops.forEach((op, k) => {
    if (op.t === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(ops.length - 1, k + context); x++) keep[x] = true;
  });
  const out: string[] = [];
  let skipped = false;
  ops.forEach((op, k) => {
    if (!keep[k]) {
      skipped = true;
      return;
    }
    if (skipped || out.length === 0) out.push('@@');
    skipped = false;
    out.push(`${op.t}${op.l}`);
  });
  return out;
}

function render(o: K8sObject): string[] {
  // YAML 1.1 quoting, as Kubernetes reads it: the string "on" stays "on"
  return YAML.stringify(o, { sortMapEntries: true, lineWidth: 0, version: '1.1' }).trimEnd().split('\n');
}

/**
 * Diff of the objects a site would run (`rendered`, hooks excluded) against what it runs (`current`, from `helm get
 * manifest`; empty when not installed). Every object is redacted first; `scrub` then removes registered secrets.
 */
export function diffManifests(
  current: readonly K8sObject[],
  rendered: readonly K8sObject[],
  namespace: string,
  scrub: (s: string) => string,
  maxLines = 400,
): { text: string; stats: DiffStats; truncated: boolean } {
  const cur = new Map(current.filter((o) => !isHook(o)).map((o) => [objectKey(o, namespace), o]));
  const next = new Map(rendered.filter((o) => !isHook(o)).map((o) => [objectKey(o, namespace), o]));
  const stats: DiffStats = { added: 0, changed: 0, removed: 0, unchanged: 0 };
  const lines: string[] = [];
  const keys = [...new Set([...cur.keys(), ...next.keys()])].sort();
  for (const key of keys) {
    const before = cur.get(key);
    const after = next.get(key);
    if (before && after) {
      const a = render(redactObject(before));
      const b = render(redactObject(after, before));
      if (a.join('\n') === b.join('\n')) {
        stats.unchanged++;
        continue;
      }
      stats.changed++;
      lines.push(`~ ${key}`, ...lineDiff(a, b));
    } else if (after) {
      stats.added++;
      lines.push(`+ ${key}`, ...render(redactObject(after)).map((l) => `+${l}`));
    } else if (before) {
      stats.removed++;
      lines.push(`- ${key}`, ...render(redactObject(before)).map((l) => `-${l}`));
    }
  }
  const truncated = lines.length > maxLines;
  const shown = truncated ? [...lines.slice(0, maxLines), `… ${lines.length - maxLines} more lines`] : lines;
  return { text: scrub(shown.join('\n')), stats, truncated };
}
