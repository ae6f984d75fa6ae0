/**
 * Derives task.json, action.yml and vss-extension.json from src/capabilities.ts. Used by `npm run manifests`
 * (writes them) and by the contract test (compares the committed files with what the definitions say).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { CAPABILITIES, type CapabilityEntry } from '../src/capabilities';
import { onChannel, type InputDef } from '../src/platform/inputs';

export const ROOT = path.resolve(__dirname, '..');
export const MINIMUM_AGENT_VERSION = '3.232.1';
export const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string };

const TASK_TYPES: Record<InputDef['type'], string> = {
  string: 'string',
  boolean: 'boolean',
  number: 'string',
  list: 'string',
  multiline: 'multiLine',
  object: 'multiLine',
  filePath: 'filePath',
  secret: 'string',
  pickList: 'pickList',
  azureRmConnection: 'connectedService:AzureRM',
  kubernetesConnection: 'connectedService:Kubernetes',
};

function taskHelp(d: InputDef): string {
  return d.type === 'secret' ? `${d.help} Pass a secret variable, e.g. \`$(mySecret)\`; it is masked.` : d.help;
}

/** task.json of one capability. */
export function taskJson(e: CapabilityEntry): Record<string, unknown> {
  const c = e.capability;
  return {
    $schema: 'https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json',
    id: e.task.id,
    name: e.task.name,
    friendlyName: e.task.friendlyName,
    description: e.task.description,
    helpMarkDown: `[Inputs and examples](docs/tasks/${e.task.name}.md)`,
    category: e.task.category,
    author: 'stackhub-ha',
    version: e.task.version,
    minimumAgentVersion: MINIMUM_AGENT_VERSION,
    instanceNameFormat: e.task.instanceNameFormat,
    ...(e.task.groups ? { groups: e.task.groups } : {}),
    inputs: c.inputs
      .filter((d) => onChannel(d, 'azure-pipelines'))
      .map((d) => ({
        name: d.name,
        type: TASK_TYPES[d.type],
        label: d.label,
        ...(d.default !== undefined ? { defaultValue: d.default } : {}),
        required: d.required ?? false,
        helpMarkDown: taskHelp(d),
        ...(d.group ? { groupName: d.group } : {}),
        ...(d.visibleRule ? { visibleRule: d.visibleRule } : {}),
        ...(d.options ? { options: Object.fromEntries(d.options.map((o) => [o, o])) } : {}),
      })),
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
    files: CAPABILITIES.map((e) => ({ path: `tasks/${e.task.folder}` })),
    contributions: CAPABILITIES.map((e) => ({
      id: `${e.capability.name}-task`,
      type: 'ms.vss-distributed-task.task',
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: `tasks/${e.task.folder}` },
    })),
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
