/**
 * A small expander of Azure Pipelines template expressions, enough for our plain templates: `${{ parameters.x }}`
 * and `${{ <each variable>.field }}` values and interpolation, `${{ each v in … }}`, `${{ if … }}` / `${{ elseif … }}`
 * / `${{ else }}`, `${{ insert }}`, and `template:` includes (relative paths, `/`-rooted paths, `@alias` repository
 * resources mapped to directories), filtered arrays (`parameters.sites.*.name`). Functions: eq ne and or not in notIn
 * contains containsValue gt lt ge le startsWith endsWith replace format coalesce join length lower upper convertToJson iif. Anything else throws, which keeps the templates plain. Runtime
 * expressions (`$[ ]`, `$( )`) are left as they are. The tests assert the SHAPE of pipelines on its output (stage
 * order, dependsOn, conditions); the schema tests validate the unexpanded files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { ROOT } from './manifests';

type Scope = Record<string, unknown>;
type Json = Record<string, unknown>;

export class ExpandError extends Error {}

// ----------------------------------------------------------------------------------------------------- expressions

type Tok = { t: 'str' | 'num' | 'id' | 'p'; v: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) i++;
    else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpandError(`unterminated string in ${src}`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i++];
      }
      out.push({ t: 'str', v: s });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else if ('(),.[]*'.includes(c)) {
      out.push({ t: 'p', v: c });
      i++;
    } else throw new ExpandError(`unexpected '${c}' in expression: ${src}`);
  }
  return out;
}

const FUNCTIONS: Record<string, (...a: unknown[]) => unknown> = {
  eq: (a, b) => cmp(a) === cmp(b),
  ne: (a, b) => cmp(a) !== cmp(b),
  and: (...a) => a.every(truthy),
  or: (...a) => a.some(truthy),
  not: (a) => !truthy(a),
  gt: (a, b) => Number(a) > Number(b),
  lt: (a, b) => Number(a) < Number(b),
  ge: (a, b) => Number(a) >= Number(b),
  le: (a, b) => Number(a) <= Number(b),
  in: (a, ...b) => b.some((x) => cmp(x) === cmp(a)),
  notIn: (a, ...b) => !b.some((x) => cmp(x) === cmp(a)),
  containsValue: (a, b) => (Array.isArray(a) ? a : a && typeof a === 'object' ? Object.values(a) : []).some((x) => cmp(x) === cmp(b)),
  contains: (a, b) => (Array.isArray(a) ? a.some((x) => cmp(x) === cmp(b)) : str(a).toLowerCase().includes(str(b).toLowerCase())),
  startsWith: (a, b) => str(a).toLowerCase().startsWith(str(b).toLowerCase()),
  endsWith: (a, b) => str(a).toLowerCase().endsWith(str(b).toLowerCase()),
  replace: (a, b, c) => str(a).split(str(b)).join(str(c)),
  format: (f, ...a) => str(f).replace(/\{(\d+)\}/g, (_, n: string) => str(a[Number(n)])),
  coalesce: (...a) => a.find((x) => x !== undefined && x !== null && x !== ''),
  join: (sep, a) => (Array.isArray(a) ? a.map(str).join(str(sep)) : str(a)),
  length: (a) => (Array.isArray(a) ? a.length : typeof a === 'object' && a ? Object.keys(a).length : str(a).length),
  lower: (a) => str(a).toLowerCase(),
  upper: (a) => str(a).toUpperCase(),
  convertToJson: (a) => JSON.stringify(a, null, 2),
  iif: (c, a, b) => (truthy(c) ? a : b),
};

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'object') throw new ExpandError(`an object/array used as a string: ${JSON.stringify(v)}`);
  return String(v);
}
function cmp(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : typeof v === 'boolean' ? String(v).toLowerCase() : v;
}
function truthy(v: unknown): boolean {
  if (typeof v === 'string') return v !== '' && v.toLowerCase() !== 'false';
  if (Array.isArray(v)) return true;
  return !!v;
}

/** Evaluates one expression (the text inside `${{ }}`). */
export function evaluate(src: string, scope: Scope): unknown {
  const toks = lex(src);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const expect = (v: string): void => {
    const t = toks[i++];
    if (!t || t.v !== v) throw new ExpandError(`expected '${v}' in ${src}`);
  };
  const primary = (): unknown => {
    const t = toks[i++];
    if (!t) throw new ExpandError(`unexpected end of ${src}`);
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.t !== 'id') throw new ExpandError(`unexpected '${t.v}' in ${src}`);
    if (t.v === 'true') return true;
    if (t.v === 'false') return false;
    if (t.v === 'null') return null;
    if (peek()?.v === '(') {
      i++;
      const fn = FUNCTIONS[t.v];
      if (!fn) throw new ExpandError(`function ${t.v}() is not supported by this expander (keep template logic plain)`);
      const args: unknown[] = [];
      if (peek()?.v !== ')') {
        for (;;) {
          args.push(postfix(primary()));
          if (peek()?.v === ',') i++;
          else break;
        }
      }
      expect(')');
      return fn(...args);
    }
    if (!(t.v in scope)) throw new ExpandError(`unknown name '${t.v}' in ${src} (known: ${Object.keys(scope).join(', ')})`);
    return scope[t.v];
  };
  const postfix = (v: unknown): unknown => {
    for (;;) {
      const t = peek();
      if (t?.v === '.') {
        i++;
        const n = toks[i++];
        if (n?.v === '*') {
          // a filtered array: foo.*.bar → [foo[0].bar, foo[1].bar, …]
          const arr = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
          const rest = toks[i]?.v === '.' ? (i++, toks[i++]) : undefined;
          if (rest && rest.t !== 'id') throw new ExpandError(`expected a name after '.*.' in ${src}`);
          v = rest ? arr.map((x) => member(x, rest.v)) : arr;
          continue;
        }
        if (!n || n.t !== 'id') throw new ExpandError(`expected a name after '.' in ${src}`);
        v = member(v, n.v);
      } else if (t?.v === '[') {
        i++;
        const k = postfix(primary());
        expect(']');
        v = member(v, k);
      } else return v;
    }
  };
  const v = postfix(primary());
  if (i !== toks.length) throw new ExpandError(`trailing tokens in ${src}`);
  return v;
}

