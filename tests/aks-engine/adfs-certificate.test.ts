/**
 * Certificate sign-in at an ADFS Hub, as the real aks-engine-azurestack performs it (issue 10 §5): the tests' fake
 * ADFS (tests/helpers/aks-engine-double/hub.ts, tests/helpers/arm-servers.ts, both judging through
 * tests/helpers/client-assertion.ts) must accept exactly what MSAL Go 1.2.2 inside v0.81.2 sends — an RS256 client
 * assertion whose header carries `x5t` (standard base64) and `x5c`, `aud` = the token endpoint, scope
 * `<audience>/.default openid offline_access profile` — verify the signature against the certificate in `x5c`, require
 * that certificate to be the registered one, and refuse a wrong key, an unregistered certificate, an expired
 * assertion or a wrong audience with ADFS's own error (`invalid_client`, MSIS9622). Our own credential
 * (src/shared/azure-stack) must pass against the same IdP, and so must the double when it signs in like the binary.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AksEngineRunner } from '../../src/aks-engine/runner';
import type { RunContext } from '../../src/platform/capability';
import { Summary } from '../../src/platform/summary';
import { AuthenticationFailedError, discoverHub, hubCredential, readClientCertificate } from '../../src/shared/azure-stack';
import { exec } from '../../src/shared/exec';
import { Masker } from '../../src/shared/mask';
import { installDouble, type AksEngineDouble } from '../helpers/aks-engine-double';
import { makeClientCert, startFakeHub, type FakeHub } from '../helpers/aks-engine-double/hub';
import { startLoginServer, type LoginServer } from '../helpers/arm-servers';
import { makeCa, makeServerCert, type ServerCert, type TestCa } from '../helpers/tls';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const msalGo = require('../helpers/aks-engine-double/msal-go.js') as {
  msalGoAssertion(o: { clientId: string; tokenEndpoint: string; certPem: string; keyPem: string; now?: number; sendX5C?: boolean }): string;
  msalGoForm(o: { clientId: string; scope: string; assertion?: string; secret?: string }): string;
  msalGoAdfsSignIn(o: { activeDirectoryEndpoint: string; audience: string; clientId: string; certPem?: string; keyPem?: string; secret?: string; ca?: string }): Promise<{ ok: boolean; status: number; body: string; token?: string; tokenEndpoint: string; form: string }>;
  request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; ca?: string }): Promise<{ status: number; body: string }>;
};

const CLIENT_ID = '3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c';
const SUB = '11111111-2222-3333-4444-555555555555';
const MSIS9622 = { error: 'invalid_client', error_description: 'MSIS9622: Client authentication failed. Please verify the credential provided for client authentication is valid.' };

const decode = (jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown> } => {
  const [h, c] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), claims: JSON.parse(Buffer.from(c, 'base64url').toString()) };
};

function quietContext(tempDir: string): RunContext {
  const masker = new Masker();
  const log = { info: () => undefined, debug: () => undefined, warning: () => undefined, error: () => undefined, toolOutput: () => undefined, group: <T>(_n: string, fn: () => Promise<T>) => fn(), progress: () => undefined };
  return { platform: undefined as never, log, tempDir, masker, summary: new Summary(), mask: (s) => masker.add(s), secretFile: () => '', exec: (file, args, opts) => exec(file, args, { log, masker, ...opts }) };
}

describe('ADFS certificate sign-in as aks-engine-azurestack v0.81.2 sends it (MSAL Go 1.2.2)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let cert: ServerCert;
  let sp: ReturnType<typeof makeClientCert>;
  let other: ReturnType<typeof makeClientCert>;
  let hub: FakeHub;
  let tokenEndpoint: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adfs-cert-'));
    ca = makeCa(path.join(dir, 'tls'));
    cert = makeServerCert(ca, path.join(dir, 'tls'));
    sp = makeClientCert(path.join(dir, 'sp'));
    other = makeClientCert(path.join(dir, 'other'), 'other');
    hub = await startFakeHub({ ca, cert, identity: 'adfs', clients: { [CLIENT_ID]: { certificatePem: sp.certPem } } });
    tokenEndpoint = `${hub.login.url}/adfs/oauth2/token`;
  });
  after(async () => {
    await hub?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    hub.requests.length = 0;
    hub.rejections.length = 0;
  });

  const post = (form: string) => msalGo.request(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form, ca: ca.certPem });
  const assertionForm = (assertion: string) => msalGo.msalGoForm({ clientId: CLIENT_ID, scope: `${hub.audience}/.default`, assertion });

  it('accepts what the binary sends: metadata, then RS256 + x5t (standard base64) + x5c, aud = token endpoint, scope with openid offline_access profile', async () => {
    const r = await msalGo.msalGoAdfsSignIn({ activeDirectoryEndpoint: `${hub.login.url}/`, audience: hub.audience, clientId: CLIENT_ID, certPem: sp.certPem, keyPem: sp.keyPem, ca: ca.certPem });
    assert.equal(r.status, 200, r.body);
    assert.ok(r.ok);
    assert.equal(hub.tokenAudiences.get(r.token!), hub.audience);
    assert.deepEqual(hub.requests.map((q) => `${q.method} ${q.path}`), ['GET /adfs/.well-known/openid-configuration', 'POST /adfs/oauth2/token']);
    const form = hub.requests[1].form!;
    assert.deepEqual(Object.keys(form), ['client_assertion', 'client_assertion_type', 'client_id', 'client_info', 'grant_type', 'scope']);
    assert.equal(form.scope, `${hub.audience}/.default openid offline_access profile`);
    assert.equal(form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { header, claims } = decode(form.client_assertion);
    const der = new crypto.X509Certificate(sp.certPem).raw;
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')], x5t: crypto.createHash('sha1').update(der).digest('base64') });
    assert.deepEqual(Object.keys(claims), ['aud', 'exp', 'iss', 'jti', 'nbf', 'sub']);
    assert.equal(claims.aud, tokenEndpoint);
    assert.deepEqual(hub.rejections, []);
  });

  it('accepts the assertion without x5c (x5t only) and the ADFS spelling of the endpoint with a trailing slash', async () => {
    for (const a of [
      msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint, certPem: sp.certPem, keyPem: sp.keyPem, sendX5C: false }),
      msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint: `${tokenEndpoint}/`, certPem: sp.certPem, keyPem: sp.keyPem }),
    ]) {
      const r = await post(assertionForm(a));
      assert.equal(r.status, 200, r.body);
    }
  });

  const forged = (header: Record<string, unknown>, claims: Record<string, unknown>, keyPem: string, sign: (data: Buffer, key: crypto.KeyObject) => Buffer = (d, k) => crypto.sign('sha256', d, k)): string => {
    const data = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${data}.${sign(Buffer.from(data), crypto.createPrivateKey(keyPem)).toString('base64url')}`;
  };

  const refusals: [string, () => string, string][] = [
    ['signed by another key (x5t/x5c of the registered certificate)', () => msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint, certPem: sp.certPem, keyPem: other.keyPem }), 'bad signature'],
    ['an unregistered certificate in x5c, signed by its own key', () => msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint, certPem: other.certPem, keyPem: other.keyPem }), 'certificate not registered'],
    ['expired (signed an hour ago)', () => msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint, certPem: sp.certPem, keyPem: sp.keyPem, now: Date.now() - 3600_000 }), 'expired'],
    ['aud is the issuer, not the token endpoint', () => msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint: `${hub.login.url}/adfs`, certPem: sp.certPem, keyPem: sp.keyPem }), 'wrong audience'],
    [
      'PS256 + x5t#S256 (what MSAL Node sends by default: not for ADFS)',
      () => {
        const der = new crypto.X509Certificate(sp.certPem).raw;
        const now = Math.floor(Date.now() / 1000);
        return forged({ alg: 'PS256', typ: 'JWT', 'x5t#S256': crypto.createHash('sha256').update(der).digest('base64url') }, { aud: tokenEndpoint, exp: now + 600, iss: CLIENT_ID, jti: crypto.randomUUID(), nbf: now, sub: CLIENT_ID }, sp.keyPem, (d, k) =>
          crypto.sign('sha256', d, { key: k, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
        );
      },
      'algorithm not accepted',
    ],
    [
      'no certificate reference in the header',
      () => {
        const now = Math.floor(Date.now() / 1000);
        return forged({ alg: 'RS256', typ: 'JWT' }, { aud: tokenEndpoint, exp: now + 600, iss: CLIENT_ID, jti: crypto.randomUUID(), nbf: now, sub: CLIENT_ID }, sp.keyPem);
      },
      'no certificate reference (x5t, x5t#S256 or x5c)',
    ],
  ];
  for (const [name, make, why] of refusals) {
    it(`refuses ${name}: 401 invalid_client MSIS9622, as ADFS answers`, async () => {
      const r = await post(assertionForm(make()));
      assert.equal(r.status, 401);
      assert.deepEqual(JSON.parse(r.body), MSIS9622);
      assert.deepEqual(hub.rejections, [{ clientId: CLIENT_ID, why }]);
    });
  }

  it('an unknown scope is refused even with a valid assertion', async () => {
    const a = msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint, certPem: sp.certPem, keyPem: sp.keyPem });
    const r = await post(msalGo.msalGoForm({ clientId: CLIENT_ID, scope: 'https://management.azure.com/.default', assertion: a }));
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error, 'invalid_scope');
  });

  it('the Azure AD flavour (arm-servers.ts) answers AADSTS errors with error_codes, and takes the same MSAL Go request', async () => {
    const login: LoginServer = await startLoginServer({ cert, flavour: 'azure_ad', clients: { [CLIENT_ID]: { certificatePem: sp.certPem } }, audiences: ['https://management.azure.com/'] });
    try {
      const url = `${login.url}/${login.tenantId}/oauth2/v2.0/token`;
      const send = (a: string) => msalGo.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: msalGo.msalGoForm({ clientId: CLIENT_ID, scope: 'https://management.azure.com/.default', assertion: a }), ca: ca.certPem });
      const ok = await send(msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint: url, certPem: sp.certPem, keyPem: sp.keyPem }));
      assert.equal(ok.status, 200, ok.body);
      const bad = await send(msalGo.msalGoAssertion({ clientId: CLIENT_ID, tokenEndpoint: url, certPem: other.certPem, keyPem: other.keyPem }));
      assert.equal(bad.status, 401);
      const body = JSON.parse(bad.body);
      assert.equal(body.error, 'invalid_client');
      assert.deepEqual(body.error_codes, [700027]);
      assert.match(body.error_description, /^AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application\.\r\nTrace ID: /);
      assert.deepEqual(login.rejections, [{ clientId: CLIENT_ID, why: 'certificate not registered' }]);
    } finally {
      await login.close();
    }
  });

  describe('our own credential (src/shared/azure-stack) against the same ADFS', () => {
    const http = () => ({ ca: [ca.certPem], sleep: async () => undefined });

    it('signs RS256 with x5t and x5c, aud = the token endpoint; the ADFS accepts it', async () => {
      const e = await discoverHub(hub.armEndpoint, { input: 'armEndpoint', http: http() });
      const auth = { kind: 'client_certificate' as const, clientId: CLIENT_ID, ...readClientCertificate(sp.certFile, sp.keyFile, 'clientCertificatePath', 'clientKeyPath') };
      const tok = await hubCredential(e, auth, { http: http() }).getToken();
      assert.equal(hub.tokenAudiences.get(tok.token), hub.audience);
      const { header, claims } = decode(hub.assertions.at(-1)!);
      const der = new crypto.X509Certificate(sp.certPem).raw;
      assert.equal(header.alg, 'RS256');
      assert.equal(header.x5t, crypto.createHash('sha1').update(der).digest('base64url'));
      assert.deepEqual(header.x5c, [der.toString('base64')]);
      assert.equal(claims.aud, tokenEndpoint);
      assert.equal(claims.iss, CLIENT_ID);
      assert.deepEqual(hub.rejections, []);
    });

    it('a certificate the ADFS does not know: one line naming the client, the login endpoint and MSIS9622', async () => {
      const e = await discoverHub(hub.armEndpoint, { input: 'armEndpoint', http: http() });
      const auth = { kind: 'client_certificate' as const, clientId: CLIENT_ID, ...readClientCertificate(other.certFile, other.keyFile, 'clientCertificatePath', 'clientKeyPath') };
      await assert.rejects(hubCredential(e, auth, { http: http() }).getToken(), (err: Error) => {
        assert.ok(err instanceof AuthenticationFailedError, String(err));
        assert.match(err.message, /^sign-in of client 3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c at https:\/\/127\.0\.0\.1:\d+\/adfs\/ failed: .*MSIS9622/);
        assert.doesNotMatch(err.message, /\n|PRIVATE KEY/);
        return true;
      });
      assert.deepEqual(hub.rejections, [{ clientId: CLIENT_ID, why: 'certificate not registered' }]);
    });
  });

  describe('the double signs in like the binary (control.signIn): deploy through the runner', () => {
    let double: AksEngineDouble;
    before(() => {
      double = installDouble(path.join(dir, 'double'));
    });
    const ENV_FIELDS = ['name', 'managementPortalURL', 'graphEndpoint', 'galleryEndpoint', 'storageEndpointSuffix', 'keyVaultDNSSuffix', 'resourceManagerVMDNSSuffix'];
    const deploy = async (opts: { caCertificates: string[]; certFile?: string; keyFile?: string }): Promise<unknown> => {
      double.reset();
      double.control({ signIn: true });
      const tmp = fs.mkdtempSync(path.join(dir, 'run-'));
      const model = path.join(tmp, 'apimodel.json');
      const environment = { ...Object.fromEntries(ENV_FIELDS.map((k) => [k, `https://${k}.local/`])), activeDirectoryEndpoint: `${hub.login.url}/`, serviceManagementEndpoint: hub.audience, tokenAudience: hub.audience, resourceManagerEndpoint: hub.armEndpoint };
      fs.writeFileSync(model, JSON.stringify({ apiVersion: 'vlabs', location: 'local', properties: { orchestratorProfile: {}, masterProfile: { count: 3, dnsPrefix: 'ratings', vmSize: 'Standard_D2_v2', distro: 'aks-ubuntu-22.04' }, agentPoolProfiles: [{ name: 'pool1', count: 2, vmSize: 'Standard_D2_v2', distro: 'aks-ubuntu-22.04' }], linuxProfile: { adminUsername: 'azureuser', ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAA' }] } }, customCloudProfile: { environment } } }));
      const runner = new AksEngineRunner(quietContext(tmp), { binary: double.binary, caCertificates: opts.caCertificates, deadline: Date.now() + 30_000, baseEnv: { ...process.env, ...double.env } });
      const args = ['deploy', '--location', 'local', '-m', model, '-o', path.join(tmp, 'out'), '--azure-env', 'AzureStackCloud', '--identity-system', 'adfs', '--auth-method', 'client_certificate', '--client-id', CLIENT_ID, '--certificate-path', opts.certFile ?? sp.certFile, '--private-key-path', opts.keyFile ?? sp.keyFile, '--subscription-id', SUB];
      return runner.run(args).then(() => undefined, (e: unknown) => e);
    };

    it('with the Hub root in SSL_CERT_FILE and the registered certificate: signed in, providers listed with the token, deployed', async () => {
      assert.equal(await deploy({ caCertificates: [ca.certPem] }), undefined);
      const call = double.calls().at(-1)!;
      assert.equal(call.exit, 0, call.error);
      assert.equal(call.signIn?.status, 200);
      const arm = hub.requests.filter((q) => q.server === 'arm');
      assert.deepEqual(arm.map((q) => `${q.method} ${q.path}`), [`GET /subscriptions/${SUB}/providers`]);
      assert.ok(hub.tokens.includes(arm[0].authorization!.slice(7)));
    });

    it('another certificate: the one line the real binary prints; the ADFS refused it', async () => {
      const e = (await deploy({ caCertificates: [ca.certPem], certFile: other.certFile, keyFile: other.keyFile })) as Error;
      assert.equal(e?.message, `aks-engine-azurestack deploy failed with exit code 1: Error: failed to get client: Error listing registered providers for subscription ${SUB}`);
      assert.deepEqual(hub.rejections, [{ clientId: CLIENT_ID, why: 'certificate not registered' }]);
    });

    it('without the Hub root in SSL_CERT_FILE the binary cannot reach ADFS at all', async () => {
      const e = (await deploy({ caCertificates: [] })) as Error;
      assert.match(e?.message ?? '', /Error: failed to get client: Error listing registered providers/);
      assert.deepEqual(hub.requests.filter((q) => q.server === 'login'), []);
    });
  });
});
