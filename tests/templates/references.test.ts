/**
 * Task and template references of the Azure Pipelines files, checked against the CURRENT manifests:
 * - every `StackHub…@N` step: known task, known inputs, required inputs present, pickList/boolean values valid
 *   (literal values directly, `${{ parameters.x }}` through the parameter's type and `values`);
 * - every steps template exposes its task's inputs as typed parameters of the same name (or fixes them);
 * - every `template:` reference resolves, passes only declared parameters and every required one.
 */
import assert from 'node:assert/strict';
import { checkTaskReferences, checkTemplateReferences, parameterRef, parseFile, visitMappings, type ParsedFile } from './helpers/ado';
import { REPOS } from './helpers/example';
import { adoFiles, listFiles, readTasks, type TaskInput, type TaskJson } from './helpers/manifests';


/** The parameters a steps template may add to its task's inputs (see templates/steps/*.yml). */
const STEP_PARAMETERS = new Set(['displayName', 'step']);

/** What a steps template's parameter must look like for a task input. */
export function expectedParameter(i: TaskInput): { type: string; values?: string[]; defaults: unknown[] } {
  if (i.type === 'boolean') {
    // a boolean without a default keeps "not given" (the task may insist on an explicit choice)
    if (i.defaultValue === undefined && !i.required) return { type: 'string', values: ['', 'true', 'false'], defaults: [''] };
    return { type: 'boolean', defaults: i.defaultValue === undefined ? [undefined] : [i.defaultValue === 'true'] };
  }
  const values = (i.type === 'pickList' || i.type === 'radio') && i.options ? Object.keys(i.options) : undefined;
  const optionalNoDefault = !i.required && i.defaultValue === undefined;
  return {
    type: 'string',
    values: values && optionalNoDefault ? ['', ...values] : values,
    defaults: i.defaultValue !== undefined ? [i.defaultValue, undefined] : i.required ? [undefined] : [''],
  };
}

/** Steps templates and the StackHub tasks they run. */
export function stepsTemplates(): { file: ParsedFile; tasks: { ref: string; inputs: Record<string, unknown> }[] }[] {
  return listFiles('templates/steps', (r) => /\.ya?ml$/.test(r)).map((rel) => {
    const file = parseFile(rel);
    const tasks: { ref: string; inputs: Record<string, unknown> }[] = [];
    visitMappings(file.doc, (m) => {
      if (typeof m.task === 'string' && m.task.startsWith('StackHub')) tasks.push({ ref: m.task, inputs: (m.inputs ?? {}) as Record<string, unknown> });
    });
    return { file, tasks };
  });
}

/** Problems of a steps template against its task.json (inputs exposed as typed parameters of the same name). */
export function checkStepsTemplate(file: ParsedFile, task: TaskJson, inputs: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const exposed = new Set<string>();
  for (const i of task.inputs) {
    if (!(i.name in inputs)) {
      problems.push(`${file.rel}: input '${i.name}' of ${task.name} is neither exposed as a parameter nor fixed`);
      continue;
    }
    const pref = parameterRef(inputs[i.name]);
    if (pref === undefined) continue; // fixed by the template (e.g. a command), checked by checkTaskReferences
    if (pref !== i.name) problems.push(`${file.rel}: input '${i.name}' comes from parameter '${pref}' (use the input's own name)`);
    exposed.add(pref);
    const p = file.parameters.get(pref);
    if (!p) continue;
    const want = expectedParameter(i);
    if ((p.type ?? 'string') !== want.type) problems.push(`${file.rel}: parameter '${pref}' is ${p.type ?? 'untyped'}, input '${i.name}' wants ${want.type}`);
    if (JSON.stringify(p.values?.map(String)) !== JSON.stringify(want.values)) problems.push(`${file.rel}: parameter '${pref}' values ${JSON.stringify(p.values)} ≠ the task's options ${JSON.stringify(want.values)}`);
    const def = 'default' in p ? p.default : undefined;
    if (!want.defaults.some((d) => (d === undefined ? !('default' in p) : String(d) === String(def)))) problems.push(`${file.rel}: parameter '${pref}' default ${JSON.stringify(def)}; the task's is ${JSON.stringify(i.defaultValue)}${i.required ? ' (required)' : ''}`);
  }
  for (const name of file.parameters.keys()) {
    if (!exposed.has(name) && !STEP_PARAMETERS.has(name) && !task.inputs.some((i) => i.name === name)) problems.push(`${file.rel}: parameter '${name}' is not an input of ${task.name}`);
  }
  return problems;
}

