/**
 * Azure Pipelines validation: the official schema (../shared/reference/azure-pipelines/service-schema.json) EXTENDED
 * with one task entry per tasks/<folder>/task.json (same shape as the built-in entries: our inputs, required inputs,
 * pickList enums), run through the npm package azure-pipelines-language-service (getLanguageService +
 * doValidation, which understands `${{ }}` template expressions). Templates validate against
 * #/definitions/stepsTemplate | jobsTemplate | stagesTemplate, pipelines against the schema's root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getLanguageService, parse, type LanguageService } from 'azure-pipelines-language-service';
import { TextDocument } from 'vscode-languageserver-textdocument';
import YAML from 'yaml';
import { ROOT, readTasks, type TaskInput, type TaskJson } from './manifests';

export const SCHEMA_FILE = path.resolve(ROOT, '..', 'shared', 'reference', 'azure-pipelines', 'service-schema.json');

/** Why the schema tests are skipped, or undefined when the schema is there. */
export function schemaMissing(): string | undefined {
  return fs.existsSync(SCHEMA_FILE)
    ? undefined
    : `SKIPPED: the official Azure Pipelines schema is not at ${SCHEMA_FILE} (../shared is absent): the Azure Pipelines files were NOT validated against it`;
}

export type RootKind = 'pipeline' | 'stepsTemplate' | 'jobsTemplate' | 'stagesTemplate' | 'variablesTemplate';

/** A value that the pipeline fills in later: `${{ }}`, `$[ ]` or `$( )`. */
const EXPRESSION_PATTERN = '^\\s*(\\$\\{\\{[\\s\\S]*\\}\\}|\\$\\[[\\s\\S]*\\]|\\$\\([\\s\\S]*\\))\\s*$';

type Json = Record<string, unknown>;

