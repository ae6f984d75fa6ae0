/**
 * Every capability with its names on each channel: the Azure DevOps task, the GitHub Action and the CLI command.
 * The manifests (task.json, action.yml), vss-extension.json, the docs and the CLI's command table are all derived
 * from this list (scripts/gen-manifests.ts, scripts/gen-docs.ts) and checked against it (tests/contract).
 */
import type { AnyCapability } from './platform/capability';
import { toolSetup } from './tool-setup';
import { mongoBackup } from './mongo';
import { aksEngine } from './aks-engine';
import { trafficGroups, trafficSwap } from './traffic';
import { helmRelease, helmReleaseGroups } from './helm-release';
import * as encryption from './shared/crypto/inputs';
// capability imports above this line

/** Identity of a capability on every channel. */
export interface CapabilityEntry {
  capability: AnyCapability;
  task: {
    /** task.json `name`; referenced as `<name>@<major>` */
    name: string;
    folder: string;
    /** a fixed GUID: never change it, agents key tasks by it */
    id: string;
    friendlyName: string;
    description: string;
    category: 'Utility' | 'Deploy' | 'Azure Pipelines';
    version: { Major: number; Minor: number; Patch: number };
    instanceNameFormat: string;
    groups?: { name: string; displayName: string; isExpanded: boolean }[];
  };
  action: { dir: string; name: string; description: string };
  cli: {
    group: string;
    /** A name may have two words (`primary status`): `stackhub-ha mongo primary status`. */
    commands: { name: string; description: string; fixed?: Record<string, string> }[];
  };
}

