/**
 * Where the MongoDB tools run: on the agent (a 0600 `--config` file in the private temp dir), or inside a pod
 * through `kubectl exec` (never `-t`; the archive streams over stdout/stdin; the config file is either mounted in
 * the pod from a Secret or written into the pod's private temp dir with a prior `exec -i` and removed after).
 * Credentials never appear on any argv, the agent's or the pod's.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { RunContext } from '../platform/capability';
import { InputError, PreconditionError, StackHubError, ToolError } from '../shared/errors';
import { which } from '../shared/tools/cache';
import {
  kubectlCanIExecArgs,
  kubectlExecArgs,
  kubectlGetPodsArgs,
  mongoshArgs,
  mongoshFileArgs,
  POD_MKTEMP,
  POD_WRITE_CONFIG,
  podWriteFile,
  podRemoveDir,
  toolConfigYaml,
  type KubeTarget,
} from './args';
import type { MongoEndpoint } from './inputs';

/** Options of a tool run. */
export interface ToolRunOptions {
  timeoutMs: number;
  /** Aborting kills the tool. */
  signal?: AbortSignal;
  /** Each stderr line (masked). */
  onStderr?: (line: string) => void;
}

/** One place where the tools run, prepared for one MongoDB instance. */
export interface ToolPlace {
  /** For logs and the summary: `agent (hosts)` or `pod ns/name [container]`. */
  readonly description: string;
  /** For the manifest: where the data came from (never a credential). */
  readonly source: Record<string, unknown>;
  /** Runs mongodump with the archive on stdout piped into `out` (not ended). */
  dump(args: (configPath: string) => string[], out: Writable, opts: ToolRunOptions): Promise<void>;
  /** Runs mongorestore with `input` as its stdin. */
  restore(args: (configPath: string) => string[], input: Readable, opts: ToolRunOptions): Promise<void>;
  /** Runs a mongosh script (stdin); resolves to its stdout. */
  mongosh(script: (configPath: string) => string, opts: ToolRunOptions): Promise<string>;
  /**
   * Runs a mongosh script from a 0600 file (agent: the private temp dir; pod: the pod's private temp dir), removed
   * after; the script gets the tools config path to read the credentials from. Resolves to its stdout.
   */
  mongoshFile(script: (configPath: string) => string, opts: ToolRunOptions): Promise<string>;
  /** `<tool> --version` → version, or undefined when it cannot tell. */
  toolVersion(tool: 'mongodump' | 'mongorestore'): Promise<string | undefined>;
  /** Removes the config file (pod temp dir). Never throws; returns a warning text on failure. */
  cleanup(): Promise<string | undefined>;
}

/** `mongodump version: 100.9.4` → `100.9.4`. */
export function parseToolVersion(out: string): string | undefined {
  return /version:?\s*v?(\d+\.\d+\.\d+)/i.exec(out)?.[1];
}

/** Turns a MongoDB tool failure into a clear message (missing role named). */
export function explainToolError(e: unknown, tool: 'mongodump' | 'mongorestore' | 'mongosh'): unknown {
  if (!(e instanceof ToolError)) return e;
  const text = e.stderrTail.join('\n');
  if (/not authorized|Unauthorized|requires authentication/i.test(text)) {
    const role = tool === 'mongodump' ? 'backup' : tool === 'mongorestore' ? 'restore' : 'readWrite (count) and dbAdmin (drop)';
    return new PreconditionError(`${tool}: the MongoDB user lacks a required privilege — it needs the built-in \`${role}\` role (${reasonLine(text)})`);
  }
  if (/Authentication failed|AuthenticationFailed/i.test(text)) return new PreconditionError(`${tool}: authentication failed (check the connection string's user and password)`);
  // the real mongorestore prints its tally ("N document(s) restored successfully. …") after the `Failed:` line, so
  // the last line is not the reason: name the Failed: line
  const failed = failedLine(text);
  if (failed && failed !== lastLine(text)) return new ToolError(e.tool, e.exitCode, e.stderrTail, `${e.tool} failed${e.exitCode === null ? '' : ` with exit code ${e.exitCode}`}: ${failed}`);
  return e;
}

function lastLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).slice(-1)[0] ?? '';
}

/** The last `Failed: …` line of a MongoDB tool's log (its timestamp and tab removed), or undefined. */
function failedLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => /(^|\t)Failed: /.test(l));
  const l = lines[lines.length - 1];
  return l === undefined ? undefined : l.slice(l.indexOf('Failed: '));
}

