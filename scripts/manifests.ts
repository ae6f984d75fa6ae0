/**
 * Derives task.json, action.yml and vss-extension.json from src/capabilities.ts. Used by `npm run manifests`
 * (writes them) and by the contract test (compares the committed files with what the definitions say).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { CAPABILITIES, type CapabilityEntry } from '../src/capabilities';
import { onChannel, type InputDef } from '../src/platform/inputs';
import { groupVisibleRule, visibleRuleOf } from '../src/platform/visibility';
import { AZURE_STACK_HUB_ENDPOINT_TYPE } from '../src/platform/types';
import { HUB_CONNECTION_FIELDS as F } from '../src/shared/azure-stack/hub-connection';
import { TAB_URI, WEB_DIR } from './bundle-web';

export const ROOT = path.resolve(__dirname, '..');
export const MINIMUM_AGENT_VERSION = '3.232.1';
export const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string; repository: { url: string } };

/** The published docs: the repository's web address (package.json `repository`) at its main branch. */
export const DOCS_URL = `${pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')}/blob/main`;

/** Absolute address of a task's page (the .vsix holds no docs, so task.json links point to the published ones). */
export function taskDocUrl(taskName: string): string {
  return `${DOCS_URL}/docs/tasks/${taskName}.md`;
}

const TASK_TYPES: Record<InputDef['type'], string> = {
  string: 'string',
  boolean: 'boolean',
  number: 'int',
  list: 'string',
  multiline: 'multiLine',
  object: 'multiLine',
  filePath: 'filePath',
  secret: 'string',
  pickList: 'pickList',
  azureRmConnection: 'connectedService:AzureRM',
  kubernetesConnection: 'connectedService:Kubernetes',
  azureStackHubConnection: `connectedService:${AZURE_STACK_HUB_ENDPOINT_TYPE}`,
  secureFile: 'secureFile',
};

/**
 * The task.json type of an input, from the typed ones the task-lib schema knows: a whole number is `int` (a
 * `decimal` one stays `string`: task.json has no type for fractions); a choice of two that always holds a value
 * (a default, or required) is `radio`, any other choice a `pickList` (an optional choice without a default keeps
 * its empty value, which a radio group cannot go back to).
 */
export function taskInputType(d: InputDef): string {
  if (d.type === 'number' && d.decimal) return 'string';
  if (d.type === 'pickList' && d.options?.length === 2 && (d.default !== undefined || d.required)) return 'radio';
  return TASK_TYPES[d.type];
}

/** Service endpoint types built into Azure DevOps that task inputs may reference. */
export const BUILT_IN_ENDPOINT_TYPES = ['AzureRM', 'Kubernetes'] as const;

