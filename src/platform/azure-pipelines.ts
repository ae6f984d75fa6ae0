/**
 * Azure Pipelines adapter on azure-pipelines-task-lib. The task-lib stays external to the task bundle (installed
 * into each task folder at build time): it moves INPUT_, SECRET_, ENDPOINT_AUTH_ and SECUREFILE_TICKET_ values into
 * its vault when loaded, and its mocks need the real module.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as im from 'azure-pipelines-task-lib/internal';
import * as tl from 'azure-pipelines-task-lib/task';
import { InputError } from '../shared/errors';
import { Masker } from '../shared/mask';
import type { AnyCapability } from './capability';
import { MaskingLogger } from './logger';
import { runCapability } from './run';
import type { AgentTls, AzureRmConnection, AzureStackHubConnection, KubernetesConnection, Platform, ProxySettings, SecureFileOptions } from './types';
import { kubeconfigFromServiceAccount, kubeconfigSecrets } from './kubeconfig';
import { downloadSecureFile } from './secure-file';

/** The Azure Pipelines platform. */
export class AzurePipelinesPlatform implements Platform {
  readonly name = 'azure-pipelines' as const;
  readonly masker = new Masker();
  readonly debug = (tl.getVariable('System.Debug') ?? '').toLowerCase() === 'true';
  readonly log = new MaskingLogger(
    {
      info: (l) => console.log(l),
      debug: (l) => console.log(`##[debug]${l}`),
      warning: (l) => tl.warning(l),
      error: (l) => tl.error(l),
      startGroup: (n) => console.log(`##[group]${n}`),
      endGroup: () => console.log('##[endgroup]'),
      progress: (p, m) => {
        tl.setProgress(p, m);
        console.log(`[${p}%] ${m}`);
      },
    },
    this.masker,
    this.debug,
  );
  readonly paths = (() => {
    const agentTemp = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
    return { agentTemp, toolCache: tl.getVariable('Agent.ToolsDirectory') || path.join(agentTemp, '_tools') };
  })();

  input(name: string): string | undefined {
    const v = tl.getInput(name, false);
    return v === undefined || v === '' ? undefined : v;
  }

  secretInput(name: string): string | undefined {
    // task-lib keeps INPUT_ values in its vault; getInput() would debug-log the value before we could mask it
    const vault = (im as { _vault?: { retrieveSecret(key: string): string | undefined } })._vault;
    const v = vault ? vault.retrieveSecret(`INPUT_${im._getVariableKey(name)}`) : this.input(name);
    return v === undefined || v === '' ? undefined : v;
  }

  /**
   * A secure file input (type secureFile): the agent gives the file's id as the input's value and its download
   * ticket as SECUREFILE_TICKET_<id>; the job's access token is the SystemVssConnection endpoint's ACCESSTOKEN. Both
   * are read from task-lib's vault directly (its getters debug-log the values) and masked.
   */
  async secureFile(inputName: string, opts: SecureFileOptions): Promise<string | undefined> {
    const id = this.input(inputName);
    if (!id) return undefined;
    const name = tl.getSecureFileName(id) || undefined;
    const what = `secure file '${name ?? id}'`;
    const ticket = this.vaultSecret(`SECUREFILE_TICKET_${id}`);
    if (!ticket) {
      throw new InputError(inputName, `the agent holds no download ticket for the ${what}: is it a secure file of this project's Library, and is the pipeline authorised to use it (Library → Secure files → Pipeline permissions)?`);
    }
    this.mask(ticket);
    const accessToken = this.vaultSecret('ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN');
    if (!accessToken) throw new InputError(inputName, `cannot download the ${what}: the job has no access token (the SystemVssConnection endpoint's ACCESSTOKEN is not set)`);
    this.mask(accessToken);
    const collectionUri = tl.getVariable('System.TeamFoundationCollectionUri');
    const project = tl.getVariable('System.TeamProjectId') || tl.getVariable('System.TeamProject');
    if (!collectionUri || !project) throw new InputError(inputName, `cannot download the ${what}: System.TeamFoundationCollectionUri or System.TeamProject is not set`);
    const content = await downloadSecureFile({ input: inputName, collectionUri, project, id, name, ticket, accessToken, ...opts });
    this.mask(content);
    return content;
  }

  /** A value of task-lib's vault (INPUT_, ENDPOINT_AUTH_, SECUREFILE_TICKET_ ... moved there when it loads). */
  private vaultSecret(key: string): string | undefined {
    const vault = (im as { _vault?: { retrieveSecret(key: string): string | undefined } })._vault;
    return (vault ? vault.retrieveSecret(key) : process.env[key]) || undefined;
  }

  mask(secret: string): void {
    for (const piece of this.masker.add(secret)) {
      // the agent refuses multi-line secrets; each line is registered on its own by the masker
      if (!/[\r\n]/.test(piece)) tl.setSecret(piece);
    }
  }

