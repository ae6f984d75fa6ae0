/** Inputs of the AKS Engine capability: definitions (task.json / action.yml are generated from them) and the parser. */
import { withCommands } from '../platform/visibility';
import * as fs from 'node:fs';
import * as semver from 'semver';
import { withSecureFiles, type InputName, type InputReader, type OutputDef } from '../platform/inputs';
import type { Platform } from '../platform/types';
import { hubConnectionFrom, parseArmEndpoint, parseClientCertificate, readClientCertificate, resolveHubConnection, type ClientAuth } from '../shared/azure-stack';
import type { SecretSources } from '../shared/secrets';
import { readCaFile } from '../shared/ca';
import { InputError } from '../shared/errors';
import { encryptionInputs, parseEncryption, parseStorageTarget, storageInputs, type ParsedEncryption, type ParsedStorage } from '../shared/storage';
import type { ApiModel, ClusterShape } from './apimodel';
import { DEFAULT_CORDON_DRAIN_TIMEOUT_MINUTES, DEFAULT_VM_TIMEOUT_MINUTES, EXAMPLE_APIMODEL, SUPPORTED_DISTROS } from './defaults';
import { DNS_PREFIX, POOL_NAME } from './validate';
import { parseRebootInputs, rebootInputDefs, type RebootInputs } from './reboot/inputs';
import { defineInputs } from '../shared/inputs';

/** The operations. */
export const COMMANDS = ['validate', 'deploy', 'scale', 'upgrade', 'versions', 'credentials', 'get-logs', 'reboot'] as const;
export type AksCommand = (typeof COMMANDS)[number];

const ex = EXAMPLE_APIMODEL.properties;
const SECRET_ON_ARGV =
  'With authMethod client_secret, aks-engine-azurestack accepts the secret only as --client-secret on its command line: while it runs, other processes on the agent can read it. Prefer authMethod client_certificate, which keeps every secret off command lines.';

