/**
 * Inputs of `reboot` (part of the AKS Engine task's input definitions): the sites and their kubeconfigs, the window,
 * the batch size and minimum workers, the helper image, the timeouts and the traffic provider (the traffic swap's own
 * provider inputs, so the GSLB drain goes through the same controller and safety rules).
 */
import * as path from 'node:path';
import type { InputName, InputReader } from '../../platform/inputs';
import { kubeconfigSecrets } from '../../platform/kubeconfig';
import type { Platform } from '../../platform/types';
import { InputError } from '../../shared/errors';
import { loadSitesFile, readSecretRef, type SitesFile } from '../../shared/sites';
import { parseTrafficConfig, trafficProviderInputs, trafficSites, type ResolvedTrafficSites, type TrafficConfig } from '../../traffic';
import { parseRebootWindow, type RebootWindow } from './window';
import { defineInputs } from '../../shared/inputs';

const G = 'reboot';

/** The reboot inputs (the traffic provider inputs are appended by the caller once). */
export const rebootInputs = defineInputs([
  {
    name: 'sitesFile',
    label: 'Sites file',
    type: 'filePath',
    group: G,
    help: 'reboot: the sites file (src/shared/sites.schema.json); each site\'s cluster.kubeconfig ({env}/{file}) and context, and its traffic block for the GSLB drain. Sites are done one after another in file order.',
  },
  { name: 'rebootSites', label: 'Sites to reboot', type: 'list', group: G, help: 'reboot: the sites to act on, in this order (default every site of the sites file). Per-site jobs give one site.' },
  {
    name: 'kubernetesConnection',
    label: 'Kubernetes connection',
    type: 'kubernetesConnection',
    group: G,
    channels: ['azure-pipelines'],
    help: 'reboot, per-site jobs on Azure Pipelines: the site\'s Kubernetes service connection (cluster-admin: nodes, pods, evictions, a DaemonSet and a ClusterRole). Used instead of the sites file\'s kubeconfig; set exactly one site in rebootSites.',
  },
  {
    name: 'rebootWindow',
    label: 'Reboot window',
    type: 'string',
    group: G,
    help: 'reboot: when nodes may be rebooted, `<days> <HH:MM>-<HH:MM> <IANA time zone>`, e.g. `Sat 01:00-05:00 Europe/Berlin`, `Mon-Fri 22:00-02:00 UTC` (an end before the start crosses midnight), `daily 03:00-04:00 Europe/Dublin`. Outside it nothing is done and the summary says when it opens; no new node is started once it has closed. Empty: any time.',
  },
  { name: 'maxNodesAtOnce', label: 'Nodes at once', type: 'number', default: '1', group: G, help: 'reboot: workers rebooted together (control plane nodes always one at a time).' },
  {
    name: 'minWorkers',
    label: 'Minimum workers',
    type: 'number',
    default: '2',
    group: G,
    help: 'reboot: schedulable workers a site must keep while it serves users. When a batch would leave fewer, the site is drained from the GSLB first (trafficProvider) and restored after its last node; without a traffic provider that is refused.',
  },
  {
    name: 'rebootHelperImage',
    label: 'Reboot helper image',
    type: 'string',
    group: G,
    help: 'reboot: image of the reboot helper DaemonSet, from the internal registry; it needs only /bin/sh, kubectl and nsenter (util-linux). The script comes in a ConfigMap. The pod runs privileged with hostPID (it reboots the host with nsenter … systemctl reboot).',
  },
  { name: 'rebootHelperNamespace', label: 'Reboot helper namespace', type: 'string', default: 'kube-system', group: G, help: 'reboot: namespace of the helper DaemonSet, its ServiceAccount and ConfigMap.' },
  { name: 'rebootHelperPullSecret', label: 'Reboot helper pull secret', type: 'string', group: G, help: 'reboot: name of an image pull Secret in the helper namespace for the internal registry (optional).' },
  { name: 'nodeReadyTimeoutMinutes', label: 'Node Ready timeout (minutes)', type: 'number', default: '15', group: G, help: 'reboot: how long a node may take to come back Ready with a new boot id; after it the rollout stops (NEEDS AN OPERATOR) and the site stays drained.' },
]);

/** Kubernetes access of one site. */
export interface RebootSiteAccess {
  name: string;
  kubeconfig: string;
  context?: string;
  inTraffic: boolean;
}

