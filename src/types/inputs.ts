/**
 * Input definitions (the one source that task.json and action.yml are generated from and checked against) and the
 * typed reader that every core parses its inputs with. Errors name the input and what was expected.
 *
 * Bottom layer (src/types): types only. The reader's implementation (`createInputReader`) is the frame's, in
 * src/platform/inputs.ts.
 *
 * Names are checked by the compiler: a capability declares its definitions
 * `[...] as const satisfies readonly InputDef[]`, takes `InputReader<InputName<typeof defs>>` in its parser, and a
 * misspelt `read.string('sitesFlie')` fails `tsc` (tests/types/input-names.ts).
 */

/** How an input is typed. Maps to task.json types; on GitHub and the CLI every input is a string. */
export type InputType =
  | 'string'
  | 'boolean'
  | 'number'
  /** comma- or newline-separated list */
  | 'list'
  /** one item per line */
  | 'multiline'
  /** a YAML or JSON document */
  | 'object'
  | 'filePath'
  /** a secret value: masked before anything is logged; never accepted on the CLI's argv */
  | 'secret'
  | 'pickList'
  /** ADO-only: an `azurerm` service connection */
  | 'azureRmConnection'
  /** ADO-only: a `kubernetes` service connection */
  | 'kubernetesConnection'
  /** ADO-only: an "Azure Stack Hub" service connection (the endpoint type this extension contributes) */
  | 'azureStackHubConnection'
  /** ADO-only: a secure file of the Library, the alternative to a secret input (see secureFileInput in src/platform/inputs.ts) */
  | 'secureFile';

/** One input of a capability. `N` is its name's literal type (keep it with `as const satisfies readonly InputDef[]`). */
export interface InputDef<N extends string = string> {
  /** camelCase; identical in task.json, action.yml and (kebab-cased) the CLI flag */
  name: N;
  label: string;
  type: InputType;
  required?: boolean;
  /** The default, as the string a pipeline author would type. Applied by the agent/runner and by the reader. */
  default?: string;
  /** Help shown in the task editor, action.yml description and `--help`. */
  help: string;
  /** Allowed values for pickList. */
  options?: readonly string[];
  /**
   * number only: a fraction is allowed (e.g. `0.5` seconds). Otherwise the reader takes whole numbers only and
   * task.json types the input `int` (task.json has no type for fractions: a decimal input is a `string` there).
   */
  decimal?: boolean;
  /** Group name in the task editor. */
  group?: string;
  /** Channels this input exists on (default: all). Service connections exist only on Azure Pipelines. */
  channels?: readonly Channel[];
  /**
   * The values of the `command` input this input applies to (default: every command). The task form hides it for
   * the others (see src/platform/visibility.ts); the docs say "only for".
   */
  commands?: readonly string[];
  /** Values of other pickList inputs this input applies to, e.g. `{ trafficProvider: ['rfc2136', 'azure-stack-dns'] }`. */
  when?: Readonly<Record<string, readonly string[]>>;
  /** A simple ADO visibleRule, `other = value` (kept for shared fragments; merged with commands/when). */
  visibleRule?: string;
}

export type Channel = 'azure-pipelines' | 'github-actions' | 'cli';

/** One output of a capability. */
export interface OutputDef {
  name: string;
  description: string;
}

/** The names of a list of definitions, e.g. `InputName<typeof mongoInputs>` (`'command' | 'site' | …`). */
export type InputName<D extends readonly InputDef[]> = D[number]['name'];

/**
 * Typed access to a capability's inputs. Every method throws {@link InputError} naming the input. `N` is the union
 * of the names the reader may be asked for: a reader over more names can be handed to a parser of fewer (a
 * fragment's), never the other way round, and a name outside `N` fails `tsc`. Members are properties, not methods,
 * so that `N` is checked contravariantly (methods would be bivariant).
 */
export interface InputReader<N extends string = string> {
  /** Trimmed string, the definition's default when empty, undefined when neither. */
  readonly string: (name: N) => string | undefined;
  /** Like string(), but missing → InputError 'is required'. */
  readonly requiredString: (name: N) => string;
  readonly boolean: (name: N) => boolean;
  readonly number: (name: N, opts?: { min?: number; max?: number; integer?: boolean }) => number | undefined;
  /** Items split on commas and newlines, trimmed, empties dropped. */
  readonly list: (name: N) => string[];
  /** Lines, trimmed, empties and `#` comments dropped. */
  readonly multiline: (name: N) => string[];
  /** A YAML/JSON document (inline, or `@path` to a file). */
  readonly object: <T = unknown>(name: N) => T | undefined;
  /** An existing readable file's absolute path. */
  readonly filePath: (name: N, opts?: { mustExist?: boolean }) => string | undefined;
  /** A secret value; masked as soon as it is read. */
  readonly secret: (name: N) => string | undefined;
  /** One of the definition's options. */
  readonly choice: <T extends string>(name: N) => T | undefined;
  /** The platform behind the reader (for service connections). */
  readonly raw: (name: N) => string | undefined;
}