const aksEngineInputDefs = defineInputs([
  {
    name: 'command',
    label: 'Operation',
    type: 'pickList',
    options: COMMANDS,
    default: 'validate',
    required: true,
    help: '`validate` (no Hub changes: build the apimodel, check the rules and, with Hub credentials, the marketplace prerequisites), `deploy`, `scale`, `upgrade`, `versions` (what the aks-engine-azurestack binary can create/upgrade to), `credentials` (a namespace-limited service account and its kubeconfig), `get-logs` or `reboot` (coordinated node reboots after unattended upgrades: the nodes whose /var/run/reboot-required is set, one site at a time, cordon/drain/reboot/uncordon, in the rebootWindow).',
  },
  // ---------------------------------------------------------------------------------------------- hub
  {
    name: 'azureStackConnection',
    label: 'Azure Stack Hub connection',
    type: 'azureRmConnection',
    group: 'hub',
    channels: ['azure-pipelines'],
    help: 'Azure Resource Manager service connection with environment AzureStack (service principal with key or certificate). Supplies the ARM endpoint, subscription, tenant and credentials; the inputs below override nothing it sets.',
  },
  {
    name: 'azureStackHubConnection',
    label: 'Azure Stack Hub connection (Hub type)',
    type: 'azureStackHubConnection',
    group: 'hub',
    channels: ['azure-pipelines'],
    help: 'An "Azure Stack Hub" service connection (this extension\'s type): ARM endpoint, identity system, tenant, subscription, optional root CA and a service principal with secret or certificate. Use it instead of azureStackConnection for ADFS Hubs or a Hub CA the agent does not trust; set one of the two.',
  },
  { name: 'armEndpoint', label: 'Hub ARM endpoint', type: 'string', group: 'hub', help: 'The Hub\'s ARM endpoint, `https://management.<region>.<fqdn>`. Discovery reads `{armEndpoint}/metadata/endpoints` and fills customCloudProfile.environment so aks-engine never fetches anything itself.' },
  { name: 'location', label: 'Location', type: 'string', group: 'hub', help: 'The Hub region (its ARM location, e.g. `local`); must match the apimodel\'s location and the portal `https://portal.<location>.<fqdn>`.' },
  {
    name: 'identitySystem',
    label: 'Identity system',
    type: 'pickList',
    options: ['azure_ad', 'adfs'],
    group: 'hub',
    help: 'The Hub\'s identity system. Default: what discovery reports (a login endpoint ending in /adfs/ means adfs). Always passed explicitly to aks-engine (deploy would otherwise turn adfs into azure_ad).',
  },
  { name: 'subscriptionId', label: 'Subscription id', type: 'string', group: 'hub', help: 'The Hub user subscription (a GUID).' },
  { name: 'resourceGroup', label: 'Resource group', type: 'string', group: 'hub', help: 'Resource group of the cluster (default: the dnsPrefix).' },
  { name: 'tenantId', label: 'Directory (tenant) id', type: 'string', group: 'hub', help: 'Azure AD directory id of an Azure AD Hub (not needed for ADFS).' },
  {
    name: 'authMethod',
    label: 'Authentication method',
    type: 'pickList',
    options: ['client_certificate', 'client_secret'],
    default: 'client_certificate',
    group: 'hub',
    help: `How aks-engine signs in to the Hub: \`client_certificate\` (recommended) or \`client_secret\`. ${SECRET_ON_ARGV}`,
  },
  { name: 'clientId', label: 'Service principal (client) id', type: 'string', group: 'hub', help: 'Application id of the service principal (a GUID). It is also the cluster\'s cloud-provider identity (servicePrincipalProfile.clientId).' },
  {
    name: 'clientSecret',
    label: 'Service principal secret',
    type: 'secret',
    group: 'hub',
    help: `Secret of the service principal. The cluster's cloud provider needs it in every case: it goes into servicePrincipalProfile.secret of a 0600 apimodel copy, never on a command line — except with authMethod client_secret, where aks-engine also needs it as --client-secret. ${SECRET_ON_ARGV}`,
  },
  { name: 'clientCertificate', label: 'Client certificate (PEM)', type: 'secret', group: 'hub', help: 'PEM of the service principal\'s certificate AND its unencrypted private key (authMethod client_certificate). Written to 0600 files for aks-engine; never on a command line.' },
  { name: 'clientCertificatePath', label: 'Client certificate file', type: 'filePath', group: 'hub', help: 'A PEM file with the certificate (and its key, unless clientKeyPath is set), e.g. an ADO secure file\'s path.' },
  { name: 'clientKeyPath', label: 'Client private key file', type: 'filePath', group: 'hub', help: 'The certificate\'s unencrypted private key (PEM), when not in clientCertificatePath.' },
  { name: 'caCertificate', label: 'Hub root CA (PEM)', type: 'filePath', group: 'hub', help: 'PEM of the Hub\'s root CA (e.g. /var/lib/waagent/Certificates.pem of a Hub Linux VM). Trusted for our own calls, and given to aks-engine as SSL_CERT_FILE = system bundle + this CA.' },
  { name: 'aksEnginePath', label: 'aks-engine-azurestack path', type: 'filePath', help: 'The aks-engine-azurestack binary. Default: PATH (after the tool setup step), then the tool cache.' },
  { name: 'timeoutMinutes', label: 'Timeout (minutes)', type: 'number', default: '120', help: 'Time allowed for the whole operation; aks-engine\'s process tree is killed after it (deploy with an unreachable identity provider retries for a long time).' },
  // ---------------------------------------------------------------------------------------------- cluster
  { name: 'apiModel', label: 'Cluster definition (apimodel) file', type: 'filePath', group: 'cluster', help: 'An aks-engine apimodel JSON file. When empty, the definition is built from the inputs below over the official Azure Stack Hub example. Inputs below that are set override the file.' },
  { name: 'dnsPrefix', label: 'DNS prefix', type: 'string', group: 'cluster', help: 'Cluster name and DNS prefix: 3–45 letters, digits and hyphens, starting with a letter.' },
  { name: 'kubernetesVersion', label: 'Kubernetes version', type: 'string', group: 'cluster', help: `Kubernetes version to create (default: the example's ${ex.orchestratorProfile.orchestratorVersion} when the resolved aks-engine-azurestack can create it, else the newest version its get-versions lists); checked against get-versions of the resolved binary.` },
  { name: 'masterCount', label: 'Control plane nodes', type: 'number', group: 'cluster', help: `3 or 5 (default ${ex.masterProfile.count}); 1 only with allowNonHA.` },
  { name: 'masterVmSize', label: 'Control plane VM size', type: 'string', group: 'cluster', help: `Default ${ex.masterProfile.vmSize}.` },
  { name: 'linuxPoolName', label: 'Linux pool name', type: 'string', group: 'cluster', help: `Default ${ex.agentPoolProfiles[0].name}.` },
  { name: 'linuxPoolCount', label: 'Linux pool nodes', type: 'number', group: 'cluster', help: `At least 2 (default ${ex.agentPoolProfiles[0].count}).` },
  { name: 'linuxPoolVmSize', label: 'Linux pool VM size', type: 'string', group: 'cluster', help: `Default ${ex.agentPoolProfiles[0].vmSize}.` },
  { name: 'distro', label: 'Distro', type: 'string', group: 'cluster', help: `Node image distro: ${SUPPORTED_DISTROS.join(' or ')} (default: the newest of them the resolved aks-engine-azurestack accepts, asked from the binary with a generate dry run; v0.81.x accepts only aks-ubuntu-20.04).` },
  { name: 'networkPlugin', label: 'Network plugin', type: 'pickList', options: ['kubenet', 'azure'], group: 'cluster', help: `kubenet or azure (default ${ex.orchestratorProfile.kubernetesConfig.networkPlugin}).` },
  { name: 'masterSubnetId', label: 'Control plane subnet id', type: 'string', group: 'cluster', help: 'ARM id of an existing VNet subnet for the control plane (needs agentSubnetId and firstConsecutiveStaticIp).' },
  { name: 'agentSubnetId', label: 'Linux pool subnet id', type: 'string', group: 'cluster', help: 'ARM id of an existing VNet subnet for the Linux pool.' },
  { name: 'firstConsecutiveStaticIp', label: 'First control plane IP', type: 'string', group: 'cluster', help: 'First of the consecutive static IPs of the control plane in masterSubnetId.' },
  { name: 'vnetCidr', label: 'VNet CIDR', type: 'string', group: 'cluster', help: 'Address space of the existing VNet (with masterSubnetId).' },
  { name: 'sshPublicKey', label: 'SSH public key', type: 'string', group: 'cluster', help: 'OpenSSH ssh-rsa public key of the node admin (required for a definition built from inputs).' },
  { name: 'adminUsername', label: 'Admin user name', type: 'string', group: 'cluster', help: `Node admin user (default ${ex.linuxProfile.adminUsername}).` },
  { name: 'allowNonHA', label: 'Allow a non-HA cluster', type: 'boolean', default: 'false', group: 'cluster', help: 'Allow 1 control plane node and fewer than 2 workers (test clusters only).' },
  // ---------------------------------------------------------------------------------------------- operation
  { name: 'force', label: 'Force', type: 'boolean', default: 'false', group: 'operation', help: 'deploy: deploy although state for this cluster exists (else use scale/upgrade). upgrade: allow a target beyond the next minor (aks-engine --force). reboot: also evict pods no controller manages (they are not recreated), as kubectl drain --force.' },
  { name: 'nodePool', label: 'Node pool', type: 'string', group: 'operation', help: 'scale: the pool to scale (default the first pool).' },
  { name: 'nodeCount', label: 'New node count', type: 'number', group: 'operation', help: 'scale: the pool\'s new node count (at least 2 unless allowNonHA).' },
  { name: 'upgradeVersion', label: 'Upgrade to version', type: 'string', group: 'operation', help: 'upgrade: target Kubernetes version; must be on the upgrade list of the current version (next minor only unless force) and its base image on the Hub.' },
  {
    name: 'baseImageOnly',
    label: 'Upgrade only the base OS image',
    type: 'boolean',
    default: 'false',
    group: 'operation',
    help: 'upgrade: re-create the nodes from a newer AKS base image at the Kubernetes version the cluster already runs (`aks-engine-azurestack upgrade --upgrade-version <current> --force`, as Microsoft\'s Azure Stack Hub docs describe "only upgrade the OS image"). The image is the one the resolved aks-engine-azurestack release is tied to; it must be in the Hub\'s marketplace. Refused when no node would get a newer image (the summary names the current image and the newest one the marketplace holds). upgradeVersion may be empty.',
  },
  {
    name: 'ifNoNewerImage',
    label: 'When no newer base image exists',
    type: 'pickList',
    options: ['fail', 'succeed'],
    default: 'fail',
    group: 'operation',
    help: 'upgrade with baseImageOnly: `fail` (the run fails naming the current image) or `succeed` (a scheduled check: nothing is done, the summary names the current image, output baseImageStatus is `current`).',
  },
  { name: 'vmTimeoutMinutes', label: 'Upgrade VM timeout (minutes)', type: 'number', default: String(DEFAULT_VM_TIMEOUT_MINUTES), group: 'operation', help: 'upgrade: how long to wait for each VM (--vm-timeout).' },
  { name: 'cordonDrainTimeoutMinutes', label: 'Cordon/drain timeout (minutes)', type: 'number', default: String(DEFAULT_CORDON_DRAIN_TIMEOUT_MINUTES), group: 'operation', help: 'upgrade: how long to wait for each node to drain (--cordon-drain-timeout). reboot: how long a node\'s drain may take (PodDisruptionBudget refusals are retried until then).' },
  { name: 'namespaces', label: 'Namespaces', type: 'list', group: 'operation', help: 'credentials: the namespaces the service account may deploy to (a Role and RoleBinding in each).' },
  { name: 'serviceAccount', label: 'Service account', type: 'string', default: 'stackhub-ha-deployer', group: 'operation', help: 'credentials: service account name (created in the first namespace).' },
  { name: 'roleRules', label: 'Role rules', type: 'object', group: 'operation', help: 'credentials: RBAC rules of the Role (YAML list of {apiGroups, resources, verbs}). Default: everything inside the namespace, nothing cluster-wide.' },
  { name: 'apiServerUrl', label: 'API server URL', type: 'string', group: 'operation', help: 'credentials: the API server URL to use instead of the one in the cluster state (e.g. through an internal load balancer); `http://` only for a local `kubectl proxy`, which has no TLS.' },
  { name: 'sshHost', label: 'SSH jump host', type: 'string', group: 'operation', help: 'get-logs: an SSH listener that reaches every node (default the API server FQDN).' },
  { name: 'sshPrivateKey', label: 'SSH private key', type: 'secret', group: 'operation', help: 'get-logs: the node admin\'s private key (default the key deploy generated, from the cluster state).' },
  // ---------------------------------------------------------------------------------------------- reboot
  ...rebootInputDefs,
  // ---------------------------------------------------------------------------------------------- state
  { name: 'siteName', label: 'Site name', type: 'string', group: 'state', help: 'Name of this cluster\'s site in the state store (default the location). A filesystem store declared on this site is refused.' },
  ...storageInputs({ group: 'state', what: 'cluster state' }),
  ...encryptionInputs({ group: 'state', writes: true, reads: true }),
]);