function member(v: unknown, k: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v) && typeof k === 'number') return v[k];
  if (typeof v === 'object') {
    const o = v as Json;
    if (typeof k === 'string') {
      const found = Object.keys(o).find((x) => x.toLowerCase() === k.toLowerCase());
      return found === undefined ? undefined : o[found];
    }
  }
  return undefined;
}

const WHOLE = /^\s*\$\{\{([\s\S]*)\}\}\s*$/;
const PART = /\$\{\{([\s\S]*?)\}\}/g;

/** Expands a scalar: a whole `${{ x }}` keeps x's type; embedded ones are interpolated. */
function scalar(v: string, scope: Scope): unknown {
  const m = WHOLE.exec(v);
  if (m && !m[1].includes('}}')) return evaluate(m[1], scope);
  return v.replace(PART, (_, e: string) => str(evaluate(e, scope)));
}

// ------------------------------------------------------------------------------------------------------- documents

export interface ExpandOptions {
  /** repository aliases → directory relative to ROOT ('' = the repository root) */
  repos: Record<string, string>;
  /** variables known at compile time (predefined ones such as Build.Reason, and the pipeline's own) */
  variables?: Record<string, string>;
}

interface Ctx {
  file: string;
  scope: Scope;
  opts: ExpandOptions;
}

const directive = (k: string): { kind: 'if' | 'elseif' | 'else' | 'each' | 'insert'; expr: string; variable?: string } | undefined => {
  const m = /^\$\{\{\s*(if|elseif|else|each|insert)\b([\s\S]*?)\}\}$/.exec(k.trim());
  if (!m) return undefined;
  const kind = m[1] as 'if' | 'elseif' | 'else' | 'each' | 'insert';
  if (kind === 'each') {
    const e = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([\s\S]+)$/.exec(m[2]);
    if (!e) throw new ExpandError(`bad each: ${k}`);
    return { kind, variable: e[1], expr: e[2] };
  }
  return { kind, expr: m[2] };
};

function expandNode(node: unknown, ctx: Ctx, listKey?: string): unknown {
  if (typeof node === 'string') return scalar(node, ctx.scope);
  if (Array.isArray(node)) return expandList(node, ctx, listKey);
  if (node && typeof node === 'object') return expandMap(node as Json, ctx);
  return node;
}

