/**
 * The example chart (pipelines/charts/ratings) passes the release preflight's checks with each site's values from
 * pipelines/sites.yaml, with the REAL helm 3.17 and helm 4.1: `helm lint --strict`, `helm template` at the site's
 * kubeVersion and namespace, no Service of type LoadBalancer, every image from the allowed internal registries, the
 * ingress class a value (not the retired ingress-nginx), certificates from cert-manager with a CA or Vault issuer and
 * never ACME.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { layer, type Layer } from '../helpers/tool-fixtures';
import { ROOT, readYaml } from './helpers/manifests';
import { examplePipelineSettings, expandExample } from './helpers/example';

const CHART = path.join(ROOT, 'pipelines', 'charts', 'ratings');
const SITES_FILE = path.join(ROOT, 'pipelines', 'sites.yaml');

interface Site {
  name: string;
  values?: string[];
  cluster?: { namespace?: string; kubeVersion?: string };
}

type Doc = { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> } & Record<string, unknown>;

/** Whether an image reference comes from one of the allowed registries (hosts, `*.domain`, or host/path prefixes). */
export function imageAllowed(image: string, allowed: string[]): boolean {
  const first = image.split('/')[0];
  const host = image.includes('/') && /[.:]|^localhost$/.test(first) ? first : 'docker.io';
  const full = host === 'docker.io' && !image.startsWith('docker.io/') ? `docker.io/${image}` : image;
  return allowed.some((a) => {
    if (a.startsWith('*.')) return host.endsWith(a.slice(1));
    if (a.includes('/')) return full.startsWith(a.endsWith('/') ? a : `${a}/`);
    return host === a;
  });
}

/** Every container image of rendered manifests. */
export function imagesOf(docs: Doc[]): string[] {
  const out: string[] = [];
  const visit = (n: unknown, key?: string): void => {
    if (Array.isArray(n)) n.forEach((x) => visit(x, key));
    else if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if ((key === 'containers' || key === 'initContainers' || key === 'ephemeralContainers') && typeof o.image === 'string') out.push(o.image);
      for (const [k, v] of Object.entries(o)) visit(v, k);
    }
  };
  docs.forEach((d) => visit(d));
  return out;
}