/** Every input of the AKS Engine capability; the task form shows the operation's own inputs for that operation. */
// the reboot's own inputs, the GSLB provider choice and its probe knobs show for reboot; the provider's inputs by provider
const forReboot = aksEngineInputDefs.filter((d) => (d.group === 'reboot' || d.group === 'probe' || d.name === 'trafficProvider' || d.name === 'trafficCaCertificate') && !d.when);
export const aksEngineInputs = withSecureFiles(withCommands(aksEngineInputDefs, {
  ...Object.fromEntries(forReboot.map((d) => [d.name, ['reboot']])),
  baseImageOnly: ['upgrade'],
  ifNoNewerImage: ['upgrade'],
  force: ['deploy', 'upgrade', 'reboot'],
  nodePool: ['scale'],
  nodeCount: ['scale'],
  upgradeVersion: ['upgrade'],
  vmTimeoutMinutes: ['upgrade'],
  cordonDrainTimeoutMinutes: ['upgrade', 'reboot'],
  namespaces: ['credentials'],
  serviceAccount: ['credentials'],
  roleRules: ['credentials'],
  apiServerUrl: ['credentials'],
  sshHost: ['get-logs'],
  sshPrivateKey: ['get-logs'],
}), ['clientCertificate', 'sshPrivateKey', 'signingKey', 'ageIdentity']);