function expandMap(m: Json, ctx: Ctx): Json {
  const out: Json = {};
  let lastIf: boolean | undefined;
  const put = (k: string, v: unknown): void => {
    if (k in out) throw new ExpandError(`${ctx.file}: key '${k}' defined twice`);
    out[k] = v;
  };
  for (const [k, v] of Object.entries(m)) {
    const d = directive(k);
    if (!d) {
      lastIf = undefined;
      const key = str(scalar(k, ctx.scope));
      put(key, expandNode(v, ctx, key));
      continue;
    }
    let take: boolean;
    if (d.kind === 'if') take = lastIf = truthy(evaluate(d.expr, ctx.scope));
    else if (d.kind === 'elseif') {
      if (lastIf === undefined) throw new ExpandError(`${ctx.file}: elseif without if`);
      take = !lastIf && truthy(evaluate(d.expr, ctx.scope));
      lastIf = lastIf || take;
    } else if (d.kind === 'else') {
      if (lastIf === undefined) throw new ExpandError(`${ctx.file}: else without if`);
      take = !lastIf;
      lastIf = undefined;
    } else if (d.kind === 'insert') {
      const val = expandNode(v, ctx);
      if (val && typeof val === 'object' && !Array.isArray(val)) for (const [a, b] of Object.entries(val as Json)) put(a, b);
      else if (val !== undefined && val !== null && val !== '') throw new ExpandError(`${ctx.file}: \${{ insert }} of a non-mapping`);
      continue;
    } else {
      // ${{ each pair in <mapping> }}: { ${{ pair.key }}: ${{ pair.value }} } (or over a list)
      lastIf = undefined;
      const coll = evaluate(d.expr, ctx.scope);
      const items = Array.isArray(coll) ? coll : coll && typeof coll === 'object' ? Object.entries(coll).map(([key, value]) => ({ key, value })) : [];
      for (const x of items) {
        const val = expandNode(v, { ...ctx, scope: { ...ctx.scope, [d.variable!]: x } });
        if (!val || typeof val !== 'object' || Array.isArray(val)) throw new ExpandError(`${ctx.file}: ${k} must hold a mapping here`);
        for (const [a, b] of Object.entries(val as Json)) put(a, b);
      }
      continue;
    }
    if (take) {
      const val = expandNode(v, ctx);
      if (!val || typeof val !== 'object' || Array.isArray(val)) throw new ExpandError(`${ctx.file}: ${k} must hold a mapping here`);
      for (const [a, b] of Object.entries(val as Json)) put(a, b);
    }
  }
  return out;
}

function expandList(list: unknown[], ctx: Ctx, listKey?: string): unknown[] {
  const out: unknown[] = [];
  let lastIf: boolean | undefined;
  for (const item of list) {
    const keys = item && typeof item === 'object' && !Array.isArray(item) ? Object.keys(item) : [];
    const d = keys.length === 1 ? directive(keys[0]) : undefined;
    if (d) {
      const body = (item as Json)[keys[0]];
      const splice = (b: unknown, scope: Scope): void => {
        if (b === null || b === undefined) return;
        const e = expandNode(b, { ...ctx, scope }, listKey);
        if (Array.isArray(e)) out.push(...e);
        else out.push(e);
      };
      if (d.kind === 'each') {
        lastIf = undefined;
        const coll = evaluate(d.expr, ctx.scope);
        const items = Array.isArray(coll) ? coll : coll && typeof coll === 'object' ? Object.entries(coll).map(([key, value]) => ({ key, value })) : [];
        for (const x of items) splice(body, { ...ctx.scope, [d.variable!]: x });
        continue;
      }
      let take: boolean;
      if (d.kind === 'if') take = lastIf = truthy(evaluate(d.expr, ctx.scope));
      else if (d.kind === 'elseif') {
        if (lastIf === undefined) throw new ExpandError(`${ctx.file}: elseif without if`);
        take = !lastIf && truthy(evaluate(d.expr, ctx.scope));
        lastIf = lastIf || take;
      } else if (d.kind === 'else') {
        if (lastIf === undefined) throw new ExpandError(`${ctx.file}: else without if`);
        take = !lastIf;
        lastIf = undefined;
      } else throw new ExpandError(`${ctx.file}: \${{ insert }} in a list`);
      if (take) splice(body, ctx.scope);
      continue;
    }
    lastIf = undefined;
    if (item && typeof item === 'object' && !Array.isArray(item) && keys.includes('template') && keys.every((k) => k === 'template' || k === 'parameters')) {
      out.push(...includeTemplate(item as Json, ctx));
      continue;
    }
    const e = expandNode(item, ctx, listKey);
    // a stepList / jobList parameter inserted as one item expands into its items
    if (Array.isArray(e) && typeof item === 'string') out.push(...e);
    else out.push(e);
  }
  return out;
}

