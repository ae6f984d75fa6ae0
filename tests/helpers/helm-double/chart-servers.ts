/**
 * Local chart sources for the REAL helm: an OCI registry (distribution API v2: /v2/, manifests, blobs, tags; Basic
 * auth; HTTPS with a throwaway CA) holding helm charts the way `helm push` stores them, and a classic chart
 * repository (index.yaml + .tgz, Basic auth). Both on 127.0.0.1, port 0; every request is recorded.
 */
import * as crypto from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import YAML from 'yaml';
import { startHttpServer, type TestServer } from '../servers';
import type { ServerCert } from '../tls';

/**
 * HTTPS and plain HTTP on ONE port of 127.0.0.1 (the first byte of a connection picks: 0x16 starts a TLS
 * handshake). helm 3 talks TLS to a loopback registry for `registry login` but plain HTTP for pulls (its resolver
 * treats loopback hosts as plain-HTTP registries); helm 4 uses TLS for both.
 */
async function startDualServer(handler: http.RequestListener, tls: ServerCert): Promise<TestServer> {
  const httpsServer = https.createServer({ key: tls.keyPem, cert: tls.certPem }, handler);
  const httpServer = http.createServer(handler);
  httpsServer.on('tlsClientError', () => undefined);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (!first) return;
      socket.unshift(first);
      (first[0] === 0x16 ? httpsServer : httpServer).emit('connection', socket);
    });
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  const port = (front.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    server: httpsServer as unknown as http.Server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        front.close(() => resolve());
      })),
  };
}

/** A packaged chart to serve. */
export interface ServedChart {
  /** repository path in the registry, e.g. charts/ratings */
  repo: string;
  name: string;
  version: string;
  appVersion?: string;
  tgz: string;
}

/** A running chart server. */
export interface ChartServer extends TestServer {
  requests: { method: string; path: string; auth?: string }[];
}

const sha = (b: Buffer | string): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

function basicOk(req: http.IncomingMessage, creds?: { user: string; pass: string }): boolean {
  if (!creds) return true;
  return req.headers.authorization === `Basic ${Buffer.from(`${creds.user}:${creds.pass}`).toString('base64')}`;
}

/** An OCI registry serving helm charts. */
export async function startOciRegistry(charts: ServedChart[], opts: { tls: ServerCert; auth?: { user: string; pass: string } }): Promise<ChartServer> {
  const blobs = new Map<string, { body: Buffer; type: string }>();
  const manifests = new Map<string, { body: Buffer; digest: string }>();
  for (const c of charts) {
    const layer = fs.readFileSync(c.tgz);
    const config = Buffer.from(JSON.stringify({ name: c.name, version: c.version, ...(c.appVersion ? { appVersion: c.appVersion } : {}), apiVersion: 'v2' }));
    blobs.set(sha(layer), { body: layer, type: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip' });
    blobs.set(sha(config), { body: config, type: 'application/vnd.cncf.helm.config.v1+json' });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: sha(layer), size: layer.length, annotations: { 'org.opencontainers.image.title': `${c.name}-${c.version}.tgz` } }],
        annotations: { 'org.opencontainers.image.title': c.name, 'org.opencontainers.image.version': c.version },
      }),
    );
    manifests.set(`${c.repo}:${c.version}`, { body: manifest, digest: sha(manifest) });
    manifests.set(`${c.repo}@${sha(manifest)}`, { body: manifest, digest: sha(manifest) });
  }
  const requests: ChartServer['requests'] = [];
  const server = await startDualServer(
    (req, res) => {
      const url = (req.url ?? '').split('?')[0];
      requests.push({ method: req.method ?? '', path: url, auth: req.headers.authorization });
      if (!basicOk(req, opts.auth)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test-registry"', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      if (url === '/v2/' || url === '/v2') {
        res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
        return;
      }
      let m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url);
      if (m) {
        const ref = m[2].startsWith('sha256:') ? `${m[1]}@${m[2]}` : `${m[1]}:${m[2]}`;
        const man = manifests.get(ref);
        if (!man) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': man.digest, 'content-length': man.body.length });
        res.end(req.method === 'HEAD' ? undefined : man.body);
        return;
      }
      m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]+)$/.exec(url);
      if (m && blobs.has(m[2])) {
        const b = blobs.get(m[2])!;
        res.writeHead(200, { 'content-type': b.type, 'docker-content-digest': m[2], 'content-length': b.body.length });
        res.end(req.method === 'HEAD' ? undefined : b.body);
        return;
      }
      m = /^\/v2\/(.+)\/tags\/list$/.exec(url);
      if (m) {
        const tags = charts.filter((c) => c.repo === m![1]).map((c) => c.version);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: m[1], tags }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'not found' }] }));
    },
    opts.tls,
  );
  return Object.assign(server, { requests });
}

/** A classic chart repository (index.yaml + packaged charts). */
export async function startChartRepo(charts: ServedChart[], opts: { tls?: ServerCert; auth?: { user: string; pass: string } } = {}): Promise<ChartServer> {
  const requests: ChartServer['requests'] = [];
  let base = '';
  const server = await startHttpServer(
    (req, res) => {
      const url = (req.url ?? '').split('?')[0];
      requests.push({ method: req.method ?? '', path: url, auth: req.headers.authorization });
      if (!basicOk(req, opts.auth)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end('unauthorized');
        return;
      }
      if (url === '/index.yaml') {
        const entries: Record<string, unknown[]> = {};
        for (const c of charts) {
          (entries[c.name] ??= []).push({
            apiVersion: 'v2',
            name: c.name,
            version: c.version,
            ...(c.appVersion ? { appVersion: c.appVersion } : {}),
            urls: [`${base}/charts/${path.basename(c.tgz)}`],
            digest: crypto.createHash('sha256').update(fs.readFileSync(c.tgz)).digest('hex'),
            created: '2025-01-01T00:00:00Z',
          });
        }
        res.writeHead(200, { 'content-type': 'application/x-yaml' }).end(YAML.stringify({ apiVersion: 'v1', entries, generated: '2025-01-01T00:00:00Z' }));
        return;
      }
      const c = charts.find((x) => url === `/charts/${path.basename(x.tgz)}`);
      if (c) {
        res.writeHead(200, { 'content-type': 'application/gzip' }).end(fs.readFileSync(c.tgz));
        return;
      }
      res.writeHead(404).end('not found');
    },
    opts.tls ? { tls: { key: opts.tls.keyPem, cert: opts.tls.certPem } } : {},
  );
  base = server.url;
  return Object.assign(server, { requests });
}