/** The names of the AKS Engine capability's inputs. */
export type AksEngineInputName = InputName<typeof aksEngineInputs>;

export const aksEngineOutputs: readonly OutputDef[] = [
  { name: 'kubeconfigPath', description: 'Path of a 0600 kubeconfig file (credentials: the namespace-limited service account; deploy/scale/upgrade: the cluster admin). Never the content.' },
  { name: 'apiServerFqdn', description: 'FQDN of the cluster\'s API server.' },
  { name: 'stateVersion', description: 'Id of the state version stored by this run (or read, for credentials/get-logs).' },
  { name: 'clusterVersion', description: 'Kubernetes version of the cluster after the run.' },
  { name: 'apiModelPath', description: 'validate: path of the final apimodel with every secret replaced by a placeholder.' },
  { name: 'versions', description: 'versions: JSON of what the binary can create and upgrade to.' },
  { name: 'baseImageStatus', description: 'upgrade with baseImageOnly: `upgraded`, or `current` when no newer image exists and ifNoNewerImage is succeed.' },
  { name: 'rebootStatus', description: 'reboot: `done`, `nothing-to-do`, `outside-window` or `window-closed`.' },
  { name: 'rebootedNodes', description: 'reboot: the nodes rebooted, `site/node` comma-separated.' },
  { name: 'rebootPending', description: 'reboot: nodes that still need a reboot when the window closed (`site/node`, `site/*` for sites not reached).' },
  { name: 'nextRebootWindow', description: 'reboot: when the window opens next (outside-window, window-closed).' },
];