export const CAPABILITIES: readonly CapabilityEntry[] = [
  {
    capability: toolSetup,
    task: {
      name: 'StackHubToolSetup',
      folder: 'StackHubToolSetupV1',
      id: '0f6c3b8e-2a4d-4c1e-9b7a-5d8e1f2a3c41',
      friendlyName: 'Stack Hub: offline tool setup',
      description: 'Offline setup of helm, kubectl, aks-engine-azurestack and MongoDB tools: path, PATH, tool cache, pinned mirror or air-gap kit.',
      category: 'Utility',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'Set up $(tools)',
      groups: [
        { name: 'mirror', displayName: 'Internal mirror', isExpanded: false },
        { name: 'kit', displayName: 'Air-gap kit', isExpanded: false },
      ],
    },
    action: {
      dir: 'setup-tools',
      name: 'Stack Hub offline tool setup',
      description:
        'Set up helm, kubectl, aks-engine-azurestack and the MongoDB Database Tools from a path, PATH, the tool cache, a pinned internal mirror or the air-gap kit.',
    },
    cli: { group: 'tools', commands: [{ name: 'install', description: 'set up tools offline (path, PATH, cache, mirror, air-gap kit)' }] },
  },
  {
    capability: mongoBackup,
    task: {
      name: 'StackHubMongoBackup',
      folder: 'StackHubMongoBackupV1',
      id: '44f67ef3-d732-45d9-9734-15b26e27efa6',
      friendlyName: 'Stack Hub: Mongo backup and restore',
      description: 'MongoDB backup to off-Hub storage (Azure Blob on another Hub, S3, NFS): streamed, age-encrypted, signed manifest; verified restore, restore drill, list and prune.',
      category: 'Utility',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'Mongo $(command) ($(site))',
      groups: [
        { name: 'source', displayName: 'MongoDB', isExpanded: true },
        { name: 'cluster', displayName: 'In the cluster (kubectl-exec)', isExpanded: false },
        { name: 'storage', displayName: 'Storage (off-Hub)', isExpanded: true },
        ...encryption.groups(),
        { name: 'restore', displayName: 'Restore and drill', isExpanded: false },
        { name: 'retention', displayName: 'Retention (prune)', isExpanded: false },
        { name: 'primary', displayName: 'Replica-set primary (primary-move)', isExpanded: false },
      ],
    },
    action: {
      dir: 'mongo-backup',
      name: 'Stack Hub Mongo backup',
      description:
        'Back up MongoDB to off-Hub storage (Azure Blob on another Hub, S3-compatible, NFS): streamed, age-encrypted, signed manifest; verified restore, restore drill, list and prune.',
    },
    cli: {
      group: 'mongo',
      commands: [
        { name: 'backup', description: 'dump, encrypt and store a backup (manifest written last)', fixed: { command: 'backup' } },
        { name: 'restore', description: 'verify and restore a backup (latest or by id)', fixed: { command: 'restore' } },
        { name: 'list', description: 'list the backups of a site', fixed: { command: 'list' } },
        { name: 'prune', description: 'apply retention and remove interrupted backups', fixed: { command: 'prune' } },
        { name: 'drill', description: 'restore the latest backup into a scratch target, compare, drop; report RPO/RTO', fixed: { command: 'drill' } },
        { name: 'primary status', description: 'replica-set members by site: state, priority, optime lag, health', fixed: { command: 'primary-status' } },
        { name: 'primary move', description: 'move the primary to --site (raise, step down with catch-up, wait majority-committed)', fixed: { command: 'primary-move' } },
      ],
    },
  },
  {
    capability: aksEngine,
    task: {
      name: 'StackHubAksEngine',
      folder: 'StackHubAksEngineV1',
      id: '85c73fc5-075f-4c11-940e-cff01d7d76c2',
      friendlyName: 'Stack Hub: AKS Engine cluster',
      description: 'Validate, deploy, scale and upgrade AKS Engine clusters on Azure Stack Hub (Kubernetes or base OS image), with HA rules, marketplace checks, coordinated node reboots and encrypted off-Hub cluster state.',
      category: 'Deploy',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'AKS Engine $(command)',
      groups: [
        { name: 'hub', displayName: 'Azure Stack Hub', isExpanded: true },
        { name: 'cluster', displayName: 'Cluster definition', isExpanded: true },
        { name: 'operation', displayName: 'Operation settings', isExpanded: false },
        { name: 'reboot', displayName: 'Node reboots (reboot)', isExpanded: false },
        ...trafficGroups({ traffic: 'Node reboots: GSLB drain (traffic provider)', probe: 'Node reboots: GSLB health gate and verification' }),
        { name: 'state', displayName: 'Cluster state store', isExpanded: false },
      ],
    },
    action: {
      dir: 'aks-engine',
      name: 'Stack Hub AKS Engine',
      description:
        'Validate, deploy, scale, upgrade and diagnose AKS Engine clusters on Azure Stack Hub, with HA rules, marketplace prerequisite checks and the cluster state kept encrypted off the Hub.',
    },
    cli: {
      group: 'cluster',
      commands: [
        { name: 'validate', description: 'build and check the cluster definition (rules, versions, marketplace); no Hub changes', fixed: { command: 'validate' } },
        { name: 'deploy', description: 'deploy a new cluster and store its state encrypted', fixed: { command: 'deploy' } },
        { name: 'scale', description: 'scale a node pool (drains on scale-in) and store the new state', fixed: { command: 'scale' } },
        { name: 'upgrade', description: 'upgrade Kubernetes (next minor), or with --base-image-only only the nodes\' base OS image, after checking the marketplace', fixed: { command: 'upgrade' } },
        { name: 'versions', description: 'list the Kubernetes versions the aks-engine-azurestack binary can create and upgrade to', fixed: { command: 'versions' } },
        { name: 'credentials', description: 'create a namespace-limited service account and write its kubeconfig', fixed: { command: 'credentials' } },
        { name: 'get-logs', description: 'collect node logs and store them encrypted with the state', fixed: { command: 'get-logs' } },
        { name: 'reboot', description: 'reboot the nodes that need it (reboot-required), one site at a time, in the reboot window', fixed: { command: 'reboot' } },
      ],
    },
  },
  {
    capability: trafficSwap,
    task: {
      name: 'StackHubTrafficSwap',
      folder: 'StackHubTrafficSwapV1',
      id: '0b28862a-9195-41e0-8095-a108b858e3c6',
      friendlyName: 'Stack Hub: traffic swap',
      description: 'Move users between Azure Stack Hub sites via Azure Traffic Manager, RFC 2136 DNS or Hub DNS: health-gated, compare-and-swap, verified, undoable.',
      category: 'Deploy',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'Traffic $(command) $(site)',
      groups: [
        ...trafficGroups({ traffic: 'Traffic provider', probe: 'Health gate and verification', trafficExpanded: true }),
        { name: 'mongoGate', displayName: 'MongoDB primary gate', isExpanded: false },
      ],
    },
    action: {
      dir: 'traffic-swap',
      name: 'Stack Hub traffic swap',
      description:
        'Move users between Azure Stack Hub sites through Azure Traffic Manager, an RFC 2136 DNS server or a Hub DNS zone: health-gated, compare-and-swap, verified, undoable.',
    },
    cli: {
      group: 'traffic',
      commands: [
        { name: 'status', description: 'routing per site (enabled, priority/weight, health)', fixed: { command: 'status' } },
        { name: 'failover', description: 'make --site the primary / give it all the traffic', fixed: { command: 'failover' } },
        { name: 'drain', description: 'take --site out of rotation (never the last serving site)', fixed: { command: 'drain' } },
        { name: 'restore', description: 'put --site back into rotation (health-gated)', fixed: { command: 'restore' } },
        { name: 'weights', description: 'weighted shift: --weights site=w,...', fixed: { command: 'weights' } },
        { name: 'swap', description: "exchange two sites' priorities: --swap-sites a,b", fixed: { command: 'swap' } },
        { name: 'undo', description: 'restore the previousState of an earlier run: --state @file', fixed: { command: 'undo' } },
      ],
    },
  },
  {
    capability: helmRelease,
    task: {
      name: 'StackHubHelmRelease',
      folder: 'StackHubHelmReleaseV1',
      id: 'e2ca2466-ab85-44f6-880c-df1b8869767e',
      friendlyName: 'Stack Hub: helm multi-site release',
      description: 'One helm chart to every Azure Stack Hub site: preflight all, upgrade site by site behind gates, optional traffic drain/restore, roll back every changed site on failure.',
      category: 'Deploy',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'Helm release $(release): $(command) $(site)',
      groups: helmReleaseGroups,
    },
    action: {
      dir: 'helm-release',
      name: 'Stack Hub helm multi-site release',
      description:
        'Release one helm chart to two or more Azure Stack Hub clusters: preflight every site, upgrade site by site behind health gates, drain and restore traffic, roll back every changed site on failure.',
    },
    cli: {
      group: 'release',
      commands: [
        { name: 'preflight', description: 'check one site (--site) or all: lint, template, LoadBalancers, registries, namespace, diff; start the record', fixed: { command: 'preflight' } },
        { name: 'upgrade', description: 'upgrade --site behind its gates (the record must hold every site\'s preflight)', fixed: { command: 'upgrade' } },
        { name: 'verify', description: 'run the gates of an upgraded --site again (status, helm test, probe)', fixed: { command: 'verify' } },
        { name: 'rollback', description: 'put --site back to the revision the record holds from before the release', fixed: { command: 'rollback' } },
        { name: 'run', description: 'the whole release across every site from one machine (preflight, upgrade, rollback-all)', fixed: { command: 'run' } },
      ],
    },
  },
  // capability entries above this line (keep the order: it is the order of the docs and the CLI help)
];
