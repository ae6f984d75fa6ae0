/**
 * Helpers of the traffic tests: a RunContext that records what the core logs and summarises, a health-probe server
 * whose per-site answers a test scripts, and sites files.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunContext } from '../../src/platform/capability';
import { MaskingLogger } from '../../src/platform/logger';
import { Summary } from '../../src/platform/summary';
import type { AgentTls, AzureRmConnection, KubernetesConnection, Platform, ProxySettings } from '../../src/platform/types';
import { exec } from '../../src/shared/exec';
import { Masker } from '../../src/shared/mask';
import { parseSites, type SitesFile } from '../../src/shared/sites';
import { startHttpServer, type TestServer } from '../helpers/servers';

/** A RunContext for the core, with everything it logs. */
export interface TestContext extends RunContext {
  lines: string[];
  masker: Masker;
  summary: Summary;
  cleanup(): void;
}

/** Builds a test RunContext. `connections` answers platform.azureRmConnection(input). */
export function testContext(opts: { connections?: Record<string, AzureRmConnection>; proxy?: ProxySettings } = {}): TestContext {
  const masker = new Masker();
  const lines: string[] = [];
  const log = new MaskingLogger(
    {
      info: (l) => lines.push(l),
      debug: (l) => lines.push(`debug: ${l}`),
      warning: (l) => lines.push(`warning: ${l}`),
      error: (l) => lines.push(`error: ${l}`),
      startGroup: (n) => lines.push(`group: ${n}`),
      endGroup: () => undefined,
    },
    masker,
    true,
  );
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-ctx-'));
  fs.chmodSync(tempDir, 0o700);
  const platform: Platform = {
    name: 'cli',
    log,
    paths: { agentTemp: tempDir, toolCache: path.join(tempDir, 'tools') },
    debug: true,
    input: () => undefined,
    kubernetesConnection: (): KubernetesConnection | undefined => undefined,
    azureRmConnection: (n: string) => opts.connections?.[n],
    mask: (s: string) => void masker.add(s),
    setOutput: () => undefined,
    setVariable: () => undefined,
    addPath: () => undefined,
    writeSummary: async () => undefined,
    setFailed: () => undefined,
    setSucceeded: () => undefined,
    agentProxy: () => opts.proxy,
    agentTls: (): AgentTls => ({}),
  };
  const summary = new Summary();
  return {
    platform,
    log,
    tempDir,
    masker,
    summary,
    lines,
    mask: (s) => void masker.add(s),
    secretFile: () => {
      throw new Error('not used');
    },
    exec: (file, args, o) => exec(file, args, { log, masker, ...o }),
    cleanup: () => fs.rmSync(tempDir, { recursive: true, force: true }),
  };
}

/** A health-probe server: GET /<site>/healthz answers `status[site]` (default 200); every request is recorded. */
export interface ProbeServer extends TestServer {
  status: Record<string, number>;
  requests: string[];
  /** Called before answering (e.g. to let another operation run first). */
  beforeAnswer?: (site: string) => Promise<void>;
  probeUrl(site: string): string;
}

export async function startProbeServer(tlsOpts?: { key: string; cert: string }): Promise<ProbeServer> {
  // eslint-disable-next-line prefer-const -- assigned after the handler that closes over it is created
  let probe: ProbeServer;
  const server = await startHttpServer(
    (req: http.IncomingMessage, res: http.ServerResponse) => {
      const site = (req.url ?? '/').split('/')[1] ?? '';
      probe.requests.push(req.url ?? '');
      void (async () => {
        if (probe.beforeAnswer) await probe.beforeAnswer(site);
        const code = probe.status[site] ?? 200;
        res.writeHead(code, { 'content-type': 'text/plain' }).end(code < 400 ? 'ok' : 'down');
      })();
    },
    tlsOpts ? { tls: tlsOpts } : {},
  );
  probe = Object.assign(server, {
    status: {} as Record<string, number>,
    requests: [] as string[],
    beforeAnswer: undefined as ProbeServer['beforeAnswer'],
    probeUrl: (site: string) => `${server.url}/${site}/healthz`,
  });
  return probe;
}

/** A sites file (parsed) with a traffic block per site. */
export function sitesOf(sites: { name: string; endpoint?: string; target?: string; probeUrl?: string; resolvers?: string[]; armEndpoint?: string; domain?: string }[]): SitesFile {
  return parseSites(
    {
      sites: sites.map((s) => ({
        name: s.name,
        ...(s.armEndpoint ? { hub: { armEndpoint: s.armEndpoint, domain: s.domain ?? `${s.name}.contoso.test` } } : {}),
        traffic: {
          ...(s.endpoint ? { endpoint: s.endpoint } : {}),
          ...(s.target ? { target: s.target } : {}),
          ...(s.probeUrl ? { probeUrl: s.probeUrl } : {}),
          ...(s.resolvers ? { resolvers: s.resolvers } : {}),
        },
      })),
    },
    'sitesFile',
  );
}

/** Writes a sites file as YAML-compatible JSON and returns its path. */
export function writeSitesFile(dir: string, doc: unknown, name = 'sites.json'): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify(doc, null, 2));
  return f;
}

/** Asserts that a promise rejects and returns the error. */
export async function rejects(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}
