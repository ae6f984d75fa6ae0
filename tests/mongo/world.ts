/**
 * A test world for Mongo backup: fake MongoDB servers and a fake cluster for the executable doubles in
 * tests/helpers/mongo-doubles, age keys, signing keys, a recorded-argv log, and an in-process platform to run the
 * capability through the real frame (runCapability).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { AnyCapability } from '../../src/platform/capability';
import { MaskingLogger } from '../../src/platform/logger';
import { runCapability } from '../../src/platform/run';
import type { KubernetesConnection, Platform } from '../../src/platform/types';
import { Masker } from '../../src/shared/mask';
import { generateKeyPair } from '../../src/shared/signing';

export const DOUBLES = path.resolve(__dirname, '..', 'helpers', 'mongo-doubles');

/** A fake MongoDB server's state (see tests/helpers/mongo-doubles/lib.js). */
export interface ServerState {
  users: Record<string, { password: string; roles: string[] }>;
  databases: Record<string, Record<string, { count: number; bytes: number }>>;
  failAfterBytes?: number;
  pauseAtBytes?: number;
  pauseDir?: string;
  countSkew?: number;
}

/** Default data: two user databases plus admin users. */
export function sampleData(scale = 1): ServerState['databases'] {
  return {
    admin: { 'system.users': { count: 2, bytes: 512 }, 'system.version': { count: 1, bytes: 64 } },
    ratings: { reviews: { count: 1200, bytes: 300_000 * scale }, products: { count: 40, bytes: 20_000 * scale }, audit: { count: 7, bytes: 3_000 } },
    shop: { orders: { count: 55, bytes: 50_000 * scale } },
  };
}

/** The test world. */
export class World {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-world-'));
  readonly servers = path.join(this.dir, 'servers');
  readonly log = path.join(this.dir, 'argv.log');
  readonly clusterState = path.join(this.dir, 'cluster.json');
  readonly podRoot = path.join(this.dir, 'pod-root');
  readonly scratchPodRoot = path.join(this.dir, 'scratch-pod-root');
  /** Marker secrets: if any appears where it must not, a test fails. */
  readonly password = `pw-MARKER-${Math.random().toString(36).slice(2, 10)}`;
  readonly scratchPassword = `pw-SCRATCH-${Math.random().toString(36).slice(2, 10)}`;
  identity = '';
  recipient = '';
  otherIdentity = '';
  readonly signing = generateKeyPair();
  readonly otherSigning = generateKeyPair();
  readonly kubeconfig = `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    token-MARKER: x\nusers:\n- name: u\n  user:\n    token: kube-TOKEN-MARKER-${Math.random().toString(36).slice(2, 10)}\ncontexts:\n- name: site-a\n  context: {cluster: c, user: u}\ncurrent-context: site-a\n`;

  constructor() {
    fs.mkdirSync(this.servers, { recursive: true });
    fs.mkdirSync(this.podRoot, { recursive: true });
    fs.mkdirSync(this.scratchPodRoot, { recursive: true });
    fs.writeFileSync(this.log, '');
    this.server('mongo-a:27017', { users: { backup: { password: this.password, roles: ['backup', 'restore', 'root'] }, reader: { password: this.password, roles: ['read'] } }, databases: sampleData() });
    this.server('scratch:27017', { users: { drill: { password: this.scratchPassword, roles: ['root'] } }, databases: {} });
    this.cluster({});
  }

  async init(): Promise<this> {
    this.identity = await generateX25519Identity();
    this.recipient = await identityToRecipient(this.identity);
    this.otherIdentity = await generateX25519Identity();
    return this;
  }

  /** Writes a fake server's state. */
  server(host: string, state: ServerState): void {
    fs.writeFileSync(path.join(this.servers, `${host.replace(/[^A-Za-z0-9.-]/g, '_')}.json`), JSON.stringify(state, null, 2));
  }

  /** Reads a fake server's state. */
  state(host: string): ServerState {
    return JSON.parse(fs.readFileSync(path.join(this.servers, `${host.replace(/[^A-Za-z0-9.-]/g, '_')}.json`), 'utf8')) as ServerState;
  }

  /** Changes a server's state. */
  patch(host: string, change: (s: ServerState) => void): void {
    const s = this.state(host);
    change(s);
    this.server(host, s);
  }

