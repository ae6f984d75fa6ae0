/**
 * The typed helper every input definition list is declared with (capabilities and the shared fragments alike):
 * the names stay literal types, so `InputName<typeof defs>` is their union and `InputReader<that>` refuses a
 * misspelt name at compile time (tests/types/input-names.ts); every definition is still checked against
 * {@link InputDef} (unknown properties included). At run time it returns its argument.
 */
import type { InputDef } from '../types';

/** Declares a list of input definitions, keeping each `name` as a literal type. */
export function defineInputs<N extends string>(defs: readonly InputDef<N>[]): readonly InputDef<N>[] {
  return defs;
}
