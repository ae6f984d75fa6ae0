/**
 * The user-supplied values of a release, computed the way helm computes them (pkg/cli/values.Options.MergeValues):
 * values files deep-merged in order, then every `--set` (typed), then every `--set-string`. The result is what
 * `helm get values -o json` returns after an install, so the two can be compared for the idempotent no-op, and it
 * is hashed into the release record (the values themselves never leave the run: they may hold secrets).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import YAML from 'yaml';
import { InputError } from '../shared/errors';

/** A JSON-like values tree. */
export type Values = { [key: string]: unknown };

/** One `--set` / `--set-string` argument as helm takes it. */
export interface SetArg {
  kind: 'set' | 'set-string';
  /** `a.b=1,c=2` in helm's strvals syntax */
  expr: string;
}

/** The values a site is released with: files in order, then set expressions. */
export interface ValuesSpec {
  files: string[];
  sets: SetArg[];
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** helm's mergeMaps: maps merge deeply, anything else in `b` replaces what `a` holds. */
export function mergeMaps(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = isMap(v) && isMap(cur) ? mergeMaps(cur, v) : v;
  }
  return out;
}

/**
 * Parses a values file like helm does (YAML 1.1 through sigs.k8s.io/yaml: `yes`/`on` are booleans); an empty file
 * is no values. Errors name `input`.
 */
export function readValuesFile(file: string, input: string): Values {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(input, `cannot read the values file ${file}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { version: '1.1', merge: true, maxAliasCount: 1000 });
  } catch (e) {
    throw new InputError(input, `${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isMap(doc)) throw new InputError(input, `${file}: expected a mapping of values at the top level`);
  // through JSON, as helm does (dates become strings, -0 and such normalise)
  return JSON.parse(JSON.stringify(doc)) as Values;
}

/** helm strvals typedVal: true/false/null, int64 without a leading zero, else the string. */
function typedVal(s: string, asString: boolean): unknown {
  if (asString) return s;
  const l = s.toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  if (l === 'null') return null;
  if (s === '0') return 0;
  if (s.length > 0 && s[0] !== '0' && /^[+-]?\d+$/.test(s)) {
    const n = BigInt(s);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return Number(s);
  }
  return s;
}

class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  /** Reads until one of `stops` (unescaped); returns the text and the stop char ('' at end). */
  until(stops: string): { text: string; stop: string } {
    let text = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === '\\' && this.i < this.s.length) {
        text += this.s[this.i++];
        continue;
      }
      if (stops.includes(c)) return { text, stop: c };
      text += c;
    }
    return { text, stop: '' };
  }
}

/** Sets list[index] = value, growing the list with nulls (helm's setIndex). */
function setIndex(list: unknown[], index: number, value: unknown): unknown[] {
  if (index < 0) throw new Error(`negative ${index} index not allowed`);
  if (index > 65536) throw new Error(`index of ${index} is greater than maximum supported index value`);
  while (list.length <= index) list.push(null);
  list[index] = value;
  return list;
}

/**
 * Applies one strvals expression (`a.b=1,c[0]=x,d={e,f}`) to `target`, as helm's strvals.ParseInto /
 * ParseIntoString do. Throws an Error whose message is helm's reason.
 */
export function applySet(target: Values, expr: string, asString: boolean): void {
  const sc = new Scanner(expr);
  const parseValue = (): { value: unknown; stop: string } => {
    if (!asString && sc.s[sc.i] === '{') {
      sc.i++;
      const items: unknown[] = [];
      for (;;) {
        const r = sc.until(',}');
        items.push(typedVal(r.text, false));
        if (r.stop === '}') break;
        if (r.stop === '') throw new Error('list must terminate with \'}\'');
      }
      const next = sc.until(',');
      if (next.text !== '') throw new Error(`key map "${next.text}" has no value`);
      return { value: items, stop: next.stop };
    }
    const r = sc.until(',');
    return { value: typedVal(r.text, asString), stop: r.stop };
  };
  // key path: segments of names and indexes
  const assign = (container: Values | unknown[], path: (string | number)[], value: unknown): void => {
    let cur: Values | unknown[] = container;
    for (let p = 0; p < path.length; p++) {
      const seg = path[p];
      const last = p === path.length - 1;
      if (typeof seg === 'number') {
        const list = cur as unknown[];
        if (last) setIndex(list, seg, value);
        else {
          const nextIsIndex = typeof path[p + 1] === 'number';
          const existing = list[seg];
          const child = nextIsIndex ? (Array.isArray(existing) ? existing : []) : isMap(existing) ? existing : {};
          setIndex(list, seg, child);
          cur = child;
        }
      } else {
        const map = cur as Values;
        if (last) map[seg] = value;
        else {
          const nextIsIndex = typeof path[p + 1] === 'number';
          const existing = map[seg];
          const child = nextIsIndex ? (Array.isArray(existing) ? existing : []) : isMap(existing) ? existing : {};
          map[seg] = child;
          cur = child;
        }
      }
    }
  };
  while (!sc.done) {
    const path: (string | number)[] = [];
    for (;;) {
      const r = sc.until('.[=,');
      if (r.text === '') throw new Error(`key "${expr}" has an empty name segment`);
      path.push(r.text);
      let stop = r.stop;
      while (stop === '[') {
        const idx = sc.until(']');
        if (idx.stop !== ']' || !/^\d+$/.test(idx.text)) throw new Error(`key "${r.text}" has an invalid index`);
        path.push(Number(idx.text));
        stop = sc.s[sc.i++] ?? '';
      }
      if (stop === '.') continue;
      if (stop === '=') break;
      throw new Error(`key "${r.text}" has no value`);
    }
    const { value } = parseValue();
    assign(target, path, value);
  }
}

/** Computes the user-supplied values of a release as helm would store them (see the module comment). */
export function computeValues(spec: ValuesSpec, input: string): Values {
  let values: Values = {};
  for (const f of spec.files) values = mergeMaps(values, readValuesFile(f, input));
  for (const kind of ['set', 'set-string'] as const) {
    for (const s of spec.sets.filter((x) => x.kind === kind)) {
      try {
        applySet(values, s.expr, kind === 'set-string');
      } catch (e) {
        throw new InputError(input, `--${kind} '${s.expr.split('=')[0]}=…': ${(e as Error).message}`);
      }
    }
  }
  return values;
}

/** Escapes a value for a helm `--set-string key=value` expression (backslash and comma). */
export function escapeSetValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}

/** JSON with sorted keys (a canonical form for hashing and comparing). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isMap(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** `sha256:<hex>` of the canonical JSON of a values tree. */
export function valuesHash(v: Values): string {
  return `sha256:${crypto.createHash('sha256').update(canonicalJson(v)).digest('hex')}`;
}

/** Whether two values trees are equal (maps by key, lists by position, numbers by value). */
export function sameValues(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b ?? {});
}
