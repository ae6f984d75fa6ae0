/**
 * Running helm and kubectl for a release: the helm version is detected once (`helm version --short`; 3.13 or later,
 * or 4); helm's cache, config and data directories, the registry config and kubectl's cache live in the private temp
 * dir; each site's kubeconfig is written there with mode 0600. Outputs that hold user values or rendered Secrets
 * (status, get values, get manifest, template, upgrade NOTES) are captured and never logged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import type { RunContext } from '../platform/capability';
import { InputError, PreconditionError, ToolError } from '../shared/errors';
import type { ExecResult } from '../shared/exec';
import { which } from '../shared/tools/cache';
import { TOOLS } from '../shared/tools/catalog';
import { MIN_HELM, kubectlGetArgs, type HelmMajor, type KubeTarget, versionArgs } from './args';
import type { SiteCluster } from './inputs';

/** Options of one helm call. */
export interface CallOptions {
  /** capture stdout (never logged) instead of streaming it */
  capture?: boolean;
  timeoutMs?: number;
  /** written to stdin (passwords for --password-stdin) */
  input?: string;
  /** stderr to the debug log only (reads whose failures we report ourselves) */
  quiet?: boolean;
}

/** Resolves a tool name or path like the shell would (PATH for a bare name). */
export function resolveBinary(nameOrPath: string, input: string, what: string): string {
  if (nameOrPath.includes('/') || nameOrPath.includes('\\')) {
    const abs = path.resolve(nameOrPath);
    if (!fs.existsSync(abs)) throw new InputError(input, `${what} not found: ${abs}`);
    return abs;
  }
  const found = which(nameOrPath, process.env.PATH);
  if (!found) throw new InputError(input, `${what} '${nameOrPath}' is not on PATH: set ${input} or run the tool setup task (StackHubToolSetup) first`);
  return found;
}

/** helm (and kubectl) for one run. */
export class HelmRunner {
  readonly env: Record<string, string | undefined>;
  private readonly kubeDir: string;
  private readonly kubeconfigs = new Map<string, string>();
  private kubectl?: string;