/** Resolves a template path the way Azure Pipelines does (relative to the including file unless `/…` or `@alias`). */
export function resolveTemplatePath(ref: string, fromFile: string, repos: Record<string, string>): string {
  const [p, alias] = ref.split('@');
  let base: string;
  if (alias !== undefined && alias !== 'self') {
    if (repos[alias] === undefined) throw new ExpandError(`${fromFile}: repository alias '${alias}' not mapped`);
    base = repos[alias];
  } else if (alias === 'self' || p.startsWith('/')) base = '';
  else base = path.posix.dirname(fromFile);
  return path.posix.normalize(path.posix.join(base, p.replace(/^\//, '')));
}

function bindParameters(doc: Json, passed: Json, file: string): Scope {
  const decl = doc.parameters;
  const params: Scope = {};
  if (Array.isArray(decl)) {
    for (const p of decl as { name: string; type?: string; default?: unknown; values?: unknown[] }[]) {
      const has = p.name in passed;
      if (!has && !('default' in p)) throw new ExpandError(`${file}: parameter '${p.name}' is required`);
      const v = has ? passed[p.name] : p.default;
      if (p.type === 'boolean' && typeof v !== 'boolean' && !/^(true|false)$/i.test(String(v))) throw new ExpandError(`${file}: parameter '${p.name}' is not a boolean: ${JSON.stringify(v)}`);
      if (p.values && !p.values.map(String).includes(String(v))) throw new ExpandError(`${file}: parameter '${p.name}' = ${JSON.stringify(v)} is not one of ${p.values.join(', ')}`);
      params[p.name] = p.type === 'boolean' ? String(v).toLowerCase() === 'true' : v;
    }
    for (const k of Object.keys(passed)) if (!decl.some((p: { name: string }) => p.name === k)) throw new ExpandError(`${file}: unexpected parameter '${k}'`);
  } else if (decl && typeof decl === 'object') Object.assign(params, decl, passed);
  return params;
}

function includeTemplate(item: Json, ctx: Ctx): unknown[] {
  const ref = str(scalar(String(item.template), ctx.scope));
  const target = resolveTemplatePath(ref, ctx.file, ctx.opts.repos);
  const abs = path.join(ROOT, target);
  if (!fs.existsSync(abs)) throw new ExpandError(`${ctx.file}: template ${ref} → ${target} does not exist`);
  const doc = YAML.parse(fs.readFileSync(abs, 'utf8')) as Json;
  const passed = (item.parameters ? expandNode(item.parameters, ctx) : {}) as Json;
  const scope: Scope = { parameters: bindParameters(doc, passed, target), variables: ctx.opts.variables ?? {} };
  const key = ['stages', 'jobs', 'steps'].find((k) => Array.isArray(doc[k]));
  if (!key) throw new ExpandError(`${target}: no stages, jobs or steps list`);
  return expandList(doc[key] as unknown[], { file: target, scope, opts: ctx.opts }, key);
}

/** Expands a pipeline (or a template used as a pipeline, with `parameters` given). */
export function expandFile(rel: string, parameters: Json = {}, opts: ExpandOptions = { repos: {} }): Json {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as Json;
  const scope: Scope = { parameters: bindParameters(doc, parameters, rel), variables: opts.variables ?? {} };
  const { parameters: _p, ...rest } = doc;
  void _p;
  return expandMap(rest, { file: rel, scope, opts });
}

/** Expands a template list (`stages`, `jobs` or `steps`) as if included with `parameters`. */
export function expandTemplate(rel: string, parameters: Json, opts: ExpandOptions = { repos: {} }): unknown[] {
  return includeTemplate({ template: `/${rel}`, parameters }, { file: rel, scope: {}, opts });
}
