/**
 * A capability: its input/output definitions, a parser that validates every input once into a typed object, and
 * the logic. `runCapability` (run.ts) owns the frame around it.
 */
import type { ExecOptions, ExecResult } from '../shared/exec';
import type { Masker } from '../shared/mask';
import type { Net } from '../shared/net';
import type { SecretSources } from '../shared/secrets';
import type { InputDef, InputReader, OutputDef } from './inputs';
import type { Summary } from './summary';
import type { Logger, Platform } from './types';

/** What a core gets while it runs. */
export interface RunContext {
  readonly platform: Platform;
  readonly log: Logger;
  /** Private temp dir (mode 0700) removed when the run ends: kubeconfigs, keys, downloads. */
  readonly tempDir: string;
  readonly masker: Masker;
  /** The run summary; published whether the run succeeds or fails. */
  readonly summary: Summary;
  /** Registers a secret found at run time (a key fetched from a store, a token). */
  mask(secret: string): void;
  /**
   * Writes a secret for LATER steps (a kubeconfig, a key) to a 0600 file in a 0700 directory under the agent's temp
   * dir — which outlives this run but not the job — and returns its path. Secrets never travel as outputs.
   */
  secretFile(name: string, content: string | Buffer): string;
  /**
   * The run's network, built once by the frame from the platform: proxy for a URL (agent proxy, else HTTPS_PROXY /
   * NO_PROXY), the agent's CAs, and agents for SDKs. Every client takes it; read it with `netOf(ctx)` from
   * src/shared/net.ts (optional only so that contexts built by hand in tests still compile).
   */
  readonly net?: Net;
  /** Runs a child tool with this run's logger and masker (see shared/exec). */
  exec(file: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** One capability, run the same way by the ADO task, the GitHub Action and the CLI. `N`: its input names. */
export interface Capability<I, O extends object, N extends string = string> {
  /** kebab-case id, e.g. `setup-tools` */
  readonly name: string;
  /** Title of the summary. */
  readonly title: string;
  readonly inputs: readonly InputDef<N>[];
  readonly outputs: readonly OutputDef[];
  /** Validates every input into a typed object; throws InputError naming the input. No side effects. */
  parse(read: InputReader<N>, platform: Platform): I;
  /**
   * Where this capability's keyvault:// and k8s:// secret references are read (src/shared/secrets): the Hub
   * credential and the cluster it uses itself. Called by the frame only when such a reference is present, with a
   * reader whose secret inputs are already resolved (vault://) or literal. Omitted: those schemes are refused with a
   * message naming the input.
   */
  secretSources?(read: InputReader<N>, platform: Platform): SecretSources;
  /**
   * For the generated task pages: in words, where {@link secretSources} finds the Hub credential (keyvault://) and
   * the cluster (k8s://). A scheme without an entry is refused by this capability.
   */
  readonly secretSourcesDoc?: { keyvault?: string; k8s?: string };
  /** Does the work; returns the outputs (never sets them itself). */
  run(inputs: I, ctx: RunContext): Promise<O>;
}

/** Any capability (for tables of them). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of capabilities with different input/output types (unknown would make `parse`/`run` uncallable)
export type AnyCapability = Capability<any, any>;