  private constructor(
    private readonly ctx: RunContext,
    readonly binary: string,
    readonly version: string,
    readonly major: HelmMajor,
    private readonly kubectlSpec: { nameOrPath: string; input: string },
  ) {
    const home = path.join(ctx.tempDir, 'helm');
    for (const d of ['cache', 'config', 'data']) fs.mkdirSync(path.join(home, d), { recursive: true, mode: 0o700 });
    this.kubeDir = path.join(ctx.tempDir, 'kube');
    fs.mkdirSync(this.kubeDir, { recursive: true, mode: 0o700 });
    const none = path.join(this.kubeDir, 'none.yaml');
    fs.writeFileSync(none, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n', { mode: 0o600 });
    this.env = {
      HELM_CACHE_HOME: path.join(home, 'cache'),
      HELM_CONFIG_HOME: path.join(home, 'config'),
      HELM_DATA_HOME: path.join(home, 'data'),
      HELM_REGISTRY_CONFIG: path.join(home, 'config', 'registry', 'config.json'),
      HELM_REPOSITORY_CONFIG: path.join(home, 'config', 'repositories.yaml'),
      HELM_REPOSITORY_CACHE: path.join(home, 'cache', 'repository'),
      // a call that forgot --kubeconfig must not reach whatever cluster the agent's default config names
      KUBECONFIG: none,
      HELM_KUBECONTEXT: undefined,
      HELM_NAMESPACE: undefined,
      // no plugins or update checks from the agent's own helm set-up
      HELM_PLUGINS: path.join(home, 'data', 'plugins'),
      NO_COLOR: '1',
    };
  }

  /**
   * Finds helm and detects its version. helm older than 3.13, or of an unknown major, is an InputError naming
   * `helmPath` (nothing has been touched yet).
   */
  static async detect(ctx: RunContext, helmPath: string, kubectlPath: string): Promise<HelmRunner> {
    const binary = resolveBinary(helmPath, 'helmPath', 'helm');
    const tool = TOOLS.find((t) => t.id === 'helm')!;
    let res: ExecResult;
    try {
      res = await ctx.exec(binary, versionArgs(), { stdout: 'capture', quietStderr: true, timeoutMs: 60_000, label: 'helm' });
    } catch (e) {
      throw new InputError('helmPath', `cannot run ${binary} version --short: ${(e as Error).message}`);
    }
    const version = tool.parseVersion(res.stdout);
    if (!version) throw new InputError('helmPath', `${binary} version --short printed no version`);
    const major = semver.major(version);
    if (major === 3 && semver.lt(version, MIN_HELM)) throw new InputError('helmPath', `helm ${version} is older than ${MIN_HELM}: install helm 3.13 or later (or helm 4)`);
    if (major !== 3 && major !== 4) throw new InputError('helmPath', `helm ${version} is not supported: use helm 3 (3.13 or later) or helm 4`);
    return new HelmRunner(ctx, binary, version, major as HelmMajor, { nameOrPath: kubectlPath, input: 'kubectlPath' });
  }

  /** Writes (once) a site's kubeconfig, mode 0600, into the private temp dir, and returns the helm target. */
  target(site: string, cluster: SiteCluster): KubeTarget {
    let file = this.kubeconfigs.get(site);
    if (!file) {
      file = path.join(this.kubeDir, `${site}.yaml`);
      fs.writeFileSync(file, cluster.kubeconfig, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
      this.kubeconfigs.set(site, file);
    }
    return { kubeconfig: file, context: cluster.context, namespace: cluster.namespace };
  }

  /** Runs helm. Rejects with ToolError (exit code + masked stderr tail) or TimeoutError. */
  run(args: readonly string[], o: CallOptions = {}): Promise<ExecResult> {
    return this.ctx.exec(this.binary, args, {
      env: this.env,
      stdout: o.capture ? 'capture' : 'log',
      quietStderr: o.quiet,
      timeoutMs: o.timeoutMs ?? 10 * 60_000,
      input: o.input,
      label: 'helm',
      maxCaptureBytes: 64 * 1024 * 1024,
    });
  }

  /**
   * `kubectl get` on a site's cluster: the output, or undefined when the API server answers NotFound. Any other
   * failure (unreachable, Forbidden, timeout) rejects with a PreconditionError.
   */
  async kubeGet(target: KubeTarget, what: { resource: string; name?: string; allNamespaces?: boolean; output: 'json' | 'name' }, timeoutSeconds = 30): Promise<string | undefined> {
    this.kubectl ??= resolveBinary(this.kubectlSpec.nameOrPath, this.kubectlSpec.input, 'kubectl');
    const args = kubectlGetArgs({ ...what, kubeconfig: target.kubeconfig, context: target.context, cacheDir: path.join(this.kubeDir, 'cache'), timeoutSeconds });
    try {
      const res = await this.ctx.exec(this.kubectl, args, {
        env: { KUBECONFIG: target.kubeconfig },
        stdout: 'capture',
        quietStderr: true,
        timeoutMs: (timeoutSeconds + 30) * 1000,
        label: 'kubectl',
        maxCaptureBytes: 64 * 1024 * 1024,
      });
      return res.stdout;
    } catch (e) {
      const label = `kubectl get ${what.resource}${what.name ? ` ${what.name}` : ''}${what.allNamespaces ? ' --all-namespaces' : ''}`;
      if (e instanceof ToolError && e.stderrTail.some((l) => /\(NotFound\)/.test(l))) return undefined;
      if (e instanceof ToolError) {
        const last = e.stderrTail.filter((l) => l.trim()).slice(-1)[0] ?? e.message;
        throw new PreconditionError(`${label}: ${last.trim()}`);
      }
      throw e;
    }
  }
}
