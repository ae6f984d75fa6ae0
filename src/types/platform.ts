/**
 * The one interface that every capability core talks to. Three implementations: Azure Pipelines
 * (azure-pipelines-task-lib), GitHub Actions (@actions/core) and the operator CLI. Only `src/platform/` imports the
 * CI libraries; a core never reads `process.env` for inputs.
 *
 * Bottom layer (src/types): interfaces only, imported by src/shared and src/platform alike (CONTRIBUTING.md, Layers).
 */

/** Log sink. Every line passes the secret masker before it is written. */
export interface Logger {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** A line of a child tool's output: masked and neutralised so it cannot issue CI commands. */
  toolOutput(line: string): void;
  /** Runs `fn` inside a collapsible group. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Progress of long work; `percent` undefined for a heartbeat without a known total. */
  progress(percent: number | undefined, message: string): void;
}

/** Proxy settings for one URL. */
export interface ProxySettings {
  /** http://host:port (credentials, if any, in username/password). */
  url: string;
  username?: string;
  password?: string;
}

/** An Azure Resource Manager service connection (ADO `azurerm`, or the same data from inputs elsewhere). */
export interface AzureRmConnection {
  /** `AzureCloud`, `AzureStack`, `AzureUSGovernment`, ... */
  environment: string;
  /** ARM endpoint, e.g. https://management.local.azurestack.external (AzureStack) */
  environmentUrl?: string;
  subscriptionId?: string;
  tenantId?: string;
  /** `ServicePrincipal`, `WorkloadIdentityFederation`, `ManagedServiceIdentity` */
  scheme: string;
  clientId?: string;
  /** `spnKey` or `spnCertificate` */
  authenticationType?: string;
  clientSecret?: string;
  /** PEM with certificate and private key. */
  certificatePem?: string;
}

/**
 * An "Azure Stack Hub" service connection (the endpoint type this extension contributes), as the agent hands it to a
 * task: raw fields, unchecked. `hubConnectionFromEndpoint` (src/shared/azure-stack) checks it and names the field.
 */
export interface AzureStackHubConnection {
  /** The connection's server URL: the Hub ARM endpoint. */
  armEndpoint?: string;
  /** `azure_ad` or `adfs`. */
  identitySystem?: string;
  tenantId?: string;
  subscriptionId?: string;
  subscriptionName?: string;
  /** The Hub root CA, PEM. */
  caCertificatePem?: string;
  /** `UsernamePassword` (service principal + secret) or `Certificate` (service principal + PEM certificate and key). */
  scheme: string;
  clientId?: string;
  clientSecret?: string;
  /** PEM with certificate and private key. */
  certificatePem?: string;
}

/** A Kubernetes service connection resolved to a kubeconfig document. */
export interface KubernetesConnection {
  kubeconfig: string;
  context?: string;
}

/** Where a platform keeps things. */
export interface PlatformPaths {
  /** The agent's temp dir; the private temp dir of a run is created below it. Cleaned by the agent per job. */
  agentTemp: string;
  /** The tool cache: ADO Agent.ToolsDirectory, GitHub RUNNER_TOOL_CACHE, CLI ~/.cache/stackhub-ha/tools. */
  toolCache: string;
}

/** TLS material the agent itself is configured with (ADO agent certificate settings). */
export interface AgentTls {
  caFile?: string;
}

/** Where {@link Platform.secureFile} puts the file, and the run's network for the download. */
export interface SecureFileOptions {
  /** The run's private temp dir (0700). */
  dir: string;
  /** Extra trusted CAs (the run's network). */
  ca?: string[];
  /** Proxy for a URL (the run's network). */
  proxyFor?: (url: URL) => ProxySettings | undefined;
}

export type PlatformName = 'azure-pipelines' | 'github-actions' | 'cli';

export interface Platform {
  readonly name: PlatformName;
  readonly log: Logger;
  readonly paths: PlatformPaths;
  /** True when the pipeline runs in debug mode (System.Debug, RUNNER_DEBUG, --debug). */
  readonly debug: boolean;

  /** Raw value of an input, or undefined when it is not set or empty. */
  input(name: string): string | undefined;
  /**
   * Reads a secret input WITHOUT the CI library logging it (task-lib's getInput writes `name=value` to the debug
   * log), so the frame can mask it first. Platforms whose input() logs nothing need not implement it.
   */
  secretInput?(name: string): string | undefined;
  /** The kubeconfig of a Kubernetes connection input (ADO only; elsewhere undefined). */
  kubernetesConnection(inputName: string): KubernetesConnection | undefined;
  /** An Azure Resource Manager connection input (ADO only; elsewhere undefined). */
  azureRmConnection(inputName: string): AzureRmConnection | undefined;
  /** An "Azure Stack Hub" connection input (ADO only; other platforms do not implement it). */
  azureStackHubConnection?(inputName: string): AzureStackHubConnection | undefined;
  /**
   * The content of the secure file a `secureFile` input names (ADO only, see secureFileInput in src/platform/inputs.ts):
   * downloaded with the job's access token into `opts.dir` (0600), read, deleted and masked; undefined when the input
   * is empty. Errors name the input.
   */
  secureFile?(inputName: string, opts: SecureFileOptions): Promise<string | undefined>;

  /** Registers a secret: the CI system masks it in all later output, and so does our own logger. */
  mask(secret: string): void;
  /** Sets a step output (never a secret: hand later steps a 0600 file path instead). */
  setOutput(name: string, value: string): void;
  /** Sets a variable (environment) for later steps of the same job. */
  setVariable(name: string, value: string): void;
  /** Prepends a directory to PATH for later steps (and for this process). */
  addPath(dir: string): void;
  /**
   * Attaches a file to the run under a type of ours (ADO `##vso[task.addattachment type=…;name=…]`, read by the
   * extension's release tab). The file must outlive the run's private temp dir. Platforms without run attachments
   * (GitHub: the workflows upload artifacts; the CLI: the path is printed) do not implement it.
   */
  attach?(type: string, name: string, file: string): void;
  /** Publishes the run summary (Markdown). */
  writeSummary(title: string, markdown: string): Promise<void>;
  /** Marks the run failed with one line. */
  setFailed(message: string): void;
  /** Marks the run succeeded. */
  setSucceeded(): void;

  /** Proxy for a URL from the platform's own settings (ADO agent proxy), or undefined to fall back to the environment. */
  agentProxy(url: string): ProxySettings | undefined;
  /** The agent's own TLS settings (ADO Agent.CAInfo ...). */
  agentTls(): AgentTls;
}
