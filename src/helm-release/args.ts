/**
 * The argv of every helm and kubectl call of a release, as PURE functions of typed options (tested with tables of
 * exact argv). helm 3 (≥ 3.13) and helm 4 differ:
 * - waiting: helm 3 `--wait` is a boolean; helm 4's `--wait` takes a strategy and defaults to `hookOnly` (no wait for
 *   resources), so waiting needs `--wait=watcher`, which helm 3 rejects;
 * - helm 4 deprecates `--atomic` (→ `--rollback-on-failure`) and `--force` (→ `--force-replace`): the old flags still
 *   work with a warning, we pass the new ones;
 * - helm 4 installs with server-side apply and upgrades with `--server-side=auto` (the release keeps its previous
 *   apply method): its default, so no flag is passed.
 * Secrets never appear here: registry and repository passwords go through `--password-stdin`.
 */

/** The helm major versions we drive. */
export type HelmMajor = 3 | 4;

/** Lowest helm we support. */
export const MIN_HELM = '3.13.0';

/** Where a cluster call goes. */
export interface KubeTarget {
  kubeconfig: string;
  context?: string;
  namespace: string;
}

/** Values for a chart: files in order, then `--set` / `--set-string` expressions. */
export interface ValueArgs {
  valuesFiles: readonly string[];
  sets: readonly { kind: 'set' | 'set-string'; expr: string }[];
}

function kube(t: KubeTarget): string[] {
  return ['--namespace', t.namespace, '--kubeconfig', t.kubeconfig, ...(t.context ? ['--kube-context', t.context] : [])];
}

function values(v: ValueArgs): string[] {
  return [...v.valuesFiles.flatMap((f) => ['--values', f]), ...v.sets.flatMap((s) => [`--${s.kind}`, s.expr])];
}

function waitFlag(major: HelmMajor): string {
  return major === 4 ? '--wait=watcher' : '--wait';
}

/** `helm version --short` */
export function versionArgs(): string[] {
  return ['version', '--short'];
}

/** `helm lint` of the located chart with a site's values. */
export function lintArgs(o: { chart: string; kubeVersion?: string } & ValueArgs): string[] {
  return ['lint', o.chart, ...values(o), ...(o.kubeVersion ? ['--kube-version', o.kubeVersion] : [])];
}

/** `helm template` of a site (client-only: never contacts a cluster). */
export function templateArgs(
  o: { release: string; chart: string; namespace: string; kubeVersion?: string; apiVersions?: readonly string[]; isUpgrade?: boolean } & ValueArgs,
): string[] {
  return [
    'template',
    o.release,
    o.chart,
    '--namespace',
    o.namespace,
    ...values(o),
    ...(o.kubeVersion ? ['--kube-version', o.kubeVersion] : []),
    ...(o.apiVersions ?? []).flatMap((a) => ['--api-versions', a]),
    ...(o.isUpgrade ? ['--is-upgrade'] : []),
  ];
}

/** Options of an upgrade. */
export interface UpgradeOptions extends ValueArgs {
  major: HelmMajor;
  release: string;
  chart: string;
  target: KubeTarget;
  timeoutSeconds: number;
  wait: boolean;
  createNamespace: boolean;
  /** helm's own rollback of a failed upgrade (helm 3 `--atomic`, helm 4 `--rollback-on-failure`) */
  atomic: boolean;
  /** replace resources that cannot be patched (helm 3 `--force`, helm 4 `--force-replace`) */
  forceReplace: boolean;
  /** written into the revision's description, so `helm history` shows which release made it */
  description?: string;
}

/** `helm upgrade --install` of one site. */
export function upgradeArgs(o: UpgradeOptions): string[] {
  return [
    'upgrade',
    '--install',
    o.release,
    o.chart,
    ...kube(o.target),
    ...values(o),
    '--timeout',
    `${o.timeoutSeconds}s`,
    ...(o.wait ? [waitFlag(o.major)] : []),
    ...(o.createNamespace ? ['--create-namespace'] : []),
    ...(o.atomic ? [o.major === 4 ? '--rollback-on-failure' : '--atomic'] : []),
    ...(o.forceReplace ? [o.major === 4 ? '--force-replace' : '--force'] : []),
    ...(o.description ? ['--description', o.description] : []),
  ];
}