/** The auth for aks-engine and our own ARM calls. */
export type AuthInput = ClientAuth & { tenantId?: string };

/** Parsed inputs. */
export interface AksEngineInputs {
  command: AksCommand;
  armEndpoint?: string;
  armEndpointInput: string;
  location?: string;
  identitySystem?: 'azure_ad' | 'adfs';
  subscriptionId?: string;
  resourceGroup?: string;
  tenantId?: string;
  authMethod: 'client_certificate' | 'client_secret';
  clientId?: string;
  /** The SP secret (cluster cloud provider; also aks-engine's login with client_secret). */
  clientSecret?: string;
  certificate?: { certificatePem: string; privateKeyPem: string };
  caCertificates: string[];
  aksEnginePath?: string;
  timeoutMs: number;
  apiModelFile?: { path: string; doc: ApiModel };
  shape: ClusterShape;
  allowNonHA: boolean;
  force: boolean;
  nodePool?: string;
  nodeCount?: number;
  upgradeVersion?: string;
  baseImageOnly: boolean;
  ifNoNewerImage: 'fail' | 'succeed';
  /** reboot only. */
  reboot?: RebootInputs;
  vmTimeoutMinutes: number;
  cordonDrainTimeoutMinutes: number;
  namespaces: string[];
  serviceAccount: string;
  roleRules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  apiServerUrl?: string;
  sshHost?: string;
  sshPrivateKey?: string;
  siteName?: string;
  storage?: ParsedStorage;
  encryption?: ParsedEncryption;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;

function requireIn(v: string | undefined, input: string, why: string): string {
  if (v === undefined || v === '') throw new InputError(input, `is required ${why}`);
  return v;
}

/** Reads an apimodel file; errors name `apiModel`. */
export function readApiModelFile(file: string): ApiModel {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError('apiModel', `${file} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || typeof (doc as ApiModel).properties !== 'object' || (doc as ApiModel).properties === null) {
    throw new InputError('apiModel', `${file} is not an aks-engine apimodel: expected {"apiVersion": "vlabs", "properties": {...}}`);
  }
  return doc as ApiModel;
}

/** Parses and checks every input. No I/O besides reading the local files the inputs name. */
export function parseAksEngineInputs(read: InputReader<AksEngineInputName>, platform: Platform): AksEngineInputs {
  const command = read.choice<AksCommand>('command') ?? 'validate';
  const needsHub = ['validate', 'deploy', 'scale', 'upgrade'].includes(command);
  const needsArm = ['deploy', 'scale', 'upgrade'].includes(command);
  const needsState = ['deploy', 'scale', 'upgrade', 'credentials', 'get-logs'].includes(command);
  const why = `for ${command}`;

  // the Hub and the credentials: service connection (ADO) or inputs
  const hubConn = resolveHubConnection(platform, 'azureStackConnection', 'azureStackHubConnection');
  let armEndpoint = hubConn?.armEndpoint ?? read.string('armEndpoint');
  const armEndpointInput = hubConn ? hubConn.input : 'armEndpoint';
  if (armEndpoint) armEndpoint = parseArmEndpoint(armEndpoint, armEndpointInput);
  else if (needsHub) requireIn(undefined, 'armEndpoint', `${why} (or an azureStackConnection on Azure Pipelines)`);

  const location = read.string('location');
  if (location !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(location)) throw new InputError('location', `expected a region name like local, got '${location}'`);
  if ((needsHub || needsState) && command !== 'credentials') requireIn(location, 'location', why);
  const identitySystem = read.choice<'azure_ad' | 'adfs'>('identitySystem') ?? hubConn?.identitySystem;
  const subscriptionId = hubConn?.subscriptionId ?? read.string('subscriptionId');
  if (subscriptionId !== undefined && !GUID.test(subscriptionId)) throw new InputError(hubConn ? hubConn.input : 'subscriptionId', `expected a subscription GUID, got '${subscriptionId}'`);
  if (needsArm) requireIn(subscriptionId, 'subscriptionId', why);
  const tenantId = hubConn?.tenantId ?? read.string('tenantId');
  let authMethod = read.choice<'client_certificate' | 'client_secret'>('authMethod') ?? 'client_certificate';
  let clientId = read.string('clientId');
  let clientSecret = read.secret('clientSecret');
  let certificate: AksEngineInputs['certificate'];
  if (hubConn) {
    clientId = hubConn.auth.clientId;
    if (hubConn.auth.kind === 'client_secret') {
      authMethod = 'client_secret';
      clientSecret = hubConn.auth.clientSecret;
    } else {
      authMethod = 'client_certificate';
      certificate = { certificatePem: hubConn.auth.certificatePem, privateKeyPem: hubConn.auth.privateKeyPem };
    }
  } else {
    const pem = read.secret('clientCertificate');
    const certFile = read.filePath('clientCertificatePath');
    const keyFile = read.filePath('clientKeyPath');
    if (pem && certFile) throw new InputError('clientCertificatePath', 'set either clientCertificate or clientCertificatePath, not both');
    if (keyFile && !certFile) throw new InputError('clientKeyPath', 'is set but clientCertificatePath is not');
    if (pem) certificate = parseClientCertificate(pem, undefined, 'clientCertificate');
    else if (certFile) {
      const read = (f: string, input: string): string => {
        try {
          return fs.readFileSync(f, 'utf8');
        } catch {
          throw new InputError(input, `cannot read ${f}`);
        }
      };
      const certText = read(certFile, 'clientCertificatePath');
      const keyText = keyFile ? read(keyFile, 'clientKeyPath') : undefined;
      try {
        certificate = parseClientCertificate(certText, keyText, 'clientCertificatePath');
      } catch (e) {
        if (keyFile && e instanceof InputError && /private key/.test(e.expected)) throw new InputError('clientKeyPath', e.expected);
        throw e;
      }
    }
  }
  if (clientId !== undefined && !GUID.test(clientId)) throw new InputError(hubConn ? hubConn.input : 'clientId', `expected the service principal's application id (a GUID), got '${clientId}'`);
  if (needsArm) {
    requireIn(clientId, 'clientId', why);
    if (authMethod === 'client_secret') requireIn(clientSecret, 'clientSecret', `${why} with authMethod client_secret`);
    else if (!certificate) throw new InputError('clientCertificate', `is required ${why} with authMethod client_certificate (or set clientCertificatePath)`);
  }
  if (clientSecret !== undefined && clientSecret.length < 4) throw new InputError('clientSecret', 'is too short to be a service principal secret');

  const caFile = read.filePath('caCertificate');
  const caCertificates = caFile ? readCaFile(caFile, 'caCertificate') : [];
  caCertificates.push(...(hubConn?.caCertificates ?? []));
  const agentCa = platform.agentTls().caFile;
  if (agentCa && fs.existsSync(agentCa)) caCertificates.push(...readCaFile(agentCa, 'Agent.CAInfo'));
  const aksEnginePath = read.filePath('aksEnginePath');
  const timeoutMs = read.number('timeoutMinutes', { min: 1, max: 24 * 60, integer: true })! * 60_000;

  // the cluster definition
  const apiModelPath = read.filePath('apiModel');
  const apiModelFile = apiModelPath ? { path: apiModelPath, doc: readApiModelFile(apiModelPath) } : undefined;
  const shape: ClusterShape = {
    dnsPrefix: read.string('dnsPrefix'),
    kubernetesVersion: read.string('kubernetesVersion'),
    masterCount: read.number('masterCount', { integer: true }),
    masterVmSize: read.string('masterVmSize'),
    linuxPoolName: read.string('linuxPoolName'),
    linuxPoolCount: read.number('linuxPoolCount', { integer: true }),
    linuxPoolVmSize: read.string('linuxPoolVmSize'),
    distro: read.string('distro'),
    networkPlugin: read.choice('networkPlugin'),
    masterSubnetId: read.string('masterSubnetId'),
    agentSubnetId: read.string('agentSubnetId'),
    firstConsecutiveStaticIp: read.string('firstConsecutiveStaticIp'),
    vnetCidr: read.string('vnetCidr'),
    sshPublicKey: read.string('sshPublicKey'),
    adminUsername: read.string('adminUsername'),
  };
  const allowNonHA = read.boolean('allowNonHA');
  if (shape.dnsPrefix !== undefined && !DNS_PREFIX.test(shape.dnsPrefix)) {
    throw new InputError('dnsPrefix', `'${shape.dnsPrefix}' is invalid: 3 to 45 letters, digits and hyphens, starting with a letter and not ending with a hyphen`);
  }
  if (shape.kubernetesVersion !== undefined && !semver.valid(shape.kubernetesVersion)) throw new InputError('kubernetesVersion', `expected a version like 1.33.10, got '${shape.kubernetesVersion}'`);
  if (shape.masterCount !== undefined && ![1, 3, 5].includes(shape.masterCount)) throw new InputError('masterCount', `expected 3 or 5 (an odd etcd quorum; 1 only with allowNonHA), got ${shape.masterCount}`);
  if (shape.masterCount === 1 && !allowNonHA) throw new InputError('masterCount', 'expected 3 or 5 for a highly available control plane, got 1 (set allowNonHA: true for a test cluster)');
  if (shape.linuxPoolCount !== undefined && (shape.linuxPoolCount < 1 || shape.linuxPoolCount > 1000)) throw new InputError('linuxPoolCount', `expected 2 to 1000 nodes, got ${shape.linuxPoolCount}`);
  if (shape.linuxPoolCount !== undefined && shape.linuxPoolCount < 2 && !allowNonHA) throw new InputError('linuxPoolCount', `expected at least 2 workers so that workloads survive a node failure, got ${shape.linuxPoolCount} (allowNonHA allows 1)`);
  if (shape.linuxPoolName !== undefined && !POOL_NAME.test(shape.linuxPoolName)) throw new InputError('linuxPoolName', `'${shape.linuxPoolName}' is invalid: 1 to 12 lower-case letters and digits, starting with a letter`);
  if (shape.distro !== undefined && !(SUPPORTED_DISTROS as readonly string[]).includes(shape.distro)) throw new InputError('distro', `expected ${SUPPORTED_DISTROS.join(' or ')}, got '${shape.distro}'`);
  for (const k of ['masterSubnetId', 'agentSubnetId'] as const) {
    if (shape[k] !== undefined && !SUBNET_ID.test(shape[k]!)) throw new InputError(k, `expected a subnet id /subscriptions/…/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, got '${shape[k]}'`);
  }
  if (shape.sshPublicKey !== undefined && !/^ssh-rsa AAAA[0-9A-Za-z+/]+=*( .*)?$/.test(shape.sshPublicKey)) throw new InputError('sshPublicKey', 'expected an OpenSSH ssh-rsa public key (ssh-rsa AAAA…)');
  if (!apiModelFile && (command === 'validate' || command === 'deploy')) {
    requireIn(shape.dnsPrefix, 'dnsPrefix', `${why} when no apiModel file is given`);
    requireIn(shape.sshPublicKey, 'sshPublicKey', `${why} when no apiModel file is given`);
  }

  // the operation
  const force = read.boolean('force');
  const nodePool = read.string('nodePool');
  const nodeCount = read.number('nodeCount', { min: 1, max: 1000, integer: true });
  if (command === 'scale') {
    requireIn(nodeCount === undefined ? undefined : String(nodeCount), 'nodeCount', why);
    if (nodeCount! < 2 && !allowNonHA) throw new InputError('nodeCount', `expected at least 2 workers, got ${nodeCount} (allowNonHA allows 1)`);
  }
  const upgradeVersion = read.string('upgradeVersion');
  if (upgradeVersion !== undefined && !semver.valid(upgradeVersion)) throw new InputError('upgradeVersion', `expected a version like 1.34.4, got '${upgradeVersion}'`);
  const baseImageOnly = read.boolean('baseImageOnly');
  if (command === 'upgrade' && !baseImageOnly) requireIn(upgradeVersion, 'upgradeVersion', `${why} (or set baseImageOnly: true to upgrade only the base OS image)`);
  const vmTimeoutMinutes = read.number('vmTimeoutMinutes', { min: 1, max: 600, integer: true })!;
  const cordonDrainTimeoutMinutes = read.number('cordonDrainTimeoutMinutes', { min: 1, max: 600, integer: true })!;
  const namespaces = read.list('namespaces');
  for (const ns of namespaces) if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) throw new InputError('namespaces', `'${ns}' is not a Kubernetes namespace name`);
  if (command === 'credentials' && namespaces.length === 0) throw new InputError('namespaces', `is required ${why}: at least one namespace`);
  const serviceAccount = read.string('serviceAccount') ?? 'stackhub-ha-deployer';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(serviceAccount)) throw new InputError('serviceAccount', `'${serviceAccount}' is not a Kubernetes name`);
  const rules = read.object<unknown>('roleRules');
  let roleRules: AksEngineInputs['roleRules'];
  if (rules !== undefined) {
    const ok = Array.isArray(rules) && rules.length > 0 && rules.every((r) => r && typeof r === 'object' && ['apiGroups', 'resources', 'verbs'].every((k) => Array.isArray((r as Record<string, unknown>)[k]) && ((r as Record<string, unknown[]>)[k]).every((x) => typeof x === 'string')));
    if (!ok) throw new InputError('roleRules', 'expected a YAML list of {apiGroups: [...], resources: [...], verbs: [...]}');
    roleRules = rules as AksEngineInputs['roleRules'];
  }
  const apiServerUrl = read.string('apiServerUrl');
  if (apiServerUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(apiServerUrl)) throw new InputError('apiServerUrl', `expected an http(s) URL, got '${apiServerUrl}'`);
  const sshHost = read.string('sshHost');
  const sshPrivateKey = read.secret('sshPrivateKey');
  if (sshPrivateKey !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey)) throw new InputError('sshPrivateKey', 'expected a PEM or OpenSSH private key');

  // the state store
  const siteName = read.string('siteName');
  let storage: ParsedStorage | undefined;
  let encryption: ParsedEncryption | undefined;
  if (needsState) {
    storage = parseStorageTarget(read, platform);
    encryption = parseEncryption(read, { write: ['deploy', 'scale', 'upgrade', 'get-logs'].includes(command), identity: command !== 'deploy' }, (s) => platform.mask(s));
  }
  const reboot = command === 'reboot' ? parseRebootInputs(read, platform) : undefined;
  return {
    command,
    reboot,
    armEndpoint,
    armEndpointInput,
    location,
    identitySystem,
    subscriptionId,
    resourceGroup: read.string('resourceGroup'),
    tenantId,
    authMethod,
    clientId,
    clientSecret,
    certificate,
    caCertificates,
    aksEnginePath,
    timeoutMs,
    apiModelFile,
    shape,
    allowNonHA,
    force,
    nodePool,
    nodeCount,
    upgradeVersion,
    baseImageOnly,
    ifNoNewerImage: read.choice<'fail' | 'succeed'>('ifNoNewerImage') ?? 'fail',
    vmTimeoutMinutes,
    cordonDrainTimeoutMinutes,
    namespaces,
    serviceAccount,
    roleRules,
    apiServerUrl,
    sshHost,
    sshPrivateKey,
    siteName,
    storage,
    encryption,
  };
}