describe('templates: task and template references', () => {
  it('every StackHub task step matches the current task.json', () => {
    const tasks = readTasks();
    const problems = adoFiles().flatMap((f) => checkTaskReferences(parseFile(f), tasks));
    assert.deepEqual(problems, []);
  });

  it('every template reference resolves and passes declared parameters only, required ones included', () => {
    const problems = adoFiles().flatMap((f) => checkTemplateReferences(parseFile(f), REPOS));
    assert.deepEqual(problems, []);
  });

  it('every steps template runs a StackHub task and exposes its inputs as typed parameters of the same name', () => {
    const tasks = readTasks();
    const problems: string[] = [];
    const all = stepsTemplates();
    assert.ok(all.length > 0);
    for (const { file, tasks: refs } of all) {
      if (!refs.length) problems.push(`${file.rel}: runs no StackHub task`);
      for (const r of refs) {
        const t = tasks.get(r.ref);
        if (!t) problems.push(`${file.rel}: ${r.ref} has no task.json`);
        else problems.push(...checkStepsTemplate(file, t, r.inputs));
      }
    }
    assert.deepEqual(problems, []);
  });

  it('every landed task has a steps template', () => {
    const covered = new Set(stepsTemplates().flatMap((s) => s.tasks.map((t) => t.ref)));
    const missing = [...readTasks().keys()].filter((t) => !covered.has(t));
    assert.deepEqual(missing, [], 'a capability landed without a steps template in templates/steps/');
  });

  describe('the checks bite', () => {
    const tasks = readTasks();
    const tool = tasks.get('StackHubToolSetup@1')!;
    const parsed = (doc: Record<string, unknown>): ParsedFile => {
      const f: ParsedFile = { rel: 'test.yml', doc, parameters: new Map() };
      for (const p of (doc.parameters ?? []) as { name: string }[]) f.parameters.set(p.name, p);
      return f;
    };

    it('unknown input, missing required input, bad boolean', () => {
      const f = parsed({ steps: [{ task: 'StackHubToolSetup@1', inputs: { toolz: 'helm', searchPath: 'maybe' } }] });
      const ps = checkTaskReferences(f, tasks).join('\n');
      assert.match(ps, /unknown input 'toolz'/);
      assert.match(ps, /required input 'tools' is missing/);
      assert.match(ps, /'maybe' is not a boolean/);
    });

    it('unknown task', () => {
      assert.match(checkTaskReferences(parsed({ steps: [{ task: 'StackHubNope@1' }] }), tasks).join(), /unknown task/);
    });

    it('a pickList input from a parameter whose values are not options', () => {
      const pick: TaskJson = { ...tool, name: 'StackHubPick', inputs: [{ name: 'mode', type: 'pickList', required: true, options: { a: 'a', b: 'b' } }] };
      const m = new Map([['StackHubPick@1', pick]]);
      const ok = parsed({ parameters: [{ name: 'mode', type: 'string', values: ['a', 'b'] }], steps: [{ task: 'StackHubPick@1', inputs: { mode: '${{ parameters.mode }}' } }] });
      assert.deepEqual(checkTaskReferences(ok, m), []);
      const bad = parsed({ parameters: [{ name: 'mode', type: 'string', values: ['a', 'c'] }], steps: [{ task: 'StackHubPick@1', inputs: { mode: '${{ parameters.mode }}' } }] });
      assert.match(checkTaskReferences(bad, m).join(), /allows "c"/);
      const literal = parsed({ steps: [{ task: 'StackHubPick@1', inputs: { mode: 'z' } }] });
      assert.match(checkTaskReferences(literal, m).join(), /'z' is not one of a, b/);
      assert.deepEqual(checkStepsTemplate(ok, pick, { mode: '${{ parameters.mode }}' }), []);
    });

    it('a steps template that renames, retypes or forgets an input', () => {
      const f = parsed({
        parameters: [{ name: 'tools', type: 'string' }, { name: 'path', type: 'boolean', default: true }, { name: 'searchPath', type: 'string', default: 'true' }, { name: 'extra', type: 'string', default: '' }],
        steps: [{ task: 'StackHubToolSetup@1', inputs: { tools: '${{ parameters.tools }}', searchPath: '${{ parameters.searchPath }}', addToPath: '${{ parameters.path }}' } }],
      });
      const step = (f.doc.steps as { inputs: Record<string, unknown> }[])[0];
      const ps = checkStepsTemplate(f, tool, step.inputs).join('\n');
      assert.match(ps, /input 'toolPaths' of StackHubToolSetup is neither exposed/);
      assert.match(ps, /parameter 'searchPath' is string, input 'searchPath' wants boolean/);
      assert.match(ps, /input 'addToPath' comes from parameter 'path'/);
      assert.match(ps, /parameter 'extra' is not an input/);
    });

    it('a template reference to a missing file, an undeclared parameter, a missing required parameter, a bad value', () => {
      const f = parsed({
        steps: [
          { template: 'templates/steps/nope.yml' },
          { template: '/templates/steps/tool-setup.yml', parameters: { tools: 'helm', toolz: 1 } },
          { template: '/templates/steps/tool-setup.yml', parameters: { searchPath: 'perhaps' } },
          { template: 'templates/steps/tool-setup.yml@elsewhere' },
        ],
      });
      const ps = checkTemplateReferences(f, REPOS).join('\n');
      assert.match(ps, /nope\.yml does not exist/);
      assert.match(ps, /passes 'toolz'/);
      assert.match(ps, /required parameter 'tools' is not passed/);
      assert.match(ps, /"perhaps" is not a boolean/);
      assert.match(ps, /alias 'elsewhere' is not mapped/);
    });
  });
});