/** Parsed reboot inputs. */
export interface RebootInputs {
  sites: SitesFile;
  targets: RebootSiteAccess[];
  window?: RebootWindow;
  maxNodesAtOnce: number;
  minWorkers: number;
  helperImage: string;
  helperNamespace: string;
  helperPullSecret?: string;
  readyTimeoutMs: number;
  traffic?: TrafficConfig;
  /** The routed sites, checked against the traffic provider when parsed (with `traffic`). */
  trafficSites?: ResolvedTrafficSites;
}

const IMAGE_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)+(:[A-Za-z0-9._-]{1,128})?(@sha256:[0-9a-f]{64})?$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Parses the reboot inputs; every error names its input. `env` holds the variables the sites file refers to. */
export function parseRebootInputs(read: InputReader<RebootInputName>, platform: Platform, env: NodeJS.ProcessEnv = process.env): RebootInputs {
  const file = read.filePath('sitesFile');
  if (!file) throw new InputError('sitesFile', 'is required for reboot: the sites and their kubeconfigs');
  const sites = loadSitesFile(file, 'sitesFile');
  const names = read.list('rebootSites');
  for (const n of names) if (!sites.sites.some((s) => s.name === n)) throw new InputError('rebootSites', `'${n}' is not a site of the sites file: expected one of ${sites.sites.map((s) => s.name).join(', ')}`);
  if (new Set(names).size !== names.length) throw new InputError('rebootSites', 'names a site twice');
  const chosen = names.length ? names.map((n) => sites.sites.find((s) => s.name === n)!) : sites.sites;
  const connection = platform.kubernetesConnection('kubernetesConnection');
  if (connection && chosen.length !== 1) throw new InputError('kubernetesConnection', 'is for per-site jobs: set exactly one site in rebootSites');
  const windowText = read.string('rebootWindow');
  const window = windowText ? parseRebootWindow(windowText, 'rebootWindow') : undefined;
  const maxNodesAtOnce = read.number('maxNodesAtOnce', { min: 1, max: 100, integer: true }) ?? 1;
  const minWorkers = read.number('minWorkers', { min: 0, max: 1000, integer: true }) ?? 2;
  const helperImage = read.string('rebootHelperImage');
  if (!helperImage) throw new InputError('rebootHelperImage', 'is required for reboot: the reboot helper image in the internal registry (sh, kubectl, nsenter)');
  if (!IMAGE_RE.test(helperImage)) throw new InputError('rebootHelperImage', `expected an image reference with a registry host, like registry.contoso.local/tools/reboot-helper:1.0, got '${helperImage}'`);
  const helperNamespace = read.string('rebootHelperNamespace') ?? 'kube-system';
  if (!K8S_NAME.test(helperNamespace)) throw new InputError('rebootHelperNamespace', `'${helperNamespace}' is not a Kubernetes namespace name`);
  const helperPullSecret = read.string('rebootHelperPullSecret');
  if (helperPullSecret !== undefined && !K8S_NAME.test(helperPullSecret)) throw new InputError('rebootHelperPullSecret', `'${helperPullSecret}' is not a Kubernetes Secret name`);
  const readyTimeoutMs = (read.number('nodeReadyTimeoutMinutes', { min: 1, max: 240, integer: true }) ?? 15) * 60_000;
  const traffic = parseTrafficConfig(read, platform);
  const routed = traffic ? trafficSites(traffic, sites, 'sitesFile') : undefined;
  const inTraffic = new Set(routed?.sites.map((s) => s.name) ?? []);
  const targets: RebootSiteAccess[] = chosen.map((s) => {
    let kubeconfig: string;
    let context = s.cluster?.context;
    if (connection) {
      kubeconfig = connection.kubeconfig;
      context = connection.context ?? context;
    } else {
      if (!s.cluster?.kubeconfig) throw new InputError('sitesFile', `site ${s.name} has no cluster.kubeconfig ({env: VARIABLE} or {file: path})${platform.name === 'azure-pipelines' ? ' and no kubernetesConnection is set' : ''}`);
      kubeconfig = readSecretRef(s.cluster.kubeconfig, 'sitesFile', env, sites.file ? path.dirname(sites.file) : process.cwd());
    }
    for (const secret of kubeconfigSecrets(kubeconfig)) platform.mask(secret);
    return { name: s.name, kubeconfig, context, inTraffic: inTraffic.has(s.name) };
  });
  return { sites, targets, window, maxNodesAtOnce, minWorkers, helperImage, helperNamespace, helperPullSecret, readyTimeoutMs, traffic, trafficSites: routed };
}

/** The reboot inputs and the traffic provider inputs, as the task defines them. */
export const rebootInputDefs = [...rebootInputs, ...trafficProviderInputs];

/** The names of the reboot's inputs (its own and the traffic provider's). */
export type RebootInputName = InputName<typeof rebootInputDefs>;
