/**
 * The one interface that every capability core talks to now lives in the bottom layer, src/types/platform.ts (so
 * src/shared can use it without importing src/platform). Re-exported here for the files that import it from here.
 */
export type {
  Logger,
  ProxySettings,
  AzureRmConnection,
  AzureStackHubConnection,
  KubernetesConnection,
  PlatformPaths,
  AgentTls,
  SecureFileOptions,
  PlatformName,
  Platform,
} from '../types/platform';

/**
 * The name of the "Azure Stack Hub" service endpoint type this extension contributes (vss-extension.json); tasks
 * reference it as `connectedService:<name>`.
 */
export const AZURE_STACK_HUB_ENDPOINT_TYPE = 'stackhubha-azurestackhub';
