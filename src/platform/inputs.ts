/**
 * Input definitions (the one source that task.json and action.yml are generated from and checked against) and the
 * typed reader that every core parses its inputs with. Errors name the input and what was expected.
 * The types are in src/types/inputs.ts; the frame's implementation of the reader is here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { InputError } from '../shared/errors';

// The definition and reader types are in the bottom layer (src/types/inputs.ts); re-exported for the files that
// import them from here.
import type { Channel, InputDef, InputReader } from '../types/inputs';
export type { InputType, InputDef, Channel, OutputDef, InputName, InputReader } from '../types/inputs';

/** True when `def` exists on `channel`. */
export function onChannel(def: InputDef, channel: Channel): boolean {
  return !def.channels || def.channels.includes(channel);
}

/** Builds a reader over a raw getter. `mask` is called with every secret before it is returned. */
export function createInputReader<N extends string>(
  defs: readonly InputDef<N>[],
  raw: (name: string) => string | undefined,
  mask: (secret: string) => void,
  cwd: string = process.cwd(),
): InputReader<N> {
  const byName = new Map<string, InputDef>(defs.map((d) => [d.name, d]));
  const def = (name: string): InputDef => {
    const d = byName.get(name);
    if (!d) throw new Error(`bug: input '${name}' is not defined`);
    return d;
  };
  const value = (name: string): string | undefined => {
    const d = def(name);
    const v = raw(name);
    const t = v === undefined ? '' : d.type === 'secret' ? v : v.trim();
    if (t !== '') return t;
    return d.default !== undefined && d.default !== '' ? d.default : undefined;
  };
  const required = (name: string, v: string | undefined): string => {
    if (v === undefined) throw new InputError(name, 'is required');
    return v;
  };
  const reader: InputReader<N> = {
    raw,
    string: (name) => {
      const v = value(name);
      if (v === undefined && def(name).required) throw new InputError(name, 'is required');
      return v;
    },
    requiredString: (name) => required(name, value(name)),
    boolean: (name) => {
      const v = value(name);
      if (v === undefined) return false;
      if (/^(true|yes|1|on)$/i.test(v)) return true;
      if (/^(false|no|0|off)$/i.test(v)) return false;
      throw new InputError(name, `expected true or false, got '${v}'`);
    },
    number: (name, opts = {}) => {
      const v = reader.string(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      // a number input is whole unless its definition allows fractions (task.json types it `int`)
      const integer = opts.integer ?? (def(name).type === 'number' && !def(name).decimal);
      const what = integer ? 'a whole number' : 'a number';
      const range =
        opts.min !== undefined && opts.max !== undefined
          ? ` from ${opts.min} to ${opts.max}`
          : opts.min !== undefined
            ? ` of at least ${opts.min}`
            : opts.max !== undefined
              ? ` of at most ${opts.max}`
              : '';
      if (
        !/^-?\d+(\.\d+)?$/.test(v) ||
        !Number.isFinite(n) ||
        (integer && !Number.isInteger(n)) ||
        (opts.min !== undefined && n < opts.min) ||
        (opts.max !== undefined && n > opts.max)
      ) {
        throw new InputError(name, `expected ${what}${range}, got '${v}'`);
      }
      return n;
    },
    list: (name) => {
      const v = reader.string(name);
      return v === undefined ? [] : v.split(/[,\n\r]+/).map((s) => s.trim()).filter((s) => s !== '');
    },
    multiline: (name) => {
      const v = reader.string(name);
      return v === undefined
        ? []
        : v.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'));
    },
    object: <T>(name: N): T | undefined => {
      const v = reader.string(name);
      if (v === undefined) return undefined;
      let text = v;
      if (v.startsWith('@')) {
        const file = path.resolve(cwd, v.slice(1));
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch {
          throw new InputError(name, `cannot read file ${file}`);
        }
      }
      try {
        return YAML.parse(text) as T;
      } catch (e) {
        throw new InputError(name, `expected a YAML or JSON document: ${(e as Error).message.split('\n')[0]}`);
      }
    },
    filePath: (name, opts = { mustExist: true }) => {
      const v = reader.string(name);
      if (v === undefined) return undefined;
      const file = path.resolve(cwd, v);
      if (opts.mustExist !== false) {
        try {
          fs.accessSync(file, fs.constants.R_OK);
          if (!fs.statSync(file).isFile()) throw new Error('not a file');
        } catch {
          throw new InputError(name, `expected a readable file, cannot read ${file}`);
        }
      }
      return file;
    },
    secret: (name) => {
      const v = value(name);
      if (v === undefined) {
        if (def(name).required) throw new InputError(name, 'is required');
        return undefined;
      }
      mask(v);
      return v;
    },
    choice: <T extends string>(name: N): T | undefined => {
      const v = reader.string(name);
      const opts = def(name).options ?? [];
      if (v !== undefined && !opts.includes(v)) {
        throw new InputError(name, `expected one of ${opts.join(', ')}, got '${v}'`);
      }
      return v as T | undefined;
    },
  };
  return reader;
}

/** Name suffix of the Azure Pipelines secure-file alternative of a secret input: `signingKey` → `signingKeySecureFile`. */
export const SECURE_FILE_SUFFIX = 'SecureFile';

/**
 * The Azure Pipelines alternative to a secret input that holds a file's content (a PEM key, an age identity, a
 * kubeconfig): an input `<name>SecureFile` of task.json type `secureFile` (as HelmDeploy takes its TLS key), shown
 * where the secret input is. The adapter downloads the file with the job's access token and hands its content to the
 * core as the secret input's value (masked), so a core never knows the difference. Use it beside the secret:
 * `secret, secureFileInput(secret)`.
 */
export function secureFileInput<N extends string>(secret: InputDef & { name: N }): InputDef & { name: `${N}SecureFile` } {
  if (secret.type !== 'secret') throw new Error(`bug: secureFileInput(${secret.name}): not a secret input`);
  const onAdo = onChannel(secret, 'azure-pipelines');
  return {
    name: `${secret.name}${SECURE_FILE_SUFFIX}` as `${N}SecureFile`,
    label: `${secret.label} (secure file)`,
    type: 'secureFile',
    help:
      `${onAdo ? `Instead of \`${secret.name}\`: a` : 'A'} secure file of the Library (Pipelines → Library → Secure files; authorise the pipeline to use it) ` +
      `holding the ${secret.label.replace(/^\w/, (c) => c.toLowerCase())}: ${secret.help.replace(/\.$/, '')}. Downloaded with the job's access token into the run's private temp dir (0600), read, masked and deleted.${onAdo ? ' Set one of the two.' : ''}`,
    channels: ['azure-pipelines'],
    ...(secret.group ? { group: secret.group } : {}),
    ...(secret.commands ? { commands: secret.commands } : {}),
    ...(secret.when ? { when: secret.when } : {}),
    ...(secret.visibleRule ? { visibleRule: secret.visibleRule } : {}),
  };
}

/** The secret input a secure-file input stands in for (`signingKeySecureFile` → `signingKey`), or undefined. */
export function secureFileTarget(def: InputDef): string | undefined {
  return def.type === 'secureFile' && def.name.endsWith(SECURE_FILE_SUFFIX) ? def.name.slice(0, -SECURE_FILE_SUFFIX.length) : undefined;
}

/**
 * `defs` with the {@link secureFileInput} of each named secret input right after it, carrying the secret's group,
 * commands and conditions as they are at this point (apply it after withCommands/withWhen).
 */
export function withSecureFiles<N extends string, S extends N>(defs: readonly InputDef<N>[], secrets: readonly S[]): InputDef<N | `${S}SecureFile`>[] {
  for (const n of secrets) if (!defs.some((d) => d.name === n)) throw new Error(`bug: withSecureFiles: no input '${n}'`);
  return defs.flatMap((d): InputDef<N | `${S}SecureFile`>[] => ((secrets as readonly string[]).includes(d.name) ? [d, secureFileInput(d as InputDef<S>)] : [d]));
}