/** Repository files named in help texts (`docs/….md`, `src/….json`) become links to the published docs. */
export function linkRepoFiles(help: string): string {
  return help.replace(/(?<![\w/[])(?<!\]\()((?:docs|src)\/[\w./-]+\.(?:md|json))/g, (f) => `[${f}](${DOCS_URL}/${f})`);
}

function taskHelp(d: InputDef): string {
  const help = linkRepoFiles(d.help);
  return d.type === 'secret' ? `${help} Pass a secret variable, e.g. \`$(mySecret)\`; it is masked.` : help;
}

/** task.json of one capability. */
export function taskJson(e: CapabilityEntry): Record<string, unknown> {
  const c = e.capability;
  const adoInputs = c.inputs.filter((d) => onChannel(d, 'azure-pipelines'));
  return {
    $schema: 'https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json',
    id: e.task.id,
    name: e.task.name,
    friendlyName: e.task.friendlyName,
    description: e.task.description,
    helpUrl: taskDocUrl(e.task.name),
    helpMarkDown: `[Inputs and examples](${taskDocUrl(e.task.name)})`,
    category: e.task.category,
    author: 'stackhub-ha',
    version: e.task.version,
    minimumAgentVersion: MINIMUM_AGENT_VERSION,
    instanceNameFormat: e.task.instanceNameFormat,
    ...(e.task.groups
      ? {
          groups: e.task.groups.map((g) => {
            const rule = groupVisibleRule(g.name, adoInputs);
            return rule ? { ...g, visibleRule: rule } : g;
          }),
        }
      : {}),
    inputs: adoInputs.map((d) => {
      const visibleRule = visibleRuleOf(d, adoInputs);
      return {
        name: d.name,
        type: taskInputType(d),
        label: d.label,
        ...(d.default !== undefined ? { defaultValue: d.default } : {}),
        required: d.required ?? false,
        helpMarkDown: taskHelp(d),
        ...(d.group ? { groupName: d.group } : {}),
        ...(visibleRule ? { visibleRule } : {}),
        ...(d.options ? { options: Object.fromEntries(d.options.map((o) => [o, o])) } : {}),
      };
    }),
    outputVariables: c.outputs.map((o) => ({ name: o.name, description: o.description })),
    execution: {
      Node20_1: { target: 'dist/index.js', argumentFormat: '' },
      Node24: { target: 'dist/index.js', argumentFormat: '' },
    },
  };
}

/** action.yml of one capability, as an object. */
export function actionYml(e: CapabilityEntry): Record<string, unknown> {
  const c = e.capability;
  const inputs: Record<string, unknown> = {};
  for (const d of c.inputs.filter((x) => onChannel(x, 'github-actions'))) {
    inputs[d.name] = {
      description: d.type === 'secret' ? `${d.help} Pass a secret, e.g. \${{ secrets.NAME }}; it is masked.` : d.help,
      required: d.required ?? false,
      ...(d.default !== undefined ? { default: d.default } : {}),
    };
  }
  const outputs: Record<string, unknown> = {};
  for (const o of c.outputs) outputs[o.name] = { description: o.description };
  return {
    name: e.action.name,
    description: e.action.description,
    author: 'stackhub-ha',
    branding: { icon: 'server', color: 'blue' },
    inputs,
    outputs,
    runs: { using: 'node24', main: 'dist/index.js' },
  };
}

const text = (id: string, name: string, description: string, required: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  name,
  description,
  inputMode: 'textbox',
  isConfidential: false,
  validation: { isRequired: required, dataType: 'string', maxLength: 300 },
  ...extra,
});

/**
 * The "Azure Stack Hub" service endpoint type: one connection per Hub (ARM endpoint, identity system, tenant,
 * subscription, optional root CA) with a service principal and a secret or a PEM certificate with its key. Read by
 * AzurePipelinesPlatform.azureStackHubConnection; checked by hubConnectionFromEndpoint (same field labels).
 */
export function hubEndpointContribution(): Record<string, unknown> {
  const pem = { inputMode: 'textArea', validation: { isRequired: false, dataType: 'string' } };
  return {
    id: 'azure-stack-hub-endpoint',
    description: 'Service connection to one Azure Stack Hub (ARM endpoint, ADFS or Azure AD, service principal)',
    type: 'ms.vss-endpoint.service-endpoint-type',
    targets: ['ms.vss-endpoint.endpoint-types'],
    properties: {
      name: AZURE_STACK_HUB_ENDPOINT_TYPE,
      displayName: 'Azure Stack Hub',
      url: {
        displayName: F.url,
        helpText: 'The Hub\'s Azure Resource Manager endpoint, https://management.<region>.<fqdn> (the tasks read <url>/metadata/endpoints to find the login endpoint).',
      },
      inputDescriptors: [
        {
          id: 'identitySystem',
          name: F.identitySystem,
          description: 'How the Hub signs in service principals: Azure AD (connected Hubs) or ADFS (disconnected Hubs).',
          inputMode: 'combo',
          isConfidential: false,
          values: {
            inputId: 'identitySystemValues',
            defaultValue: 'adfs',
            isDisabled: false,
            isLimitedToPossibleValues: true,
            possibleValues: [
              { value: 'azure_ad', displayValue: 'Azure AD' },
              { value: 'adfs', displayValue: 'ADFS' },
            ],
          },
          validation: { isRequired: true, dataType: 'string' },
        },
        text('tenantId', F.tenantId, 'Azure AD only: the directory (tenant) id of the service principal. Leave empty for ADFS.', false),
        text('subscriptionId', F.subscriptionId, 'The Hub user subscription id (a GUID).', true, { validation: { isRequired: true, dataType: 'guid' } }),
        text('subscriptionName', F.subscriptionName, 'The Hub user subscription name (shown in logs and summaries).', true),
        {
          id: 'hubCaCertificate',
          name: F.caCertificate,
          description: 'Optional: PEM of the Hub root CA, when the agent does not trust it already. Trusted only for calls to this Hub.',
          isConfidential: false,
          ...pem,
        },
      ],
      authenticationSchemes: [
        {
          type: 'ms.vss-endpoint.endpoint-auth-scheme-basic',
          displayName: 'Service principal (secret)',
          inputDescriptors: [
            text('username', F.clientId, 'Application (client) id of the service principal.', true),
            {
              id: 'password',
              name: F.clientSecret,
              description: 'The service principal\'s secret. Masked in logs; never passed on a command line by the tasks (except aks-engine-azurestack --client-secret, which has no other way).',
              inputMode: 'passwordbox',
              isConfidential: true,
              validation: { isRequired: true, dataType: 'string' },
            },
          ],
        },
        {
          type: 'ms.vss-endpoint.endpoint-auth-scheme-cert',
          displayName: 'Service principal (certificate)',
          inputDescriptors: [
            text('servicePrincipalId', F.clientId, 'Application (client) id of the service principal.', true),
            {
              id: 'certificate',
              name: F.certificate,
              description: 'The certificate and its unencrypted private key, PEM, one after the other. Masked; kept in a 0600 file, never on a command line.',
              inputMode: 'textArea',
              isConfidential: true,
              validation: { isRequired: true, dataType: 'string' },
            },
          ],
        },
      ],
      helpMarkDown:
        'One connection per Azure Stack Hub. Prefer it over an Azure Resource Manager connection with environment AzureStack when the Hub uses ADFS, when its root CA is not in the agent\'s store, or when you want a certificate service principal without the Azure-only options.',
    },
  };
}

