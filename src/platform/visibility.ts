/**
 * Task-form visibility from the input definitions: each input's `commands` / `when` / simple `visibleRule` become
 * one ADO `visibleRule`, and a group whose inputs all apply to some commands only gets a group rule.
 *
 * ADO's visibleRule grammar has `=`/`==`/`!=` comparisons joined by either `&&` or `||` — not both, no parentheses
 * (microsoft/azure-pipelines-task-lib#871). So "command is backup or restore, and storage is s3" is written as a
 * conjunction over the complement: `command != list && command != prune && command != drill && storageKind = s3`.
 */
import type { InputDef } from './inputs';

/** input name → the values for which a definition applies. */
export type Conditions = Map<string, readonly string[]>;

const SIMPLE = /^\s*([A-Za-z][A-Za-z0-9]*)\s*==?\s*(\S+)\s*$/;

/** The conditions of one definition (commands, when, and a simple `visibleRule`, `a = b` or `a = b || a = c`). */
export function conditionsOf(def: InputDef): Conditions {
  const out: Conditions = new Map();
  const add = (name: string, values: readonly string[]): void => {
    const prev = out.get(name);
    out.set(name, prev ? prev.filter((v) => values.includes(v)) : [...values]);
  };
  if (def.visibleRule) {
    const parts = def.visibleRule.split('||').map((p) => SIMPLE.exec(p));
    if (parts.some((m) => !m) || new Set(parts.map((m) => m![1])).size !== 1) {
      throw new Error(`bug: input ${def.name}: visibleRule '${def.visibleRule}' is not 'a = b [|| a = c]': use commands/when`);
    }
    add(parts[0]![1], parts.map((m) => m![2]));
  }
  for (const [name, values] of Object.entries(def.when ?? {})) add(name, values);
  if (def.commands) add('command', def.commands);
  return out;
}

function optionsOf(defs: readonly InputDef[], name: string): readonly string[] {
  const d = defs.find((x) => x.name === name);
  if (!d || d.type !== 'pickList' || !d.options) throw new Error(`bug: a visibility condition names '${name}', which is not a pickList input`);
  return d.options;
}

/** One ADO visibleRule for `conds` (undefined when it always applies). */
export function ruleFor(conds: Conditions, defs: readonly InputDef[]): string | undefined {
  const active = [...conds].filter(([name, values]) => {
    const opts = optionsOf(defs, name);
    for (const v of values) if (!opts.includes(v)) throw new Error(`bug: visibility condition ${name} = ${v}: not an option of ${name} (${opts.join(', ')})`);
    return opts.some((o) => !values.includes(o));
  });
  if (active.length === 0) return undefined;
  if (active.length === 1) return active[0][1].map((v) => `${active[0][0]} = ${v}`).join(' || ');
  const terms: string[] = [];
  for (const [name, values] of active) {
    if (values.length === 1) terms.push(`${name} = ${values[0]}`);
    else {
      // the complement form would also show the input when `name` is empty
      const d = defs.find((x) => x.name === name)!;
      if (!d.required && d.default === undefined) throw new Error(`bug: visibility: '${name}' may be empty, so "${name} is one of ${values.join(', ')}" cannot be combined with another condition in one ADO visibleRule`);
      for (const o of optionsOf(defs, name)) if (!values.includes(o)) terms.push(`${name} != ${o}`);
    }
  }
  return terms.join(' && ');
}

/** The visibleRule of an input. */
export function visibleRuleOf(def: InputDef, defs: readonly InputDef[]): string | undefined {
  const conds = conditionsOf(def);
  if (conds.has(def.name)) throw new Error(`bug: input ${def.name} depends on itself`);
  return ruleFor(conds, defs);
}

/**
 * The visibleRule of a group: when every input of the group applies to a subset of the commands, the group shows
 * only for their union (and for nothing else: other conditions stay on the inputs).
 */
export function groupVisibleRule(group: string, defs: readonly InputDef[]): string | undefined {
  const members = defs.filter((d) => d.group === group);
  if (members.length === 0 || !defs.some((d) => d.name === 'command' && d.type === 'pickList')) return undefined;
  const union = new Set<string>();
  for (const d of members) {
    const c = conditionsOf(d).get('command');
    if (!c) return undefined;
    for (const v of c) union.add(v);
  }
  return ruleFor(new Map([['command', [...union]]]), defs);
}

/** The commands an input applies to (all of them when unrestricted), for docs and help. */
export function commandsOf(def: InputDef, defs: readonly InputDef[]): readonly string[] | undefined {
  const c = conditionsOf(def).get('command');
  const cmd = defs.find((d) => d.name === 'command');
  if (!c || !cmd?.options || cmd.options.every((o) => c.includes(o))) return undefined;
  return cmd.options.filter((o) => c.includes(o));
}

/**
 * Sets `commands` on the named definitions (copies; the others unchanged), e.g. `{ backupId: ['restore', 'drill'] }`:
 * backupId applies to restore and drill only. Every command named must be an option of the `command` input.
 */
export function withCommands<T extends InputDef>(defs: readonly T[], byInputNamed: Partial<Record<T['name'], readonly string[]>>): T[] {
  const byInput = byInputNamed as Record<string, readonly string[]>;
  const cmd = defs.find((d) => d.name === 'command');
  for (const [n, commands] of Object.entries(byInput)) {
    if (!defs.some((d) => d.name === n)) throw new Error(`bug: withCommands: no input '${n}'`);
    for (const c of commands) if (!cmd?.options?.includes(c)) throw new Error(`bug: withCommands: '${c}' (for ${n}) is not a command`);
  }
  return defs.map((d) => (byInput[d.name] ? { ...d, commands: byInput[d.name] } : d));
}

/** Sets `when` on the named definitions (copies), e.g. `{ podName: { place: ['kubectl-exec'] } }`. */
export function withWhen<T extends InputDef>(defs: readonly T[], byInputNamed: Partial<Record<T['name'], Readonly<Record<string, readonly string[]>>>>): T[] {
  const byInput = byInputNamed as Record<string, Readonly<Record<string, readonly string[]>>>;
  for (const n of Object.keys(byInput)) if (!defs.some((d) => d.name === n)) throw new Error(`bug: withWhen: no input '${n}'`);
  return defs.map((d) => (byInput[d.name] ? { ...d, when: { ...d.when, ...byInput[d.name] } } : d));
}