/** The reason a MongoDB tool gives: its `Failed:` line, else its last line. */
function reasonLine(text: string): string {
  return failedLine(text) ?? lastLine(text);
}

function findTool(name: string, hint: string): string {
  const p = which(name, process.env.PATH);
  if (!p) throw new PreconditionError(`${name} not found on PATH: ${hint}`);
  return p;
}

const TOOLS_HINT = 'set up the MongoDB Database Tools first (task StackHubToolSetup / action setup-tools / `stackhub-ha tools install` with tools: mongodb-database-tools)';

/** The tools on the agent. */
export function agentPlace(ep: Extract<MongoEndpoint, { place: 'agent' }>, ctx: RunContext): ToolPlace {
  const dir = fs.mkdtempSync(path.join(ctx.tempDir, 'mongo-'));
  fs.chmodSync(dir, 0o700);
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, toolConfigYaml(ep.uri), { mode: 0o600 });
  if (ep.uri.password) ctx.mask(ep.uri.password);
  const bins = new Map<string, string>();
  const bin = (t: string): string => {
    let found = bins.get(t);
    if (found === undefined) bins.set(t, (found = findTool(t, t === 'mongosh' ? 'install mongosh on the agent (the drill counts and drops with it; the primary operations run with it)' : TOOLS_HINT)));
    return found;
  };
  return {
    description: `agent → ${ep.uri.hosts.join(',')}`,
    source: { place: 'agent', hosts: ep.uri.hosts },
    async dump(args, out, o) {
      ctx.log.debug(`run: ${bin('mongodump')} ${args(configPath).join(' ')}`);
      try {
        await ctx.exec(bin('mongodump'), args(configPath), { stdout: 'pipe', stdoutTo: out, timeoutMs: o.timeoutMs, signal: o.signal, onLine: (l, s) => s === 'stderr' && o.onStderr?.(l) });
      } catch (e) {
        throw explainToolError(e, 'mongodump');
      }
    },
    async restore(args, input, o) {
      ctx.log.debug(`run: ${bin('mongorestore')} ${args(configPath).join(' ')}`);
      try {
        await ctx.exec(bin('mongorestore'), args(configPath), { input, timeoutMs: o.timeoutMs, signal: o.signal, onLine: (l, s) => s === 'stderr' && o.onStderr?.(l) });
      } catch (e) {
        throw explainToolError(e, 'mongorestore');
      }
    },
    async mongosh(script, o) {
      try {
        const r = await ctx.exec(bin('mongosh'), mongoshArgs(), { input: script(configPath), stdout: 'capture', timeoutMs: o.timeoutMs, signal: o.signal, quietStderr: true });
        return r.stdout;
      } catch (e) {
        throw explainToolError(e, 'mongosh');
      }
    },
    async mongoshFile(script, o) {
      const file = path.join(dir, `script-${rid()}.js`);
      fs.writeFileSync(file, script(configPath), { mode: 0o600 });
      try {
        ctx.log.debug(`run: ${bin('mongosh')} ${mongoshFileArgs(file).join(' ')}`);
        const r = await ctx.exec(bin('mongosh'), mongoshFileArgs(file), { stdout: 'capture', timeoutMs: o.timeoutMs, signal: o.signal, quietStderr: true });
        return r.stdout;
      } catch (e) {
        throw explainToolError(e, 'mongosh');
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
    async toolVersion(tool) {
      try {
        const r = await ctx.exec(bin(tool), ['--version'], { stdout: 'capture', quietStderr: true, timeoutMs: 60_000 });
        return parseToolVersion(r.stdout);
      } catch (e) {
        if (e instanceof PreconditionError) throw e;
        return undefined;
      }
    },
    async cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
      return undefined;
    },
  };
}

/** An RBAC denial, from kubectl's `Error from server (Forbidden): … User "u" cannot <verb> resource "<r>" …`. */
export function rbacDenial(text: string): string | undefined {
  const m = /User "([^"]*)" cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(text);
  if (!m) return undefined;
  const [, user, verb, resource, group, ns] = m;
  const sub = /exec|attach/.test(resource) ? resource : resource;
  return `missing RBAC permission: verb \`${verb}\` on \`${sub}\`${group ? ` (API group ${group})` : ''}${ns ? ` in namespace ${ns}` : ''} for user ${user}`;
}

interface PodJson {
  metadata?: { name?: string };
  spec?: { containers?: { name: string }[] };
  status?: { phase?: string; containerStatuses?: { name: string; ready?: boolean }[] };
}