  kubernetesConnection(inputName: string): KubernetesConnection | undefined {
    const id = this.input(inputName);
    if (!id) return undefined;
    const type = (tl.getEndpointAuthorizationParameter(id, 'authorizationType', true) ?? 'Kubeconfig').toLowerCase();
    if (type === 'kubeconfig') {
      const kubeconfig = tl.getEndpointAuthorizationParameter(id, 'kubeconfig', true);
      if (!kubeconfig) throw new InputError(inputName, 'the Kubernetes service connection holds no kubeconfig');
      for (const secret of kubeconfigSecrets(kubeconfig)) this.mask(secret);
      const context = tl.getEndpointAuthorizationParameter(id, 'clusterContext', true) || undefined;
      return { kubeconfig, context };
    }
    if (type === 'serviceaccount') {
      const server = tl.getEndpointUrl(id, true);
      const token = tl.getEndpointAuthorizationParameter(id, 'apiToken', true);
      const ca = tl.getEndpointAuthorizationParameter(id, 'serviceAccountCertificate', true);
      if (!server || !token) throw new InputError(inputName, 'the service-account connection needs a server URL and a token');
      const decodedToken = Buffer.from(token, 'base64').toString('utf8');
      this.mask(token);
      this.mask(decodedToken);
      return { kubeconfig: kubeconfigFromServiceAccount(server, decodedToken, ca) };
    }
    throw new InputError(
      inputName,
      `expected a Kubernetes connection of type Kubeconfig or Service Account, got '${type}' (Azure subscription connections are for AKS, not Azure Stack Hub)`,
    );
  }

  azureRmConnection(inputName: string): AzureRmConnection | undefined {
    const id = this.input(inputName);
    if (!id) return undefined;
    const scheme = tl.getEndpointAuthorizationScheme(id, true) ?? 'ServicePrincipal';
    const p = (k: string): string | undefined => tl.getEndpointAuthorizationParameter(id, k, true) || undefined;
    const d = (k: string): string | undefined => tl.getEndpointDataParameter(id, k, true) || undefined;
    const conn: AzureRmConnection = {
      environment: d('environment') ?? 'AzureCloud',
      environmentUrl: d('environmentUrl') ?? tl.getEndpointUrl(id, true),
      subscriptionId: d('subscriptionId'),
      tenantId: p('tenantid'),
      scheme,
      clientId: p('serviceprincipalid'),
      authenticationType: p('authenticationType'),
      clientSecret: p('serviceprincipalkey'),
      certificatePem: p('servicePrincipalCertificate'),
    };
    if (conn.clientSecret) this.mask(conn.clientSecret);
    if (conn.certificatePem) this.mask(conn.certificatePem);
    return conn;
  }

  /**
   * An "Azure Stack Hub" connection (our endpoint type): the server URL is the Hub ARM endpoint, the dialog's fields
   * are endpoint data, the service principal is the authorization (`UsernamePassword`: username = client id,
   * password = secret; `Certificate`: servicePrincipalId + certificate PEM with key). Secrets are masked here.
   */
  azureStackHubConnection(inputName: string): AzureStackHubConnection | undefined {
    const id = this.input(inputName);
    if (!id) return undefined;
    const p = (k: string): string | undefined => tl.getEndpointAuthorizationParameter(id, k, true) || undefined;
    const d = (k: string): string | undefined => tl.getEndpointDataParameter(id, k, true) || undefined;
    const scheme = tl.getEndpointAuthorizationScheme(id, true) ?? 'UsernamePassword';
    const cert = scheme.toLowerCase() === 'certificate';
    const conn: AzureStackHubConnection = {
      armEndpoint: tl.getEndpointUrl(id, true) || undefined,
      identitySystem: d('identitySystem'),
      tenantId: d('tenantId'),
      subscriptionId: d('subscriptionId'),
      subscriptionName: d('subscriptionName'),
      caCertificatePem: d('hubCaCertificate'),
      scheme,
      clientId: cert ? p('servicePrincipalId') : p('username'),
      clientSecret: cert ? undefined : p('password'),
      certificatePem: cert ? p('certificate') : undefined,
    };
    if (conn.clientSecret) this.mask(conn.clientSecret);
    if (conn.certificatePem) this.mask(conn.certificatePem);
    return conn;
  }

  setOutput(name: string, value: string): void {
    tl.setVariable(name, value, false, true);
  }

  setVariable(name: string, value: string): void {
    tl.setVariable(name, value);
    process.env[name] = value;
  }

  addPath(dir: string): void {
    tl.prependPath(dir);
  }

  attach(type: string, name: string, file: string): void {
    tl.addAttachment(type, name.replace(/[^A-Za-z0-9._-]+/g, '-'), file);
  }

  async writeSummary(title: string, markdown: string): Promise<void> {
    // the agent uploads the attachment after the step: the file must outlive the private temp dir
    const dir = path.join(this.paths.agentTemp, 'stackhub-ha-summaries');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${title.replace(/[^A-Za-z0-9-]+/g, '-')}-${crypto.randomUUID()}.md`);
    fs.writeFileSync(file, markdown, { mode: 0o644 });
    tl.addAttachment('Distributedtask.Core.Summary', title, file);
  }

  setFailed(message: string): void {
    tl.setResult(tl.TaskResult.Failed, this.masker.scrub(message));
  }

  setSucceeded(): void {
    tl.setResult(tl.TaskResult.Succeeded, '');
  }

  agentProxy(url: string): ProxySettings | undefined {
    const cfg = tl.getHttpProxyConfiguration(url);
    if (!cfg?.proxyUrl) return undefined;
    if (cfg.proxyPassword) this.mask(cfg.proxyPassword);
    return { url: cfg.proxyUrl, username: cfg.proxyUsername || undefined, password: cfg.proxyPassword || undefined };
  }

  agentTls(): AgentTls {
    const cfg = tl.getHttpCertConfiguration();
    return { caFile: cfg?.caFile || undefined };
  }
}

/** Entry point of every task: `runOnAzurePipelines(capability)`. */
export function runOnAzurePipelines(capability: AnyCapability): Promise<boolean> {
  const platform = new AzurePipelinesPlatform();
  return runCapability(platform, capability, platform.masker);
}
