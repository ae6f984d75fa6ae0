/**
 * AKS Engine on Azure Stack Hub: validate, deploy, scale, upgrade and diagnose clusters with aks-engine-azurestack,
 * with HA rules, marketplace prerequisites checked through the Hub's ARM, and the cluster state (apimodel.json and
 * its keys) kept only encrypted in an off-Hub store.
 */
import type { Capability } from '../platform/capability';
import { aksEngineInputs, aksEngineOutputs, parseAksEngineInputs, aksEngineSecretSources, type AksEngineInputs, type AksEngineInputName } from './inputs';
import { runReboot } from './reboot';
import { Run, type AksEngineOutputs } from './run';
import { doCredentials, doDeploy, doGetLogs, doScale, doValidate, doVersions } from './commands';
import { doUpgrade } from './upgrade';

export { parseGetVersions, type AksEngineOutputs, type VersionTable } from './run';
export { PLACEHOLDER_CLIENT_ID } from './definition';

export const aksEngine: Capability<AksEngineInputs, AksEngineOutputs, AksEngineInputName> = {
  name: 'aks-engine',
  title: 'Stack Hub AKS Engine',
  inputs: aksEngineInputs,
  outputs: aksEngineOutputs,
  parse: (read, platform) => parseAksEngineInputs(read, platform),
  secretSources: (read, platform) => aksEngineSecretSources(read, platform),
  secretSourcesDoc: { keyvault: 'the Hub this task signs in to: the Azure Stack Hub / azurerm connection (`azureStackConnection`), else `armEndpoint` with the service principal inputs (ADFS or Azure AD); a secret needed to reach the Hub cannot itself be a keyvault:// reference' },
  async run(inputs, ctx) {
    const run = new Run(inputs, ctx);
    ctx.summary.text(`Operation: **${inputs.command}**${inputs.location ? ` · location \`${inputs.location}\`` : ''}`);
    switch (inputs.command) {
      case 'versions':
        return doVersions(run);
      case 'validate':
        return doValidate(run);
      case 'deploy':
        return doDeploy(run);
      case 'scale':
        return doScale(run);
      case 'upgrade':
        return doUpgrade(run);
      case 'credentials':
        return doCredentials(run);
      case 'get-logs':
        return doGetLogs(run);
      case 'reboot':
        return runReboot(inputs.reboot!, { drainTimeoutMinutes: inputs.cordonDrainTimeoutMinutes, force: inputs.force }, ctx);
    }
  },
};