/** The tools inside a pod, through kubectl exec. Resolves the pod and checks RBAC; writes no file yet. */
export async function kubectlPlace(
  ep: Extract<MongoEndpoint, { place: 'kubectl-exec' }>,
  kube: { kubeconfig: string; context?: string },
  ctx: RunContext,
): Promise<ToolPlace> {
  const kubectl = findTool('kubectl', 'set up kubectl first (tool setup with tools: kubectl)');
  const kdir = fs.mkdtempSync(path.join(ctx.tempDir, 'kube-'));
  fs.chmodSync(kdir, 0o700);
  const kubeconfigFile = path.join(kdir, 'config');
  fs.writeFileSync(kubeconfigFile, kube.kubeconfig, { mode: 0o600 });
  const target: KubeTarget = { kubeconfig: kubeconfigFile, context: kube.context, namespace: ep.pod.namespace };
  const kexec = (args: string[], o: Parameters<RunContext['exec']>[2] = {}): ReturnType<RunContext['exec']> => {
    ctx.log.debug(`run: ${kubectl} ${args.join(' ')}`);
    return ctx.exec(kubectl, args, { label: 'kubectl', env: { KUBECONFIG: kubeconfigFile }, timeoutMs: 120_000, ...o });
  };
  const rbac = (e: unknown): unknown => {
    if (e instanceof ToolError) {
      const d = rbacDenial(e.stderrTail.join('\n'));
      if (d) return new PreconditionError(`kubectl: ${d}`);
    }
    return e;
  };

  // 1. the pod
  let pods: PodJson[];
  try {
    const r = await kexec(kubectlGetPodsArgs(target, ep.pod), { stdout: 'capture', quietStderr: true });
    const doc = JSON.parse(r.stdout) as PodJson & { items?: PodJson[] };
    pods = doc.items ?? [doc];
  } catch (e) {
    const err = rbac(e);
    if (err !== e) throw err;
    const tail = e instanceof ToolError ? e.stderrTail.join('\n') : '';
    if (/NotFound|not found/i.test(tail)) {
      throw new InputError(ep.inputs.pod, `pod '${ep.pod.name}' not found in namespace ${ep.pod.namespace} (check ${ep.inputs.pod} and ${ep.inputs.namespace})`);
    }
    throw e instanceof StackHubError ? e : new StackHubError(`kubectl get pods failed: ${(e as Error).message}`);
  }
  const running = pods.filter((p) => p.status?.phase === 'Running').sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (running.length === 0) {
    throw new InputError(
      ep.inputs.pod,
      ep.pod.name
        ? `pod '${ep.pod.name}' in namespace ${ep.pod.namespace} is not running (${pods[0]?.status?.phase ?? 'unknown'})`
        : `no running pod matches '${ep.pod.selector}' in namespace ${ep.pod.namespace} (check ${ep.inputs.pod} and ${ep.inputs.namespace}: does the namespace exist?)`,
    );
  }
  const pod = running[0];
  const podName = pod.metadata!.name!;
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  if (ep.pod.container && !containers.includes(ep.pod.container)) {
    throw new InputError('podContainer', `pod ${podName} has no container '${ep.pod.container}' (it has ${containers.join(', ') || 'none'})`);
  }
  const container = ep.pod.container;

  // 2. RBAC for exec
  try {
    const r = await kexec(kubectlCanIExecArgs(target), { stdout: 'capture', quietStderr: true, okExitCodes: [0, 1] });
    if (r.stdout.trim().toLowerCase().startsWith('no')) {
      throw new PreconditionError(`kubectl: missing RBAC permission: verb \`create\` on \`pods/exec\` in namespace ${ep.pod.namespace} (kubectl-exec needs it; grant it to the kubeconfig's user, e.g. a Role with resources: [pods/exec], verbs: [create])`);
    }
  } catch (e) {
    throw rbac(e);
  }

  const where = `pod ${ep.pod.namespace}/${podName}${container ? ` [${container}]` : ''}`;
  const execIn = (stdin: boolean, command: string[]): string[] => kubectlExecArgs(target, podName, container, stdin, command);
  let podDir: string | undefined;
  let configPath: string | undefined = 'configPath' in ep.config ? ep.config.configPath : undefined;

  // 3. the config file in the pod (lazily, right before the first tool run)
  const ensureDir = async (): Promise<string> => {
    if (podDir) return podDir;
    if (!configPath) {
      await ensureConfig();
      return podDir!;
    }
    try {
      const r = await kexec(execIn(false, POD_MKTEMP), { stdout: 'capture', quietStderr: true });
      const dir = r.stdout.trim().split('\n').pop() ?? '';
      podRemoveDir(dir); // validates the shape
      podDir = dir;
      return dir;
    } catch (e) {
      throw rbac(e);
    }
  };
  const ensureConfig = async (): Promise<string> => {
    if (configPath) return configPath;
    const { uri } = ep.config as { uri: import('./args').MongoUri };
    if (uri.password) ctx.mask(uri.password);
    try {
      const r = await kexec(execIn(true, POD_WRITE_CONFIG), { input: toolConfigYaml(uri), stdout: 'capture', quietStderr: true });
      const dir = r.stdout.trim().split('\n').pop() ?? '';
      podRemoveDir(dir); // validates the shape
      podDir = dir;
    } catch (e) {
      throw rbac(e);
    }
    configPath = `${podDir}/config.yaml`;
    return configPath;
  };

  return {
    description: where,
    source: { place: 'kubectl-exec', namespace: ep.pod.namespace, pod: podName, container, ...('uri' in ep.config ? { hosts: ep.config.uri.hosts } : { configPath: ep.config.configPath }) },
    async dump(args, out, o) {
      const cfg = await ensureConfig();
      try {
        await kexec(execIn(false, ['mongodump', ...args(cfg)]), { stdout: 'pipe', stdoutTo: out, timeoutMs: o.timeoutMs, signal: o.signal, onLine: (l, s) => s === 'stderr' && o.onStderr?.(l) });
      } catch (e) {
        throw explainToolError(rbac(e), 'mongodump');
      }
    },
    async restore(args, input, o) {
      const cfg = await ensureConfig();
      try {
        await kexec(execIn(true, ['mongorestore', ...args(cfg)]), { input, timeoutMs: o.timeoutMs, signal: o.signal, onLine: (l, s) => s === 'stderr' && o.onStderr?.(l) });
      } catch (e) {
        throw explainToolError(rbac(e), 'mongorestore');
      }
    },
    async mongosh(script, o) {
      const cfg = await ensureConfig();
      try {
        const r = await kexec(execIn(true, ['mongosh', ...mongoshArgs()]), { input: script(cfg), stdout: 'capture', timeoutMs: o.timeoutMs, signal: o.signal, quietStderr: true });
        return r.stdout;
      } catch (e) {
        throw explainToolError(rbac(e), 'mongosh');
      }
    },
    async mongoshFile(script, o) {
      const cfg = await ensureConfig();
      const dir = await ensureDir();
      const file = `${dir}/script-${rid()}.js`;
      try {
        await kexec(execIn(true, podWriteFile(file)), { input: script(cfg), quietStderr: true });
        const r = await kexec(execIn(false, ['mongosh', ...mongoshFileArgs(file)]), { stdout: 'capture', timeoutMs: o.timeoutMs, signal: o.signal, quietStderr: true });
        return r.stdout;
      } catch (e) {
        throw explainToolError(rbac(e), 'mongosh');
      } finally {
        await kexec(execIn(false, podRemoveDir(file)), { quietStderr: true }).catch(() => undefined);
      }
    },
    async toolVersion(tool) {
      try {
        const r = await kexec(execIn(false, [tool, '--version']), { stdout: 'capture', quietStderr: true });
        return parseToolVersion(r.stdout);
      } catch (e) {
        const err = rbac(e);
        if (err !== e) throw err;
        return undefined;
      }
    },
    async cleanup() {
      if (!podDir) return undefined;
      try {
        await kexec(execIn(false, podRemoveDir(podDir)), { quietStderr: true });
        podDir = undefined;
        return undefined;
      } catch (e) {
        return `could not remove the config dir ${podDir} from ${where}: ${(e as Error).message}`;
      }
    },
  };
}

/** Opens the place for an endpoint. */
export async function openPlace(ep: MongoEndpoint, kube: { kubeconfig: string; context?: string } | undefined, ctx: RunContext): Promise<ToolPlace> {
  if (ep.place === 'agent') return agentPlace(ep, ctx);
  if (!kube) throw new Error('bug: kubectl-exec without kubeconfig');
  return kubectlPlace(ep, kube, ctx);
}

/** A random id for temp names. */
export function rid(): string {
  return randomBytes(4).toString('hex');
}
