/**
 * Parsing of the traffic inputs (the shared provider inputs and the capability's operation inputs): every bad value
 * is one InputError naming the input; nothing is contacted.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInputReader } from '../../src/platform/inputs';
import type { AzureRmConnection } from '../../src/platform/types';
import { parseTrafficConfig, parseTsigKey } from '../../src/traffic/config';
import { parseTrafficInputs, trafficProviderInputs, trafficSwap } from '../../src/traffic';
import { testContext } from './helpers';

describe('traffic inputs', () => {
  let dir: string;
  let sitesFile: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-cfg-'));
    sitesFile = path.join(dir, 'sites.yaml');
    fs.writeFileSync(
      sitesFile,
      [
        'sites:',
        '  - name: seattle',
        '    hub: { armEndpoint: "https://management.seattle.contoso.local", domain: seattle.contoso.local }',
        '    traffic: { endpoint: seattle-ingress, target: ratings.seattle.contoso.local, probeUrl: "https://ratings.seattle.contoso.local/healthz", resolvers: [10.1.0.53] }',
        '  - name: denver',
        '    traffic: { endpoint: denver-ingress, target: ratings.denver.contoso.local, probeUrl: "https://ratings.denver.contoso.local/healthz" }',
        '  - name: lab',
        '',
      ].join('\n'),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const parse = (values: Record<string, string>, connections: Record<string, AzureRmConnection> = {}, pathEnv = process.env.PATH) => {
    const ctx = testContext({ connections });
    try {
      return parseTrafficConfig(createInputReader(trafficSwap.inputs, (n) => values[n], () => undefined), ctx.platform, { pathEnv });
    } finally {
      ctx.cleanup();
    }
  };
  const parseCap = (values: Record<string, string>) => {
    const ctx = testContext();
    try {
      return parseTrafficInputs(createInputReader(trafficSwap.inputs, (n) => values[n], () => undefined), ctx.platform);
    } finally {
      ctx.cleanup();
    }
  };
  const PROFILE = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/ratings';
  const tm = (extra: Record<string, string> = {}) => ({ trafficProvider: 'azure-traffic-manager', trafficProfile: PROFILE, trafficTenantId: 't1', trafficClientId: 'c1', trafficClientSecret: 'sekret-1', ...extra });
  const dns = (extra: Record<string, string> = {}) => ({ trafficProvider: 'rfc2136', trafficDnsServer: '10.1.0.53', trafficDnsZone: 'contoso.local', trafficDnsName: 'ratings.contoso.local', trafficTsigKey: 'hmac-sha256:k1:c2VjcmV0LXNlY3JldC0xMjM0', ...extra });

  it('an empty trafficProvider means no traffic coupling (undefined), for tasks that include these inputs', () => {
    assert.equal(parse({}), undefined);
  });

  it('the shared provider inputs are all prefixed for use inside another task, and never required', () => {
    for (const d of trafficProviderInputs) {
      assert.ok(d.name.startsWith('traffic') || d.name === 'skipHealthCheck', d.name);
      assert.notEqual(d.required, true, d.name);
    }
  });

  it('Traffic Manager defaults: public ARM, login.microsoftonline.com, <arm>/.default', () => {
    const c = parse(tm())!;
    assert.deepEqual(
      { arm: c.trafficManager!.armEndpoint, authority: c.trafficManager!.authorityHost, scope: c.trafficManager!.scope, kind: c.trafficManager!.auth.kind },
      { arm: 'https://management.azure.com/', authority: 'https://login.microsoftonline.com/', scope: 'https://management.azure.com/.default', kind: 'service-principal' },
    );
    assert.equal(c.probe.attempts, 3);
    assert.deepEqual(c.probe.expected, [[200, 399]]);
    assert.equal(c.maxDnsWaitSeconds, undefined);
  });

  it('Traffic Manager from an ADO azurerm connection: sovereign environment, certificate, workload identity', () => {
    const gov: AzureRmConnection = { environment: 'AzureUSGovernment', environmentUrl: 'https://management.usgovcloudapi.net/', scheme: 'ServicePrincipal', tenantId: 't', clientId: 'c', clientSecret: 's3cr3t-x' };
    const c = parse({ trafficProvider: 'azure-traffic-manager', trafficProfile: PROFILE, trafficAzureConnection: 'conn' }, { trafficAzureConnection: gov })!.trafficManager!;
    assert.equal(c.armEndpoint, 'https://management.usgovcloudapi.net/');
    assert.equal(c.authorityHost, 'https://login.microsoftonline.us/');
    assert.equal(c.scope, 'https://management.usgovcloudapi.net/.default');
    const wif: AzureRmConnection = { environment: 'AzureCloud', scheme: 'WorkloadIdentityFederation', tenantId: 't', clientId: 'c' };
    assert.throws(
      () => parse({ trafficProvider: 'azure-traffic-manager', trafficProfile: PROFILE }, { trafficAzureConnection: wif }),
      /^InputError: input 'trafficAzureConnection': is a workload identity federation connection: give its federated token in trafficFederatedTokenPath/,
    );
    assert.equal(parse({ trafficProvider: 'azure-traffic-manager', trafficProfile: PROFILE, trafficFederatedToken: 'eyJ.token.x' }, { trafficAzureConnection: wif })!.trafficManager!.auth.kind, 'workload-identity');
    assert.throws(
      () => parse({ trafficProvider: 'azure-traffic-manager', trafficProfile: PROFILE }, { trafficAzureConnection: { ...wif, scheme: 'ManagedServiceIdentity' } }),
      /managed identity would probe the instance metadata service/,
    );
    assert.throws(() => parse({ trafficProvider: 'azure-traffic-manager', trafficProfile: PROFILE }, { trafficAzureConnection: { ...gov, environment: 'AzureStack' } }), /Traffic Manager lives in public or sovereign Azure/);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ['unknown provider', { trafficProvider: 'f5-bigip' }, /^input 'trafficProvider': expected one of azure-traffic-manager, rfc2136, azure-stack-dns, got 'f5-bigip'$/],
    ['profile missing', tm({ trafficProfile: '' }), /^input 'trafficProfile': is required for azure-traffic-manager/],
    ['profile not a resource id', tm({ trafficProfile: 'ratings' }), /^input 'trafficProfile': expected \/subscriptions\/<id>\/resourceGroups/],
    ['no sign-in', tm({ trafficClientSecret: '' }), /^input 'trafficAuth': no sign-in is configured/],
    ['no tenant', tm({ trafficTenantId: '' }), /^input 'trafficTenantId': is required/],
    ['http ARM endpoint', tm({ trafficArmEndpoint: 'http://management.azure.com' }), /^input 'trafficArmEndpoint': expected a plain https:\/\/ URL/],
    ['bad scope', tm({ trafficCredentialScope: 'https://management.azure.com' }), /^input 'trafficCredentialScope': expected <resource>\/\.default/],
    ['workload identity without a token', tm({ trafficAuth: 'workload-identity', trafficClientSecret: '' }), /^input 'trafficFederatedTokenPath': is required for workload-identity sign-in/],
    ['unreadable certificate', tm({ trafficAuth: 'certificate', trafficClientCertificateFile: '/nonexistent.pem' }), /^input 'trafficClientCertificateFile': expected a readable file/],
    ['unreadable CA', tm({ trafficCaCertificate: '/nonexistent/ca.pem' }), /^input 'trafficCaCertificate': expected a readable file, cannot read \/nonexistent\/ca\.pem$/],
    ['bad probe status', tm({ trafficProbeStatus: 'ok' }), /^input 'trafficProbeStatus': expected status codes or ranges/],
    ['zero probe attempts', tm({ trafficProbeAttempts: '0' }), /^input 'trafficProbeAttempts': expected a whole number from 1 to 100, got '0'$/],
    ['missing TSIG key', dns({ trafficTsigKey: '' }), /^input 'trafficTsigKey': is required for rfc2136/],
    ['bad TSIG key', dns({ trafficTsigKey: 'nonsense' }), /^input 'trafficTsigKey': expected a BIND key statement/],
    ['GSS-TSIG with a key', dns({ trafficGssTsig: 'true' }), /^input 'trafficGssTsig': GSS-TSIG replaces the TSIG key/],
    ['name outside the zone', dns({ trafficDnsName: 'ratings.example.org' }), /^input 'trafficDnsName': ratings\.example\.org is not inside zone contoso\.local$/],
    ['bad server', dns({ trafficDnsServer: '10.1.0.53:99999' }), /^input 'trafficDnsServer': port 99999 is out of range$/],
    ['negative TTL', dns({ trafficDnsTtl: '-1' }), /^input 'trafficDnsTtl': expected a whole number from 0 to 2147483647, got '-1'$/],
    ['Hub DNS zone not an id', { trafficProvider: 'azure-stack-dns', trafficDnsZone: 'contoso.local', trafficDnsName: 'ratings', trafficDnsHub: 'seattle' }, /^input 'trafficDnsZone': for azure-stack-dns expected the zone resource id/],
    ['Hub DNS with the Azure CLI', { trafficProvider: 'azure-stack-dns', trafficDnsZone: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/dnsZones/contoso.local', trafficDnsName: 'ratings', trafficDnsHub: 'seattle', trafficAuth: 'azure-cli' }, /^input 'trafficAuth': azure-cli sign-in does not exist on an Azure Stack Hub/],
  ];
  for (const [name, values, msg] of bad) {
    it(`bad input: ${name}`, () => {
      assert.throws(() => parse(values), (e: Error) => e.constructor.name === 'InputError' && msg.test(e.message));
    });
  }

  it('nsupdate (and dig) must be on PATH: the message names the Debian package', () => {
    assert.throws(() => parse(dns(), {}, '/nonexistent'), /^InputError: input 'trafficProvider': rfc2136 needs nsupdate, which is not on PATH: install the Debian package bind9-dnsutils/);
  });

  it('TSIG key formats: a BIND key statement or alg:name:secret, normalised to a key statement', () => {
    const stmt = 'key "ddns-key.contoso.local" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0LXNlY3JldC0xMjM0";\n};\n';
    assert.equal(parseTsigKey(stmt, 'k').keyText, stmt);
    assert.equal(parseTsigKey('k1:c2VjcmV0LXNlY3JldC0xMjM0', 'k').algorithm, 'hmac-sha256');
    assert.equal(parseTsigKey('hmac-sha512:k1:c2VjcmV0LXNlY3JldC0xMjM0', 'k').keyText, 'key "k1" {\n\talgorithm hmac-sha512;\n\tsecret "c2VjcmV0LXNlY3JldC0xMjM0";\n};\n');
    assert.throws(() => parseTsigKey('hmac-foo:k1:c2VjcmV0', 'trafficTsigKey'), /unsupported TSIG algorithm 'hmac-foo'/);
    assert.throws(() => parseTsigKey('k1:not base64!', 'trafficTsigKey'), /not base64/);
    const gss = parse(dns({ trafficTsigKey: '', trafficGssTsig: 'true' }))!;
    assert.deepEqual(gss.rfc2136!.key, { kind: 'gss' });
  });

  describe('operation inputs', () => {
    const ok = { sitesFile: '', ...tm() };
    before(() => (ok.sitesFile = sitesFile));
    it('failover/drain/restore need a site that has a traffic block', () => {
      assert.equal(parseCap({ ...ok, command: 'drain', site: 'denver' }).site, 'denver');
      assert.throws(() => parseCap({ ...ok, command: 'drain' }), /^InputError: input 'site': is required for drain$/);
      assert.throws(() => parseCap({ ...ok, command: 'drain', site: 'boston' }), /^InputError: input 'site': unknown site 'boston': expected one of seattle, denver, lab$/);
      assert.throws(() => parseCap({ ...ok, command: 'failover', site: 'lab' }), /^InputError: input 'site': site lab has no traffic block in the sites file$/);
    });
    it('swap needs two different sites; weights and state are validated', () => {
      assert.deepEqual(parseCap({ ...ok, command: 'swap', swapSites: 'seattle, denver' }).swap, ['seattle', 'denver']);
      assert.throws(() => parseCap({ ...ok, command: 'swap', swapSites: 'seattle' }), /^InputError: input 'swapSites': expected exactly two sites, got 1$/);
      assert.throws(() => parseCap({ ...ok, command: 'weights', weights: 'seattle=5,boston=5' }), /^InputError: input 'weights': unknown site 'boston'/);
      assert.throws(() => parseCap({ ...ok, command: 'undo' }), /^InputError: input 'state': is required for undo/);
      assert.throws(() => parseCap({ ...ok, command: 'undo', state: '[1,2]' }), /^InputError: input 'state': expected the previousState JSON/);
      assert.throws(() => parseCap({ ...ok, command: 'undo', state: '{"provider":"rfc2136","sites":[]}' }), /^InputError: input 'state': was captured by the rfc2136 provider, not azure-traffic-manager$/);
    });
    it('the sites file is checked against the provider at parse time', () => {
      const f = path.join(dir, 'noendpoint.yaml');
      fs.writeFileSync(f, 'sites:\n  - name: a\n    traffic: { target: a.contoso.local }\n');
      assert.throws(() => parseCap({ ...ok, sitesFile: f }), /^InputError: input 'sitesFile': azure-traffic-manager: site a has no traffic.endpoint/);
      fs.writeFileSync(f, 'sites:\n  - name: a\n    traffic: { target: a.contoso.local, resolvers: [dns.contoso.local] }\n');
      assert.throws(() => parseCap({ ...dns(), sitesFile: f }), /^InputError: input 'sitesFile': resolver 'dns.contoso.local': expected an IP address/);
      assert.throws(() => parseCap({ ...ok, trafficProvider: '' }), /^InputError: input 'trafficProvider': is required: one of azure-traffic-manager, rfc2136, azure-stack-dns$/);
    });
  });
});