/** `helm rollback <release> <revision>`, waiting for the resources. */
export function rollbackArgs(o: { major: HelmMajor; release: string; revision: number; target: KubeTarget; timeoutSeconds: number; wait: boolean }): string[] {
  return ['rollback', o.release, String(o.revision), ...kube(o.target), '--timeout', `${o.timeoutSeconds}s`, ...(o.wait ? [waitFlag(o.major)] : [])];
}

/** `helm uninstall <release>` (for a site where the release did not exist before), waiting for deletion. */
export function uninstallArgs(o: { major: HelmMajor; release: string; target: KubeTarget; timeoutSeconds: number; wait: boolean; description?: string }): string[] {
  return [
    'uninstall',
    o.release,
    ...kube(o.target),
    '--timeout',
    `${o.timeoutSeconds}s`,
    ...(o.wait ? [waitFlag(o.major)] : []),
    ...(o.description ? ['--description', o.description] : []),
  ];
}

/** `helm history <release> -o json` */
export function historyArgs(o: { release: string; target: KubeTarget }): string[] {
  return ['history', o.release, ...kube(o.target), '--output', 'json'];
}

/** `helm status <release> -o json` (holds values and the manifest: captured, never printed) */
export function statusArgs(o: { release: string; target: KubeTarget }): string[] {
  return ['status', o.release, ...kube(o.target), '--output', 'json'];
}

/** `helm get values <release> -o json` (user values: captured, never printed) */
export function getValuesArgs(o: { release: string; target: KubeTarget; revision?: number }): string[] {
  return ['get', 'values', o.release, ...kube(o.target), '--output', 'json', ...(o.revision ? ['--revision', String(o.revision)] : [])];
}

/** `helm get manifest <release>` (rendered Secrets: captured, never printed) */
export function getManifestArgs(o: { release: string; target: KubeTarget }): string[] {
  return ['get', 'manifest', o.release, ...kube(o.target)];
}

/** `helm test <release>` */
export function testArgs(o: { release: string; target: KubeTarget; timeoutSeconds: number }): string[] {
  return ['test', o.release, ...kube(o.target), '--timeout', `${o.timeoutSeconds}s`];
}

/** `helm registry login <host> --password-stdin` (the password is written to stdin). */
export function registryLoginArgs(o: { host: string; username: string; caFile?: string }): string[] {
  return ['registry', 'login', o.host, '--username', o.username, '--password-stdin', ...(o.caFile ? ['--ca-file', o.caFile] : [])];
}

/** `helm repo add <name> <url>` with credentials through `--password-stdin` when a username is given. */
export function repoAddArgs(o: { name: string; url: string; username?: string; caFile?: string }): string[] {
  return [
    'repo',
    'add',
    o.name,
    o.url,
    ...(o.username ? ['--username', o.username, '--password-stdin'] : []),
    ...(o.caFile ? ['--ca-file', o.caFile] : []),
    '--force-update',
  ];
}

/** `helm pull` of an OCI reference or of `<repo>/<chart>` into `destination`. */
export function pullArgs(o: { ref: string; version?: string; destination: string; caFile?: string }): string[] {
  return ['pull', o.ref, ...(o.version ? ['--version', o.version] : []), '--destination', o.destination, ...(o.caFile ? ['--ca-file', o.caFile] : [])];
}

/** `helm show chart <chart>` (Chart.yaml: name, version, appVersion). */
export function showChartArgs(chart: string): string[] {
  return ['show', 'chart', chart];
}

/** Where a kubectl call goes. */
export interface KubectlTarget {
  kubeconfig: string;
  context?: string;
  /** kubectl's discovery cache (inside the private temp dir) */
  cacheDir: string;
  timeoutSeconds: number;
}

/**
 * `kubectl get <resource> [name]` printing JSON (or `-o name`): the API server's own answer, with discovery through
 * the kubeconfig's server URL (path prefixes of proxies are kept, unlike `get --raw`).
 */
export function kubectlGetArgs(o: KubectlTarget & { resource: string; name?: string; allNamespaces?: boolean; output: 'json' | 'name' }): string[] {
  return [
    'get',
    o.resource,
    ...(o.name ? [o.name] : []),
    ...(o.allNamespaces ? ['--all-namespaces'] : []),
    '--output',
    o.output,
    '--kubeconfig',
    o.kubeconfig,
    ...(o.context ? ['--context', o.context] : []),
    '--cache-dir',
    o.cacheDir,
    `--request-timeout=${o.timeoutSeconds}s`,
  ];
}
