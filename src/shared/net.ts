/**
 * The network of a run, built once by the frame (src/platform/run.ts) from the platform and handed to every client
 * as `ctx.net`: the proxy for a URL (the ADO agent's proxy, else HTTPS_PROXY/HTTP_PROXY with NO_PROXY incl. CIDR;
 * proxy passwords masked), the extra trusted CAs (the agent's Agent.CAInfo plus whatever a capability adds with
 * {@link Net.withCa}), and a Node agent for a URL that applies both (a CONNECT tunnel with Proxy-Authorization for
 * https, an absolute-URI proxy for http; the CAs always apply to the TARGET's TLS). The SDKs (S3, Blob) get these
 * agents, so no SDK reads the proxy from the environment on its own and a CA never makes the proxy step aside.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';

import type { Platform, ProxySettings } from '../types';
import { readCaFile } from './ca';
import { defaultRoots, proxyFromEnv } from './proxy-env';

/** The network settings every outbound call of a run uses. */
export interface Net {
  /** Proxy for a URL, or undefined for a direct connection. Passwords are registered with the masker. */
  proxyFor(url: URL): ProxySettings | undefined;
  /** Extra trusted CA certificates (PEM), added to Node's default roots for these calls only. */
  readonly ca: string[];
  /** The same network trusting `extra` CAs too (a capability's `caCertificate` input). Empty/undefined = this. */
  withCa(extra?: readonly string[]): Net;
  /**
   * A Node agent for `url` (keep-alive, cached per proxy and scheme): through the proxy when {@link proxyFor} names
   * one, trusting {@link ca} on the target's TLS. For SDKs that take an agent (S3, Azure Blob).
   */
  agentFor(url: URL | string): http.Agent;
  /** The options src/shared/http.ts and the Azure Stack clients take (`ca`, `proxyFor`). */
  http(): { ca: string[] | undefined; proxyFor: (url: URL) => ProxySettings | undefined };
  /** Destroys the agents handed out (idle keep-alive sockets). */
  close(): void;
}

/** Options of {@link createNet}. */
export interface NetOptions {
  /** The platform's proxy for a URL (ADO agent proxy); undefined = fall back to the environment. */
  agentProxy?: (url: string) => ProxySettings | undefined;
  /** Extra trusted CAs (PEM). */
  ca?: readonly string[];
  /** Environment for HTTPS_PROXY/NO_PROXY (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Registers a secret (the proxy password). */
  mask?: (secret: string) => void;
}

/** Builds a {@link Net}. Without options: the environment's proxy, Node's roots. */
export function createNet(opts: NetOptions = {}): Net {
  const env = opts.env ?? process.env;
  const proxyFor = (url: URL): ProxySettings | undefined => {
    const p = opts.agentProxy?.(url.href) ?? proxyFromEnv(url, env);
    if (p?.password) opts.mask?.(p.password);
    return p;
  };
  return makeNet(proxyFor, [...(opts.ca ?? [])]);
}

/**
 * The frame's network for a platform: its agent proxy (else the environment) and its agent CA file (ADO
 * Agent.CAInfo), read once. A CA file that cannot be read is an error naming Agent.CAInfo.
 */
export function netFromPlatform(platform: Platform, mask: (secret: string) => void, env: NodeJS.ProcessEnv = process.env): Net {
  const caFile = platform.agentTls().caFile;
  const ca = caFile && fs.existsSync(caFile) ? readCaFile(caFile, 'Agent.CAInfo') : [];
  return createNet({ agentProxy: (u) => platform.agentProxy(u), ca, env, mask });
}

const fallback = new WeakMap<object, Net>();

/**
 * `ctx.net`, for a context that a test (or an older caller) built without one: then the platform's network, built
 * once per context.
 */
export function netOf(ctx: { readonly net?: Net; readonly platform: Platform; mask(secret: string): void }): Net {
  if (ctx.net) return ctx.net;
  let n = fallback.get(ctx);
  if (!n) fallback.set(ctx, (n = netFromPlatform(ctx.platform, (s) => ctx.mask(s))));
  return n;
}

/**
 * https-proxy-agent applies only the REQUEST's options to the target's TLS (it resets the agent's own options), so
 * an SDK request would reach the target without our CA: this one adds the trust options to every target handshake.
 */
class TrustingHttpsProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: URL,
    opts: ConstructorParameters<typeof HttpsProxyAgent>[1],
    private readonly targetTls: { ca?: string[] },
  ) {
    super(proxy.href, opts);
  }

  override connect(req: http.ClientRequest, opts: Parameters<HttpsProxyAgent<string>['connect']>[1]): ReturnType<HttpsProxyAgent<string>['connect']> {
    return super.connect(req, (opts.secureEndpoint ? { ...opts, ...this.targetTls, rejectUnauthorized: true } : opts) as typeof opts);
  }
}

function proxyUrl(p: ProxySettings): URL {
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(p.url) ? p.url : `http://${p.url}`);
  if (p.username !== undefined) u.username = encodeURIComponent(p.username);
  if (p.password !== undefined) u.password = encodeURIComponent(p.password);
  return u;
}

function makeNet(proxyFor: (url: URL) => ProxySettings | undefined, ca: string[]): Net {
  const agents = new Map<string, http.Agent>();
  const children: Net[] = [];
  // No extra CA: leave `ca` unset so Node's defaults (including NODE_EXTRA_CA_CERTS) apply unchanged.
  const trust = (): { ca?: string[] } => (ca.length > 0 ? { ca: [...defaultRoots(), ...ca] } : {});
  const self: Net = {
    proxyFor,
    ca,
    withCa(extra) {
      const more = (extra ?? []).filter((pem) => pem.trim() !== '' && !ca.includes(pem));
      if (more.length === 0) return self;
      const child = makeNet(proxyFor, [...ca, ...more]);
      children.push(child);
      return child;
    },
    agentFor(raw) {
      const url = typeof raw === 'string' ? new URL(raw) : raw;
      const secure = url.protocol === 'https:';
      const p = proxyFor(url);
      const key = `${secure ? 's' : ''}|${p ? proxyUrl(p).href : ''}`;
      let agent = agents.get(key);
      if (agent) return agent;
      const common = { keepAlive: true, maxSockets: 16 };
      if (p && secure) agent = new TrustingHttpsProxyAgent(proxyUrl(p), common, trust());
      else if (p) agent = new HttpProxyAgent(proxyUrl(p), common);
      else if (secure) agent = new https.Agent({ ...common, ...trust() });
      else agent = new http.Agent(common);
      agents.set(key, agent);
      return agent;
    },
    http() {
      return { ca: ca.length > 0 ? ca : undefined, proxyFor };
    },
    close() {
      for (const a of agents.values()) a.destroy();
      agents.clear();
      for (const c of children) c.close();
    },
  };
  return self;
}
