/**
 * src/shared/azure-stack against a local fake Hub (HTTPS, throwaway CA): discovery, ADFS and Azure AD credentials
 * (secret, certificate, the MSIS9605 → ADFS v1 fallback), the origin allow-list and the ARM client's retries/errors.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ArmClient,
  ArmError,
  AuthenticationFailedError,
  connectHub,
  customCloudEnvironment,
  discoverHub,
  hubConnectionFrom,
  hubCredential,
  parseArmEndpoint,
  readClientCertificate,
  type ClientAuth,
} from '../../src/shared/azure-stack';
import { InputError } from '../../src/shared/errors';
import { startConnectProxy } from '../helpers/servers';
import { makeCa, makeServerCert, type TestCa, type ServerCert } from '../helpers/tls';
import { addImage, makeClientCert, startFakeHub, type FakeHub } from '../helpers/aks-engine-double/hub';

describe('shared/azure-stack', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let cert: ServerCert;
  let sp: ReturnType<typeof makeClientCert>;
  let adfs: FakeHub;
  let aad: FakeHub;
  const http = (): { ca: string[]; sleep: (ms: number) => Promise<void> } => ({ ca: [ca.certPem], sleep: async () => undefined });
  const secretAuth: ClientAuth = { kind: 'client_secret', clientId: 'sp-secret', clientSecret: 'Sup3r-Secret-Value' };
  let certAuth: ClientAuth;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azure-stack-'));
    ca = makeCa(dir);
    cert = makeServerCert(ca, dir);
    sp = makeClientCert(dir);
    certAuth = { kind: 'client_certificate', clientId: 'sp-cert', ...readClientCertificate(sp.certFile, sp.keyFile, 'clientCertificate', 'clientKey') };
    const clients = { 'sp-secret': { secret: 'Sup3r-Secret-Value' }, 'sp-cert': { certificatePem: sp.certPem } };
    adfs = await startFakeHub({ ca, cert, identity: 'adfs', clients });
    aad = await startFakeHub({ ca, cert, identity: 'azure_ad', clients });
  });
  after(async () => {
    await adfs?.close();
    await aad?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    adfs.requests.length = 0;
    aad.requests.length = 0;
  });

  describe('discovery', () => {
    it('reads an ADFS Hub and builds customCloudProfile.environment', async () => {
      const e = await discoverHub(adfs.armEndpoint, { input: 'armEndpoint', http: http() });
      assert.equal(e.identitySystem, 'adfs');
      assert.equal(e.loginEndpoint, adfs.loginEndpoint);
      assert.equal(e.region, 'local');
      assert.deepEqual(customCloudEnvironment(e), {
        name: 'AzureStackCloud',
        managementPortalURL: 'https://portal.local.azurestack.external/',
        serviceManagementEndpoint: adfs.audience,
        resourceManagerEndpoint: adfs.armEndpoint,
        activeDirectoryEndpoint: `${adfs.login.url}/`,
        graphEndpoint: 'https://graph.local.azurestack.external/',
        galleryEndpoint: 'https://providers.local.azurestack.external:30016/',
        storageEndpointSuffix: 'local.azurestack.external',
        keyVaultDNSSuffix: 'vault.local.azurestack.external',
        resourceManagerVMDNSSuffix: 'cloudapp.azurestack.external',
        tokenAudience: adfs.audience,
      });
      assert.deepEqual(adfs.requests.map((r) => `${r.method} ${r.path} ${r.query['api-version']}`), ['GET /metadata/endpoints 2015-01-01']);
    });

    it('reads an Azure AD Hub', async () => {
      const e = await discoverHub(aad.armEndpoint, { input: 'armEndpoint', http: http() });
      assert.equal(e.identitySystem, 'azure_ad');
      assert.equal(customCloudEnvironment(e).activeDirectoryEndpoint, `${aad.login.url}/`);
    });

    it('refuses a non-https endpoint, an untrusted certificate, an unreachable endpoint and a non-Azure-Stack answer, naming the input', async () => {
      assert.throws(() => parseArmEndpoint('http://management.local.azurestack.external', 'hubArm'), (e: InputError) => e.input === 'hubArm' && /expected an https:\/\/ URL/.test(e.message));
      await assert.rejects(discoverHub(adfs.armEndpoint, { input: 'hubArm', http: { sleep: async () => undefined } }), (e: InputError) => e instanceof InputError && e.input === 'hubArm' && /not trusted/.test(e.message) && !/\n/.test(e.message));
      await assert.rejects(discoverHub('https://127.0.0.1:1/', { input: 'hubArm', http: http() }), (e: InputError) => e instanceof InputError && e.input === 'hubArm' && /cannot reach the Hub metadata endpoint/.test(e.message));
      adfs.metadataOverride = {
        status: 200,
        body: JSON.stringify({ galleryEndpoint: 'https://gallery.azure.com/', graphEndpoint: 'https://graph.windows.net/', portalEndpoint: 'https://portal.azure.com/', authentication: { loginEndpoint: 'https://login.windows.net/', audiences: ['https://management.core.windows.net/'] } }),
      };
      try {
        await assert.rejects(discoverHub(adfs.armEndpoint, { input: 'hubArm', http: http() }), (e: InputError) => e.input === 'hubArm' && /is not an Azure Stack Hub metadata answer: portalEndpoint/.test(e.message));
        adfs.metadataOverride = { status: 200, body: '<html>hello</html>' };
        await assert.rejects(discoverHub(adfs.armEndpoint, { input: 'hubArm', http: http() }), /input 'hubArm': .* not JSON/);
        adfs.metadataOverride = { status: 404, body: '{}' };
        await assert.rejects(discoverHub(adfs.armEndpoint, { input: 'hubArm', http: http() }), /input 'hubArm': .*answered 404/);
      } finally {
        adfs.metadataOverride = undefined;
      }
    });
  });

  describe('credentials', () => {
    it('ADFS + secret: tenant adfs, scope audience/.default, only the login endpoint contacted', async () => {
      const hub = await connectHub({ armEndpoint: adfs.armEndpoint, armEndpointInput: 'armEndpoint', auth: secretAuth, http: http() });
      const tok = await hub.credential.getToken();
      assert.equal(tok.token, adfs.tokens.at(-1));
      const login = adfs.requests.filter((r) => r.server === 'login');
      assert.deepEqual(login.map((r) => `${r.method} ${r.path}`), ['GET /adfs/.well-known/openid-configuration', 'POST /adfs/oauth2/token']);
      assert.equal(login[1].form?.scope, `${adfs.audience}/.default`);
      assert.equal(login[1].form?.client_secret, 'Sup3r-Secret-Value');
      // cached
      await hub.credential.getToken();
      assert.equal(adfs.requests.filter((r) => r.server === 'login').length, 2);
    });

    it('ADFS + certificate: a client assertion the IdP verifies; no secret on the wire', async () => {
      const e = await discoverHub(adfs.armEndpoint, { input: 'armEndpoint', http: http() });
      const tok = await hubCredential(e, certAuth, { http: http() }).getToken();
      assert.equal(tok.token, adfs.tokens.at(-1));
      const post = adfs.requests.find((r) => r.method === 'POST')!;
      assert.equal(post.form?.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      assert.equal(post.form?.client_secret, undefined);
    });

    for (const kind of ['secret', 'certificate'] as const) {
      it(`ADFS rejecting MSAL-style requests (MSIS9605): falls back to the v1 token endpoint with resource (${kind})`, async () => {
        const hub = await startFakeHub({ ca, cert, identity: 'adfs', msis9605: true, clients: { 'sp-secret': { secret: 'Sup3r-Secret-Value' }, 'sp-cert': { certificatePem: sp.certPem } } });
        try {
          const e = await discoverHub(hub.armEndpoint, { input: 'armEndpoint', http: http() });
          const lines: string[] = [];
          const cred = hubCredential(e, kind === 'secret' ? secretAuth : certAuth, { http: http(), debug: (l) => lines.push(l) });
          const tok = await cred.getToken();
          assert.equal(tok.token, hub.tokens.at(-1));
          const v1 = hub.requests.filter((r) => r.method === 'POST' && r.form?.resource !== undefined);
          assert.equal(v1.length, 1);
          assert.equal(v1[0].path, '/adfs/oauth2/token');
          assert.equal(v1[0].form?.resource, hub.audience);
          assert.match(lines.join('\n'), /MSIS9605/);
          // later tokens go to v1 directly
          const before = hub.requests.length;
          await cred.getToken([`${hub.audience}/.default`, 'x']).catch(() => undefined);
          assert.ok(hub.requests.slice(before).every((r) => r.form?.scope === undefined));
        } finally {
          await hub.close();
        }
      });
    }

    it('Azure AD Hub: needs the tenant id; token from /<tenant>/oauth2/v2.0/token', async () => {
      const e = await discoverHub(aad.armEndpoint, { input: 'armEndpoint', http: http() });
      assert.throws(() => hubCredential(e, secretAuth, { tenantInput: 'tenantId' }), /input 'tenantId': .*uses Azure AD/);
      const tok = await hubCredential(e, certAuth, { http: http(), tenantId: aad.tenantId }).getToken();
      assert.equal(tok.token, aad.tokens.at(-1));
      assert.deepEqual(aad.requests.filter((r) => r.server === 'login').map((r) => r.path), [`/${aad.tenantId}/v2.0/.well-known/openid-configuration`, `/${aad.tenantId}/oauth2/v2.0/token`]);
    });

    it('a wrong secret fails with one line that names the client and the login endpoint, never the secret', async () => {
      const e = await discoverHub(adfs.armEndpoint, { input: 'armEndpoint', http: http() });
      const cred = hubCredential(e, { kind: 'client_secret', clientId: 'sp-secret', clientSecret: 'wrong-secret-xyz' }, { http: http() });
      await assert.rejects(cred.getToken(), (err: Error) => {
        assert.ok(err instanceof AuthenticationFailedError, String(err));
        assert.match(err.message, /sign-in of client sp-secret at https:\/\/127\.0\.0\.1:\d+\/adfs\/ failed: .*MSIS9622/);
        assert.doesNotMatch(err.message, /wrong-secret-xyz|\n/);
        return true;
      });
    });

    it('ignores AZURE_REGIONAL_AUTHORITY_NAME (no regional host, no IMDS): only the login endpoint is contacted', async () => {
      const saved = process.env.AZURE_REGIONAL_AUTHORITY_NAME;
      process.env.AZURE_REGIONAL_AUTHORITY_NAME = 'AutoDiscoverRegion';
      try {
        const e = await discoverHub(adfs.armEndpoint, { input: 'armEndpoint', http: http() });
        const cred = hubCredential(e, secretAuth, { http: http() });
        const tok = await cred.getToken();
        assert.equal(tok.token, adfs.tokens.at(-1));
        assert.equal(process.env.AZURE_REGIONAL_AUTHORITY_NAME, 'AutoDiscoverRegion', 'restored');
        assert.deepEqual(adfs.requests.map((r) => `${r.server} ${r.method} ${r.path}`), ['arm GET /metadata/endpoints', 'login GET /adfs/.well-known/openid-configuration', 'login POST /adfs/oauth2/token']);
      } finally {
        if (saved === undefined) delete process.env.AZURE_REGIONAL_AUTHORITY_NAME;
        else process.env.AZURE_REGIONAL_AUTHORITY_NAME = saved;
      }
    });

    it('reads an ADO azurerm connection for AzureStack (key or certificate) and refuses other environments', () => {
      const c = hubConnectionFrom({ environment: 'AzureStack', environmentUrl: adfs.armEndpoint, scheme: 'ServicePrincipal', clientId: 'x', authenticationType: 'spnCertificate', certificatePem: sp.certPem + sp.keyPem, subscriptionId: 's' }, 'azureStackConnection');
      assert.equal(c.auth.kind, 'client_certificate');
      assert.throws(() => hubConnectionFrom({ environment: 'AzureCloud', scheme: 'ServicePrincipal' }, 'conn'), /input 'conn': expected an Azure Resource Manager connection with environment AzureStack/);
    });

    it('unreadable or mismatched certificate/key files name the input', () => {
      assert.throws(() => readClientCertificate(path.join(dir, 'nope.crt'), undefined, 'clientCertificate'), /input 'clientCertificate': cannot read/);
      assert.throws(() => readClientCertificate(sp.certFile, path.join(dir, 'nope.key'), 'clientCertificate', 'clientKey'), /input 'clientKey': cannot read/);
      assert.throws(() => readClientCertificate(sp.certFile, ca.keyFile, 'clientCertificate', 'clientKey'), /input 'clientKey': the private key does not belong/);
      assert.throws(() => readClientCertificate(sp.certFile, undefined, 'clientCertificate'), /input 'clientCertificate': expected an unencrypted PEM PRIVATE KEY/);
      assert.deepEqual(readClientCertificate(sp.combinedFile, undefined, 'c'), { certificatePem: sp.certPem.trim() + '\n', privateKeyPem: sp.keyPem.trim() + '\n' });
    });
  });

  it('discovery, token and ARM calls go through the configured proxy (CONNECT), trusting the Hub CA inside the tunnel', async () => {
    const proxy = await startConnectProxy();
    try {
      const viaProxy = { ca: [ca.certPem], sleep: async () => undefined, proxyFor: () => ({ url: proxy.url }) };
      const hub = await connectHub({ armEndpoint: adfs.armEndpoint, armEndpointInput: 'armEndpoint', auth: secretAuth, http: viaProxy });
      addImage(adfs, 'p', 'o', 's', ['1']);
      await hub.arm.request('GET', '/subscriptions/s1/providers/Microsoft.Compute/locations/local/publishers/p/artifacttypes/vmimage/offers/o/skus/s/versions', { apiVersion: '2020-06-01' });
      assert.deepEqual([...new Set(proxy.connects)].sort(), [`127.0.0.1:${adfs.arm.port}`, `127.0.0.1:${adfs.login.port}`].sort());
    } finally {
      await proxy.close();
    }
  });

  describe('ARM client', () => {
    it('sends api-version and the bearer token, retries 429/5xx with backoff (Retry-After), then returns status, headers and body', async () => {
      const waits: number[] = [];
      const hub = await connectHub({ armEndpoint: adfs.armEndpoint, armEndpointInput: 'armEndpoint', auth: secretAuth, http: { ca: [ca.certPem], sleep: async (ms) => void waits.push(ms) } });
      addImage(adfs, 'microsoft-aks', 'aks', 'sku1', ['2026.139.1']);
      adfs.armFailures.push(429, 503);
      const p = '/subscriptions/s1/providers/Microsoft.Compute/locations/local/publishers/microsoft-aks/artifacttypes/vmimage/offers/aks/skus/sku1/versions';
      const res = await hub.arm.request<{ name: string }[]>('GET', p, { apiVersion: '2020-06-01' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.map((v) => v.name), ['2026.139.1']);
      assert.deepEqual(waits, [1000, 2000]);
      const armReqs = adfs.requests.filter((r) => r.server === 'arm' && r.path.includes('vmimage'));
      assert.equal(armReqs.length, 3);
      assert.ok(armReqs.every((r) => r.query['api-version'] === '2020-06-01' && r.authorization === `Bearer ${adfs.tokens.at(-1)}`));
    });

    it('errors name the method and URL with ARM code and message, never the token; acceptStatus returns instead', async () => {
      const hub = await connectHub({ armEndpoint: adfs.armEndpoint, armEndpointInput: 'armEndpoint', auth: secretAuth, http: http() });
      const p = '/subscriptions/s1/providers/Microsoft.Compute/locations/local/publishers/nobody/artifacttypes/vmimage/offers/x/skus/y/versions';
      await assert.rejects(hub.arm.request('GET', p, { apiVersion: '2020-06-01' }), (e: ArmError) => {
        assert.ok(e instanceof ArmError);
        assert.equal(e.status, 404);
        assert.equal(e.message, `GET ${adfs.armEndpoint}${p.slice(1)} answered 404 NotFound: Artifact: VMImage was not found.`);
        assert.ok(!adfs.tokens.some((t) => e.message.includes(t)));
        return true;
      });
      const r = await hub.arm.request('GET', p, { apiVersion: '2020-06-01', acceptStatus: [404] });
      assert.equal(r.status, 404);
    });

    it('refuses a nextLink or path on another origin', async () => {
      const hub = await connectHub({ armEndpoint: adfs.armEndpoint, armEndpointInput: 'armEndpoint', auth: secretAuth, http: http() });
      await assert.rejects(hub.arm.request('GET', 'https://evil.example/x'), /refusing to contact https:\/\/evil\.example/);
      assert.ok(hub.arm instanceof ArmClient);
    });
  });
});