/**
 * The "Multi-site release" tab of a run's results (src/web/results-tab.ts): shown for runs that used the helm
 * release task.
 */
export function resultsTabContribution(): Record<string, unknown> {
  const release = CAPABILITIES.find((e) => e.capability.name === 'helm-release')!;
  return {
    id: 'release-results-tab',
    type: 'ms.vss-build-web.build-results-tab',
    description: 'Multi-site release: every site\'s steps, helm revisions, GSLB state and backups, from the run\'s release records',
    targets: ['ms.vss-build-web.build-results-view'],
    properties: { name: 'Multi-site release', uri: TAB_URI, supportsTasks: [release.task.id] },
  };
}

/** vss-extension.json. */
export function vssExtension(): Record<string, unknown> {
  return {
    manifestVersion: 1,
    id: 'stackhub-ha',
    name: 'Stack Hub HA',
    version: pkg.version,
    publisher: 'stackhub-ha',
    description: pkg.description,
    public: false,
    categories: ['Azure Pipelines'],
    targets: [{ id: 'Microsoft.VisualStudio.Services.Cloud' }, { id: 'Microsoft.TeamFoundation.Server', version: '[19.0,)' }],
    icons: { default: 'images/extension-icon.png' },
    content: { details: { path: 'docs/overview.md' } },
    // the results tab's page reads the run through the Build REST API with the user's token: read-only build scope
    scopes: ['vso.build'],
    files: [...CAPABILITIES.map((e) => ({ path: `tasks/${e.task.folder}` })), { path: WEB_DIR, addressable: true }],
    contributions: [
      ...CAPABILITIES.map((e) => ({
        id: `${e.capability.name}-task`,
        type: 'ms.vss-distributed-task.task',
        targets: ['ms.vss-distributed-task.tasks'],
        properties: { name: `tasks/${e.task.folder}` },
      })),
      hubEndpointContribution(),
      resultsTabContribution(),
    ],
  };
}

export const ACTION_HEADER = '# Generated from src/capabilities.ts by `npm run manifests`: edit the definitions, not this file.\n';

/** Writes every manifest. */
export function writeManifests(): string[] {
  const written: string[] = [];
  const write = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(ROOT, rel)), { recursive: true });
    fs.writeFileSync(path.join(ROOT, rel), text);
    written.push(rel);
  };
  for (const e of CAPABILITIES) {
    write(`tasks/${e.task.folder}/task.json`, JSON.stringify(taskJson(e), null, 2) + '\n');
    write(`actions/${e.action.dir}/action.yml`, ACTION_HEADER + YAML.stringify(actionYml(e), { lineWidth: 0 }));
  }
  write('vss-extension.json', JSON.stringify(vssExtension(), null, 2) + '\n');
  return written;
}
