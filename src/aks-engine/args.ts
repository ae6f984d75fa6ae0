/**
 * The argv of every aks-engine-azurestack call, as pure functions of typed arguments (tested with tables of exact
 * argv). Always `--azure-env AzureStackCloud` and an explicit `--identity-system` and `--auth-method`: deploy
 * overwrites `customCloudProfile.identitySystem` with the flag, so omitting it would silently turn adfs into azure_ad.
 *
 * Secrets: with `client_certificate` auth no secret is ever on argv (certificate and key are 0600 files; the
 * cluster's own service-principal secret lives in the 0600 apimodel copy). With `client_secret` auth the tool accepts
 * the secret ONLY as `--client-secret`: it is then visible to other processes on the agent while aks-engine runs.
 */

/** How aks-engine authenticates to the Hub's ARM. */
export type AksAuth =
  | { method: 'client_secret'; clientId: string; clientSecret: string }
  | { method: 'client_certificate'; clientId: string; certificatePath: string; privateKeyPath: string };

/** Flags every ARM-talking command (deploy, scale, upgrade) shares. */
export interface HubArgs {
  apiModel: string;
  location: string;
  resourceGroup: string;
  subscriptionId: string;
  identitySystem: 'azure_ad' | 'adfs';
  auth: AksAuth;
}

/** `--auth-method ... --client-id ... (--client-secret | --certificate-path --private-key-path)`. */
export function authArgs(auth: AksAuth): string[] {
  const out = ['--auth-method', auth.method, '--client-id', auth.clientId];
  if (auth.method === 'client_secret') out.push('--client-secret', auth.clientSecret);
  else out.push('--certificate-path', auth.certificatePath, '--private-key-path', auth.privateKeyPath);
  return out;
}

function hubArgs(a: HubArgs): string[] {
  return [
    '--azure-env', 'AzureStackCloud',
    '--api-model', a.apiModel,
    '--location', a.location,
    '--resource-group', a.resourceGroup,
    '--subscription-id', a.subscriptionId,
    '--identity-system', a.identitySystem,
    ...authArgs(a.auth),
  ];
}

/** `get-versions` as JSON for Azure Stack Hub (optionally for one current version: its upgrades). */
export function getVersionsArgs(version?: string): string[] {
  return ['get-versions', '--azure-env', 'AzureStackCloud', '-o', 'json', ...(version ? ['--version', version] : [])];
}

/** `version` (reports `Version: vX.Y.Z`). */
export function versionArgs(): string[] {
  return ['version'];
}

/** `generate` (offline with a full customCloudProfile.environment); `parametersOnly` writes only the parameters. */
export function generateArgs(a: { apiModel: string; outputDirectory: string; parametersOnly?: boolean }): string[] {
  return ['generate', '--api-model', a.apiModel, '--output-directory', a.outputDirectory, ...(a.parametersOnly ? ['--parameters-only'] : [])];
}

/** `deploy`: writes the output directory, then runs the ARM deployment. */
export function deployArgs(a: HubArgs & { outputDirectory: string; forceOverwrite?: boolean }): string[] {
  return ['deploy', ...hubArgs(a), '--output-directory', a.outputDirectory, ...(a.forceOverwrite ? ['--force-overwrite'] : [])];
}

/** `scale` one pool; `--apiserver` lets scale-in cordon and drain the removed nodes. */
export function scaleArgs(a: HubArgs & { nodePool: string; newNodeCount: number; apiServer: string }): string[] {
  return ['scale', ...hubArgs(a), '--node-pool', a.nodePool, '--new-node-count', String(a.newNodeCount), '--apiserver', a.apiServer];
}

/** `upgrade` to a version; idempotent, so a failed upgrade can be rerun. */
export function upgradeArgs(
  a: HubArgs & { upgradeVersion: string; vmTimeoutMinutes: number; cordonDrainTimeoutMinutes: number; force?: boolean; controlPlaneOnly?: boolean },
): string[] {
  return [
    'upgrade', ...hubArgs(a),
    '--upgrade-version', a.upgradeVersion,
    '--vm-timeout', String(a.vmTimeoutMinutes),
    '--cordon-drain-timeout', String(a.cordonDrainTimeoutMinutes),
    ...(a.controlPlaneOnly ? ['--control-plane-only'] : []),
    ...(a.force ? ['--force'] : []),
  ];
}

/** `get-logs` over SSH through a jump host (never `--upload-sas-url`: the archive goes to the state store, encrypted). */
export function getLogsArgs(a: { apiModel: string; location: string; sshHost: string; sshPrivateKeyPath: string; outputDirectory: string; controlPlaneOnly?: boolean }): string[] {
  return [
    'get-logs',
    '--location', a.location,
    '--api-model', a.apiModel,
    '--ssh-host', a.sshHost,
    '--linux-ssh-private-key', a.sshPrivateKeyPath,
    '--output-directory', a.outputDirectory,
    ...(a.controlPlaneOnly ? ['--control-plane-only'] : []),
  ];
}