/** The schema entry of one task.json, in the shape of the built-in entries of definitions.task.anyOf. */
export function taskSchemaEntry(t: TaskJson): { nameEntry: Json; entry: Json } {
  const ref = `${t.name}@${t.version.Major}`;
  const properties: Record<string, Json> = {};
  for (const i of t.inputs) {
    const description = i.label ?? i.name;
    // The agent hands every input to the task as a string, and an empty optional input is an input not given: an
    // optional pickList also takes '', a boolean also takes 'true' / 'false' (and '' when optional).
    // (the language service never matches '' against an enum: an empty string is its own alternative)
    const empty = i.required ? [] : [{ type: 'string', maxLength: 0 }];
    const expression = { type: 'string', pattern: EXPRESSION_PATTERN };
    if ((i.type === 'pickList' || i.type === 'radio') && i.options) {
      properties[i.name] = { description, ignoreCase: 'key', anyOf: [{ enum: Object.keys(i.options), ignoreCase: 'all' }, ...empty, expression] };
    } else if (i.type === 'int') {
      // the official schema types task.json `int` as integer; the agent hands it over as a string of digits
      properties[i.name] = { description, ignoreCase: 'key', anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?\\d+$' }, ...empty, expression] };
    } else if (i.type === 'boolean') {
      properties[i.name] = { description, ignoreCase: 'key', anyOf: [{ type: 'boolean' }, { enum: ['true', 'false'], ignoreCase: 'all' }, ...empty, expression] };
    } else {
      properties[i.name] = { type: 'string', description, ignoreCase: 'key' };
    }
  }
  const required = t.inputs.filter((i) => i.required && i.defaultValue === undefined && !i.visibleRule).map((i) => i.name);
  return {
    nameEntry: { description: t.description, doNotSuggest: false, ignoreCase: 'value', enum: [ref] },
    entry: {
      properties: {
        task: { description: `${t.friendlyName}\n\n${t.description}`, ignoreCase: 'value', pattern: `^${ref.replace('.', '\\.')}$` },
        inputs: { description: `${t.friendlyName} inputs`, properties, additionalProperties: false, required },
      },
      doNotSuggest: false,
      firstProperty: ['task'],
      required: required.length ? ['task', 'inputs'] : ['task'],
    },
  };
}

/** The official schema with our tasks added (a fresh copy each call). */
export function extendedSchema(tasks = readTasks()): Json {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as Json;
  const defs = schema.definitions as Record<string, Json>;
  const task = defs.task as { properties: { task: { anyOf: Json[] } }; anyOf: Json[] };
  for (const t of tasks.values()) {
    const { nameEntry, entry } = taskSchemaEntry(t);
    task.properties.task.anyOf.push(nameEntry);
    task.anyOf.push(entry);
  }
  return schema;
}

export interface Problem {
  file: string;
  line: number;
  message: string;
}

/** Validates YAML texts against the extended schema with the language service. Reuses one service per root. */
export class AdoValidator {
  private readonly services = new Map<RootKind, LanguageService>();
  constructor(private readonly schema: Json = extendedSchema()) {}

  private service(root: RootKind): LanguageService {
    let ls = this.services.get(root);
    if (!ls) {
      const s: Json = { ...this.schema, $ref: root === 'pipeline' ? undefined : `#/definitions/${root}` };
      if (root === 'pipeline') delete s.$ref;
      else delete s.oneOf;
      const uri = `file:///stackhub-ha/schemas/${root}.json`;
      ls = getLanguageService((u: string) => (u === uri ? Promise.resolve(s) : Promise.reject(new Error(`no schema ${u}`))) as never, [], undefined as never);
      ls.configure({ validate: true, schemas: [{ uri, fileMatch: ['*'], schema: s }] });
      this.services.set(root, ls);
    }
    return ls;
  }

  /** Every error and warning (hints such as deprecations are left out). */
  async validateText(text: string, root: RootKind, file = 'inline.yml'): Promise<Problem[]> {
    const doc = TextDocument.create(`file:///${file}`, 'yaml', 1, text);
    const log = console.log;
    console.log = () => undefined; // the language service logs its schema look-ups
    try {
      const diags = await this.service(root).doValidation(doc as never, parse(text));
      return diags.filter((d) => d.severity === undefined || d.severity <= 2).map((d) => ({ file, line: d.range.start.line + 1, message: String(d.message) }));
    } finally {
      console.log = log;
    }
  }

  async validateFile(rel: string, root = rootKindOf(rel)): Promise<Problem[]> {
    return this.validateText(fs.readFileSync(path.join(ROOT, rel), 'utf8'), root, rel);
  }
}

/** Pipelines are `azure-pipelines*.yml`; a template's root is its list (steps, jobs, stages, variables). */
export function rootKindOf(rel: string, text = fs.readFileSync(path.join(ROOT, rel), 'utf8')): RootKind {
  if (/(^|\/)azure-pipelines[^/]*\.ya?ml$/.test(rel)) return 'pipeline';
  const keys = Object.keys((parseYamlLoose(text) as Json | null) ?? {});
  if (keys.includes('stages')) return 'stagesTemplate';
  if (keys.includes('jobs')) return 'jobsTemplate';
  if (keys.includes('steps')) return 'stepsTemplate';
  if (keys.includes('variables')) return 'variablesTemplate';
  throw new Error(`${rel}: not a pipeline and no stages/jobs/steps/variables list`);
}

// ------------------------------------------------------------------------------------ task and template references

function parseYamlLoose(text: string): unknown {
  return YAML.parse(text);
}

/** Whether a value is decided later by the pipeline (`${{ }}`, `$[ ]`, `$( )` anywhere in it). */
export function isExpression(v: unknown): boolean {
  return typeof v === 'string' && /\$\{\{|\$\[|\$\(/.test(v);
}

/** `${{ parameters.name }}` → name (the whole value is exactly one parameter reference). */
export function parameterRef(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\s*\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/.exec(v);
  return m?.[1];
}

export interface TemplateParameter {
  name: string;
  type?: string;
  default?: unknown;
  values?: unknown[];
  displayName?: string;
}

/** A parsed template or pipeline with its declared parameters. */
export interface ParsedFile {
  rel: string;
  doc: Json;
  parameters: Map<string, TemplateParameter>;
}

export function parseFile(rel: string): ParsedFile {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as Json;
  const parameters = new Map<string, TemplateParameter>();
  const p = doc?.parameters;
  if (Array.isArray(p)) for (const x of p as TemplateParameter[]) parameters.set(x.name, x);
  else if (p && typeof p === 'object') for (const [name, def] of Object.entries(p)) parameters.set(name, { name, default: def });
  return { rel, doc, parameters };
}

/** Visits every mapping of a document (through `${{ each }}` / `${{ if }}` blocks), with the path to it. */
export function visitMappings(node: unknown, fn: (m: Json, where: string) => void, where = ''): void {
  if (Array.isArray(node)) node.forEach((x, i) => visitMappings(x, fn, `${where}[${i}]`));
  else if (node && typeof node === 'object') {
    fn(node as Json, where);
    for (const [k, v] of Object.entries(node as Json)) visitMappings(v, fn, where ? `${where}.${k}` : k);
  }
}

/** Evaluates a task.json visibleRule (`a = b`, `a != b`, `&&`, `||`) against literal inputs; undefined when unknown. */
function visible(rule: string, inputs: Json): boolean | undefined {
  const ors = rule.split('||').map((or) =>
    or.split('&&').map((term) => {
      const m = /^\s*([A-Za-z0-9_]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
      if (!m) return undefined;
      const v = inputs[m[1]];
      if (v === undefined || isExpression(v)) return undefined;
      const eq = String(v) === m[3];
      return m[2] === '!=' ? !eq : eq;
    }),
  );
  if (ors.some((and) => and.every((t) => t === true))) return true;
  if (ors.every((and) => and.some((t) => t === false))) return false;
  return undefined;
}

/**
 * Checks every `task: StackHub…@N` step of a file against the CURRENT task.json: known task, known inputs, required
 * inputs present, pickList and boolean values valid — literal values directly, `${{ parameters.x }}` through the
 * template parameter's type and `values`.
 */
export function checkTaskReferences(file: ParsedFile, tasks = readTasks()): string[] {
  const problems: string[] = [];
  visitMappings(file.doc, (m, where) => {
    const ref = m.task;
    if (typeof ref !== 'string' || !/^StackHub/i.test(ref)) return;
    const at = `${file.rel} ${where}: ${ref}`;
    const t = tasks.get(ref);
    if (!t) {
      problems.push(`${at}: unknown task (known: ${[...tasks.keys()].join(', ')})`);
      return;
    }
    const inputs = (m.inputs ?? {}) as Json;
    const byName = new Map(t.inputs.map((i) => [i.name, i]));
    for (const [name, value] of Object.entries(inputs)) {
      const def = byName.get(name);
      if (!def) {
        problems.push(`${at}: unknown input '${name}' (not in tasks/${t.folder}/task.json)`);
        continue;
      }
      problems.push(...checkValue(file, `${at}: input '${name}'`, def, value));
    }
    for (const def of t.inputs) {
      if (!def.required || def.defaultValue !== undefined || def.name in inputs) continue;
      if (def.visibleRule && visible(def.visibleRule, inputs) === false) continue;
      problems.push(`${at}: required input '${def.name}' is missing`);
    }
  });
  return problems;
}

function checkValue(file: ParsedFile, at: string, def: TaskInput, value: unknown): string[] {
  const options = (def.type === 'pickList' || def.type === 'radio') && def.options ? Object.keys(def.options) : undefined;
  const pref = parameterRef(value);
  if (pref) {
    const p = file.parameters.get(pref);
    if (!p) return [`${at}: \${{ parameters.${pref} }} is not a parameter of ${file.rel}`];
    const tristate = p.type === 'string' && !!p.values && p.values.every((v) => ['', 'true', 'false'].includes(String(v)));
    if (def.type === 'boolean' && p.type !== 'boolean' && !tristate) return [`${at}: boolean input from parameter '${pref}' of type ${p.type ?? 'untyped'} (declare it type: boolean, or string with values '', 'true', 'false')`];
    if (options) {
      if (!p.values) return [`${at}: pickList input from parameter '${pref}' without \`values\` (declare values: ${options.join(', ')})`];
      const bad = p.values.filter((v) => !options.includes(String(v)) && !(v === '' && !def.required));
      if (bad.length) return [`${at}: parameter '${pref}' allows ${bad.map((b) => JSON.stringify(b)).join(', ')}, not an option of the task (${options.join(', ')})`];
    }
    return [];
  }
  if (isExpression(value)) return [];
  if (value === '' && !def.required) return []; // not given
  if (options && !options.includes(String(value))) return [`${at}: '${String(value)}' is not one of ${options.join(', ')}`];
  if (def.type === 'boolean' && !['true', 'false'].includes(String(value).toLowerCase())) return [`${at}: '${String(value)}' is not a boolean`];
  return [];
}

/**
 * Checks every `template:` reference of a file: the template exists (relative to the including file, `/` = the
 * repository root, `@alias` = a repository resource mapped by `repos`), every parameter passed is declared, every
 * parameter without a default is passed, literal values fit the declared type and `values`, and `${{ parameters.x }}`
 * passed on has a compatible type.
 */
export function checkTemplateReferences(file: ParsedFile, repos: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  visitMappings(file.doc, (m, where) => {
    const ref = m.template;
    if (typeof ref !== 'string') return;
    const at = `${file.rel} ${where}: template ${ref}`;
    const [p, alias] = ref.split('@');
    let base: string;
    if (alias !== undefined) {
      if (alias === 'self') base = '';
      else if (repos[alias] === undefined) {
        problems.push(`${at}: repository alias '${alias}' is not mapped`);
        return;
      } else base = repos[alias];
    } else base = p.startsWith('/') ? '' : path.posix.dirname(file.rel);
    const target = path.posix.normalize(path.posix.join(base, p.replace(/^\//, '')));
    if (!fs.existsSync(path.join(ROOT, target))) {
      problems.push(`${at}: ${target} does not exist`);
      return;
    }
    const t = parseFile(target);
    if (typeof m.parameters === 'string') return; // a whole object passed on: checked where the pipeline is expanded
    const passed = (m.parameters ?? {}) as Json;
    // `${{ each input in parameters.x }}` / `${{ insert }}` / `${{ if }}` blocks merge more parameters in: their
    // names are known only when expanded (the expansion tests check them)
    const merged = Object.keys(passed).some((k) => /^\$\{\{\s*(each|insert)\b/.test(k.trim()));
    const nested: Json = {};
    for (const [k, v] of Object.entries(passed)) {
      if (/^\$\{\{\s*(if|elseif|else)\b/.test(k.trim()) && v && typeof v === 'object') Object.assign(nested, v);
    }
    for (const [k, v] of [...Object.entries(passed), ...Object.entries(nested)]) {
      if (k.trim().startsWith('${{')) continue;
      const decl = t.parameters.get(k);
      if (!decl) {
        problems.push(`${at}: passes '${k}', not a parameter of ${target} (has: ${[...t.parameters.keys()].join(', ')})`);
        continue;
      }
      problems.push(...checkParameterValue(file, `${at}: parameter '${k}'`, decl, v));
    }
    for (const decl of t.parameters.values()) {
      if (!('default' in decl) && !(decl.name in passed) && !(decl.name in nested) && !merged) problems.push(`${at}: required parameter '${decl.name}' is not passed`);
    }
  });
  return problems;
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
  number: (v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))),
  boolean: (v) => typeof v === 'boolean' || (typeof v === 'string' && /^(true|false)$/i.test(v)),
  object: () => true,
  step: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
  stepList: (v) => Array.isArray(v),
  job: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
  jobList: (v) => Array.isArray(v),
  deployment: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
  deploymentList: (v) => Array.isArray(v),
  stage: (v) => !!v && typeof v === 'object' && !Array.isArray(v),
  stageList: (v) => Array.isArray(v),
  stringList: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
};

function checkParameterValue(file: ParsedFile, at: string, decl: TemplateParameter, v: unknown): string[] {
  const pref = parameterRef(v);
  if (pref) {
    const src = file.parameters.get(pref);
    if (!src) return [`${at}: \${{ parameters.${pref} }} is not a parameter of ${file.rel}`];
    const a = src.type ?? 'string';
    const b = decl.type ?? 'string';
    if (a !== b && !(b === 'object') && !(a === 'number' && b === 'string')) return [`${at}: gets parameter '${pref}' of type ${a}, declared ${b}`];
    if (decl.values) {
      if (!src.values) return [`${at}: restricted to ${decl.values.join(', ')} but '${pref}' is not`];
      const bad = src.values.filter((x) => !decl.values!.includes(x));
      if (bad.length) return [`${at}: '${pref}' allows ${bad.join(', ')}, not allowed here (${decl.values.join(', ')})`];
    }
    return [];
  }
  if (isExpression(v)) return [];
  const type = decl.type ?? 'string';
  const check = TYPE_OF[type];
  if (check && !check(v)) return [`${at}: ${JSON.stringify(v)} is not a ${type}`];
  if (decl.values && !decl.values.map(String).includes(String(v))) return [`${at}: ${JSON.stringify(v)} is not one of ${decl.values.join(', ')}`];
  return [];
}