describe('templates: the example chart passes the release preflight with both sites', function () {
  const helmHome = fs.mkdtempSync(path.join(os.tmpdir(), 'ratings-helm-'));
  const sites = readYaml<{ sites: Site[] }>('pipelines/sites.yaml').sites;
  const settings = examplePipelineSettings();
  const allowed = settings.allowedRegistries;
  after(() => fs.rmSync(helmHome, { recursive: true, force: true }));

  const helm = (l: Layer, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const env = {
        PATH: '/usr/bin:/bin',
        HOME: helmHome,
        HELM_CACHE_HOME: path.join(helmHome, 'cache'),
        HELM_CONFIG_HOME: path.join(helmHome, 'config'),
        HELM_DATA_HOME: path.join(helmHome, 'data'),
        // nothing to reach: an unreachable proxy turns any attempt into an error
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
      };
      execFile(l.helm, args, { env, cwd: ROOT, maxBuffer: 32 << 20 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  const valuesArgs = (s: Site): string[] => (s.values ?? []).flatMap((v) => ['-f', path.resolve(path.dirname(SITES_FILE), v)]);
  const render = async (l: Layer, s: Site, extra: string[] = []): Promise<Doc[]> => {
    const r = await helm(l, ['template', 'ratings', CHART, '--namespace', s.cluster?.namespace ?? 'ratings', '--kube-version', s.cluster?.kubeVersion ?? '1.33', ...valuesArgs(s), ...extra]);
    assert.equal(r.code, 0, `helm template failed: ${r.stderr}`);
    return YAML.parseAllDocuments(r.stdout).map((d) => d.toJSON() as Doc).filter(Boolean);
  };

  it('the example lists two sites, each with a values file that exists', () => {
    assert.deepEqual(sites.map((s) => s.name), ['seattle', 'dublin']);
    for (const s of sites) for (const v of s.values ?? []) assert.ok(fs.existsSync(path.resolve(path.dirname(SITES_FILE), v)), v);
    assert.ok(allowed.length > 0 && allowed.every((a) => !/docker\.io|quay\.io|ghcr\.io|gcr\.io|mcr\.microsoft\.com/.test(a)), `allowed registries must be internal: ${allowed.join(', ')}`);
    assert.deepEqual(settings.githubAllowedRegistries, allowed, 'the GitHub example checks the same registries');
    const release = expandExample('push');
    const preflights = JSON.stringify(release).match(/"allowedRegistries":"[^"]*"/g) ?? [];
    assert.ok(preflights.length > 0 && preflights.every((x) => x === '"allowedRegistries":"$(allowedRegistries)"'), 'every helm step of the Azure Pipelines example checks them');
  });

  for (const name of ['v31', 'v34'] as const) {
    describe(`with helm from layer ${name}`, () => {
      let l: Layer;
      before(async () => {
        l = await layer(name);
      });

      for (const siteName of ['seattle', 'dublin']) {
        it(`${siteName}: helm lint --strict passes`, async () => {
          const s = sites.find((x) => x.name === siteName)!;
          const r = await helm(l, ['lint', '--strict', CHART, '--kube-version', s.cluster?.kubeVersion ?? '1.33', ...valuesArgs(s)]);
          assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
          assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
        });

        it(`${siteName}: renders with no LoadBalancer service, images only from the internal registry, TLS from a CA or Vault issuer`, async () => {
          const s = sites.find((x) => x.name === siteName)!;
          const docs = await render(l, s);
          const kinds = docs.map((d) => `${d.kind}/${d.metadata?.name}`);
          for (const k of ['Deployment/ratings-web', 'Deployment/ratings-api', 'StatefulSet/ratings-mongodb', 'Ingress/ratings', 'Certificate/ratings']) assert.ok(kinds.includes(k), `${k} missing: ${kinds.join(', ')}`);

          const lbs = docs.filter((d) => d.kind === 'Service' && (d.spec as { type?: string }).type === 'LoadBalancer');
          assert.equal(lbs.length, 0, 'LoadBalancer services');
          assert.ok(docs.filter((d) => d.kind === 'Service').every((d) => ['ClusterIP', undefined].includes((d.spec as { type?: string }).type)), 'only ClusterIP services');

          const images = imagesOf(docs);
          assert.ok(images.length >= 4, images.join(', '));
          assert.deepEqual(images.filter((i) => !imageAllowed(i, allowed)), [], `images outside ${allowed.join(', ')}`);

          const ingress = docs.find((d) => d.kind === 'Ingress')!;
          // the values the release steps give (sites file values) are those rendered here
          const siteValues = (s.values ?? []).map((v) => readYaml<{ routing?: { ingress?: { className?: string } } }>(path.posix.join('pipelines', v)));
          const className = siteValues.map((v) => v.routing?.ingress?.className).filter(Boolean).pop() ?? readYaml<{ routing: { ingress: { className: string } } }>('pipelines/charts/ratings/values.yaml').routing.ingress.className;
          assert.equal((ingress.spec as { ingressClassName?: string }).ingressClassName, className);
          assert.notEqual(className, 'nginx', 'ingress-nginx is retired');

          assert.equal(docs.filter((d) => d.kind === 'Issuer' || d.kind === 'ClusterIssuer').filter((d) => 'acme' in (d.spec ?? {})).length, 0, 'ACME issuer');
          const cert = docs.find((d) => d.kind === 'Certificate')!;
          const ref = (cert.spec as { issuerRef: { kind: string; name: string } }).issuerRef;
          const issuer = docs.find((d) => d.kind === ref.kind && d.metadata?.name === ref.name);
          assert.ok(issuer, `the certificate's issuer ${ref.kind}/${ref.name} is created by the chart for this site`);
          const issuerType = Object.keys(issuer!.spec ?? {}).find((k) => ['ca', 'vault', 'acme', 'selfSigned', 'venafi'].includes(k));
          assert.ok(issuerType === 'ca' || issuerType === 'vault', `issuer type ${issuerType}`);
          const hosts = (cert.spec as { dnsNames: string[] }).dnsNames;
          const probeHost = new URL((s as { traffic?: { probeUrl: string } }).traffic!.probeUrl).hostname;
          assert.ok(hosts.includes(probeHost), `the certificate covers the probe host ${probeHost}`);
        });
      }

      it('refuses ACME, an empty registry, an empty ingress class; the class and the Gateway API are values', async () => {
        const s = sites[0];
        const fails = async (set: string, re: RegExp): Promise<void> => {
          const r = await helm(l, ['template', 'ratings', CHART, ...valuesArgs(s), '--set', set]);
          assert.notEqual(r.code, 0, set);
          assert.match(r.stderr, re);
        };
        await fails('tls.issuer.create.type=acme', /ACME cannot work in a disconnected network/);
        await fails('registry=', /internal registry/);
        await fails('routing.ingress.className=', /ingress-nginx is retired/);
        const haproxy = await render(l, s, ['--set', 'routing.ingress.className=haproxy']);
        assert.equal((haproxy.find((d) => d.kind === 'Ingress')!.spec as { ingressClassName: string }).ingressClassName, 'haproxy');
        const gw = await render(l, s, ['--set', 'routing.mode=gateway']);
        assert.equal(gw.filter((d) => d.kind === 'Ingress').length, 0);
        assert.equal(gw.filter((d) => d.kind === 'HTTPRoute').length, 1);
        const other = await render(l, s, ['--set', 'registry=docker.io']);
        assert.notDeepEqual(imagesOf(other).filter((i) => !imageAllowed(i, allowed)), [], 'the registry check bites');
      });
    });
  }

  it('the registry matcher', () => {
    assert.ok(imageAllowed('registry.corp.local/ratings/web:1', ['registry.corp.local']));
    assert.ok(!imageAllowed('registry.corp.local.evil.com/x:1', ['registry.corp.local']));
    assert.ok(imageAllowed('r1.corp.local:5000/x:1', ['*.corp.local:5000']));
    assert.ok(!imageAllowed('mongo:7', ['registry.corp.local']));
    assert.ok(imageAllowed('registry.corp.local/mirror/x:1', ['registry.corp.local/mirror']));
    assert.ok(!imageAllowed('registry.corp.local/other/x:1', ['registry.corp.local/mirror']));
  });
});