  /** Writes the fake cluster: namespace `ratings`, pods mongo-0 (app=mongo) and scratch-0 (app=scratch). */
  cluster(opts: { exec?: boolean; list?: boolean }): void {
    fs.writeFileSync(
      this.clusterState,
      JSON.stringify({
        user: 'system:serviceaccount:ci:deployer',
        rbac: { exec: opts.exec ?? true, list: opts.list ?? true },
        namespaces: {
          ratings: {
            pods: [
              { name: 'mongo-0', labels: { app: 'mongo' }, phase: 'Running', containers: ['mongodb', 'exporter'], root: this.podRoot, servers: this.servers },
              { name: 'mongo-1', labels: { app: 'mongo' }, phase: 'Pending', containers: ['mongodb'], root: this.podRoot, servers: this.servers },
              { name: 'scratch-0', labels: { app: 'scratch' }, phase: 'Running', containers: ['mongodb'], root: this.scratchPodRoot, servers: this.servers },
            ],
          },
        },
      }),
    );
  }

  uri(user = 'backup', host = 'mongo-a:27017'): string {
    return `mongodb://${user}:${encodeURIComponent(user === 'drill' ? this.scratchPassword : this.password)}@${host}/?authSource=admin`;
  }

  /** Recorded runs of the doubles. */
  records(): { tool: string; argv: string[]; stdinBytes?: number; ok?: boolean }[] {
    return fs
      .readFileSync(this.log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool: string; argv: string[] });
  }

  clearRecords(): void {
    fs.writeFileSync(this.log, '');
  }

  /** Environment for runs: the doubles first on PATH, the fake servers and cluster. */
  env(): Record<string, string> {
    return {
      PATH: `${DOUBLES}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      MONGO_DOUBLE_SERVERS: this.servers,
      MONGO_DOUBLES_LOG: this.log,
      KUBECTL_DOUBLE_STATE: this.clusterState,
    };
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An in-process platform that records everything (for running the capability through the real frame). */
export class TestPlatform implements Platform {
  readonly name: 'cli' | 'azure-pipelines' = 'cli';
  readonly masker = new Masker();
  readonly lines: string[] = [];
  readonly outputs: Record<string, string> = {};
  summary = '';
  failed?: string;
  succeeded = false;
  readonly log: MaskingLogger;
  readonly paths: { agentTemp: string; toolCache: string };
  constructor(
    private readonly inputs: Record<string, string>,
    agentTemp: string,
    readonly debug = false,
    private readonly kube?: KubernetesConnection,
  ) {
    this.log = new MaskingLogger(
      {
        info: (l) => this.lines.push(l),
        debug: (l) => this.lines.push(`debug: ${l}`),
        warning: (l) => this.lines.push(`warning: ${l}`),
        error: (l) => this.lines.push(`error: ${l}`),
        startGroup: (n) => this.lines.push(`group: ${n}`),
        endGroup: () => undefined,
      },
      this.masker,
      debug,
    );
    this.paths = { agentTemp, toolCache: path.join(agentTemp, 'tools') };
  }
  input(n: string): string | undefined {
    const v = this.inputs[n];
    return v === undefined || v === '' ? undefined : v;
  }
  kubernetesConnection(): KubernetesConnection | undefined {
    return this.kube;
  }
  azureRmConnection(): undefined {
    return undefined;
  }
  mask(s: string): void {
    this.masker.add(s);
  }
  setOutput(n: string, v: string): void {
    this.outputs[n] = v;
  }
  setVariable(): void {}
  addPath(): void {}
  async writeSummary(_t: string, md: string): Promise<void> {
    this.summary = md;
  }
  setFailed(m: string): void {
    this.failed = m;
  }
  setSucceeded(): void {
    this.succeeded = true;
  }
  agentProxy(): undefined {
    return undefined;
  }
  agentTls(): Record<string, never> {
    return {};
  }
  /** Everything the run wrote, for secret checks. */
  get text(): string {
    return [...this.lines, this.summary, this.failed ?? '', JSON.stringify(this.outputs)].join('\n');
  }
}

/** Runs a capability in-process with the given inputs; PATH and the doubles' variables come from `env`. */
export async function runInProcess(
  cap: AnyCapability,
  inputs: Record<string, string>,
  env: Record<string, string>,
  opts: { debug?: boolean; agentTemp?: string; kube?: KubernetesConnection } = {},
): Promise<TestPlatform> {
  const agentTemp = opts.agentTemp ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mongo-agent-'));
  const p = new TestPlatform(inputs, agentTemp, opts.debug, opts.kube);
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    await runCapability(p, cap, p.masker);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.exitCode = 0;
  }
  return p;
}
