/**
 * templates/steps/<capability>.yml from task.json: every input of the task is a template parameter of the same
 * name, type and default (pickList → `values`), grouped as in the task editor, plus `displayName` and `step` (other
 * properties of the step). The comment block at the top of each file (what it is, an example) is written by hand
 * and kept; everything from `parameters:` on is generated (`npm run manifests`) and checked for drift
 * (tests/contract/manifests.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CapabilityEntry } from '../src/capabilities';
import { ROOT, taskJson } from './manifests';

interface TaskInput {
  name: string;
  type: string;
  label: string;
  defaultValue?: string | boolean;
  required?: boolean;
  groupName?: string;
  options?: Record<string, string>;
}

/** The step template's file name for a capability. */
export function stepTemplateFile(e: CapabilityEntry): string {
  return path.join('templates', 'steps', `${e.action.dir === 'setup-tools' ? 'tool-setup' : e.action.dir}.yml`);
}

/** YAML scalar for a parameter's displayName or default, quoted only where YAML needs it. */
function scalar(v: string): string {
  if (v === '') return "''";
  if (/^[\w./-][\w ./(),+-]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~|[\d.]+)$/i.test(v) && !/ $/.test(v)) return v;
  return `'${v.replace(/'/g, "''")}'`;
}

/** The generated part of a step template (from `parameters:` to the end). */
export function renderStepTemplateBody(e: CapabilityEntry): string {
  const tj = taskJson(e) as { name: string; version: { Major: number }; friendlyName: string; groups?: { name: string; displayName: string }[]; inputs: TaskInput[] };
  const groups = new Map((tj.groups ?? []).map((g) => [g.name, g.displayName]));
  const L: string[] = ['parameters:'];
  let current: string | undefined = '\0';
  for (const i of tj.inputs) {
    const g = i.groupName ?? '';
    if (g !== current) {
      L.push(`  # ${g ? (groups.get(g) ?? g) : 'General'}`);
      current = g;
    }
    L.push(`  - name: ${i.name}`, `    displayName: ${scalar(i.label)}`);
    // a boolean without a default is three-valued: unset means "not said" (e.g. mongorestore --drop must be explicit)
    if (i.type === 'boolean' && i.defaultValue !== undefined) {
      L.push('    type: boolean', `    default: ${String(i.defaultValue) === 'true'}`);
      continue;
    }
    const options = i.type === 'boolean' ? ['true', 'false'] : i.options ? Object.keys(i.options) : undefined;
    const optional = !i.required && i.defaultValue === undefined;
    L.push('    type: string');
    if (options) L.push(`    values: [${[...(optional ? [''] : []), ...options].map(scalar).join(', ')}]`);
    if (i.defaultValue !== undefined) L.push(`    default: ${scalar(String(i.defaultValue))}`);
    else if (optional) L.push(`    default: ''`);
  }
  L.push(
    '  # The step itself',
    '  - name: displayName',
    '    type: string',
    `    default: ${scalar(tj.friendlyName)}`,
    '  - name: step',
    '    displayName: Other properties of the step (name, condition, env, continueOnError, timeoutInMinutes, ...)',
    '    type: object',
    '    default: {}',
    '',
    'steps:',
    `  - task: ${tj.name}@${tj.version.Major}`,
    '    displayName: ${{ parameters.displayName }}',
    '    ${{ insert }}: ${{ parameters.step }}',
    '    inputs:',
    ...tj.inputs.map((i) => `      ${i.name}: \${{ parameters.${i.name} }}`),
    '',
    '',
  );
  return L.join('\n');
}

/** The whole file: the hand-written head of the committed file (or a minimal one) and the generated body. */
export function renderStepTemplate(e: CapabilityEntry, root: string = ROOT): string {
  const file = path.join(root, stepTemplateFile(e));
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const at = old.search(/^parameters:/m);
  const head = at > 0 ? old.slice(0, at) : `# ${e.task.name}@${e.task.version.Major} — ${e.task.description}\n# Every input of the task is a parameter of the same name (docs/tasks/${e.task.name}.md).\n`;
  return head + renderStepTemplateBody(e);
}