/**
 * The Hub keyvault:// references read (src/shared/secrets): the same service connection or ARM endpoint and
 * service principal this task signs in with. Undefined hub when they are not (all) set.
 */
export function aksEngineSecretSources(read: InputReader<AksEngineInputName>, platform: Platform): SecretSources {
  const conn = platform.azureRmConnection('azureStackConnection');
  const caFile = read.filePath('caCertificate');
  const ca = caFile ? readCaFile(caFile, 'caCertificate') : [];
  const agentCa = platform.agentTls().caFile;
  if (agentCa && fs.existsSync(agentCa)) ca.push(...readCaFile(agentCa, 'Agent.CAInfo'));
  if (conn) {
    const hc = hubConnectionFrom(conn, 'azureStackConnection');
    return { hub: { armEndpoint: hc.armEndpoint, armEndpointInput: 'azureStackConnection', auth: hc.auth, tenantId: hc.tenantId, tenantInput: 'azureStackConnection', ca } };
  }
  const armEndpoint = read.string('armEndpoint');
  const clientId = read.string('clientId');
  if (!armEndpoint || !clientId) return {};
  const method = read.choice<'client_certificate' | 'client_secret'>('authMethod') ?? 'client_certificate';
  let auth: ClientAuth | undefined;
  if (method === 'client_secret') {
    const secret = read.secret('clientSecret');
    if (secret) auth = { kind: 'client_secret', clientId, clientSecret: secret };
  } else {
    const pem = read.secret('clientCertificate');
    const certFile = read.filePath('clientCertificatePath');
    if (pem) auth = { kind: 'client_certificate', clientId, ...parseClientCertificate(pem, undefined, 'clientCertificate') };
    else if (certFile) auth = { kind: 'client_certificate', clientId, ...readClientCertificate(certFile, read.filePath('clientKeyPath'), 'clientCertificatePath', 'clientKeyPath') };
  }
  if (!auth) return {};
  return { hub: { armEndpoint: parseArmEndpoint(armEndpoint, 'armEndpoint'), armEndpointInput: 'armEndpoint', auth, tenantId: read.string('tenantId'), tenantInput: 'tenantId', ca } };
}
