/*
 * What aks-engine-azurestack v0.81.2 / v0.85.0 sends when it signs in to an Azure Stack Hub, reproduced byte for
 * byte from its sources (github.com/Azure/aks-engine-azurestack, branch release-v0.81.2 and HEAD ff9dfe9, vendored
 * azidentity v1.6.0 + MSAL Go v1.2.2), so the tests' fake IdPs can be held to what the real binary sends:
 *
 * - pkg/armhelpers/credentials.go: ADFS + certificate → azidentity.NewClientCertificateCredential("adfs", clientID,
 *   [cert], key, {SendCertificateChain: true, DisableInstanceDiscovery: true}); ADFS + secret →
 *   NewClientSecretCredential("adfs", ...). Authority = customCloudProfile.environment.activeDirectoryEndpoint + "adfs".
 * - MSAL Go resolvers.go: ADFS metadata at `https://<authority host>/adfs/.well-known/openid-configuration`; the token
 *   request goes to its `token_endpoint`.
 * - MSAL Go accesstokens.go (Credential.JWT): claims {aud: token endpoint, exp: now+10m, iss: clientID, jti: uuid,
 *   nbf: now, sub: clientID}; header {alg: RS256, typ: JWT, x5t: base64.StdEncoding(sha1(cert DER)), x5c:
 *   [base64.StdEncoding(DER)]} (golang-jwt: Go's encoding/json sorts map keys; segments RawURLEncoding; RS256 =
 *   PKCS#1 v1.5 SHA-256).
 * - FromAssertion: form grant_type=client_credentials, client_assertion_type=urn:...:jwt-bearer, client_assertion,
 *   client_id, client_info=1, scope = "<audience>/.default openid offline_access profile" (AppendDefaultScopes);
 *   FromClientSecret: grant_type, client_secret, client_id, scope. url.Values.Encode() sorts the keys.
 * - azcore arm/runtime/pipeline.go: scope = cloud.ResourceManager.Audience (= environment.serviceManagementEndpoint)
 *   + "/.default"; then EnsureProvidersRegistered lists the subscription's providers with that token.
 * Plain CommonJS (used by double.js and by tests).
 */
'use strict';
const crypto = require('node:crypto');
const https = require('node:https');

const b64url = (b) => Buffer.from(b).toString('base64url');
const sortKeys = (o) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));

/** The client assertion MSAL Go 1.2.2 signs (opts.now in ms, opts.key/opts.certs override for negative tests). */
function msalGoAssertion({ clientId, tokenEndpoint, certPem, keyPem, now = Date.now(), sendX5C = true }) {
  const der = new crypto.X509Certificate(certPem).raw;
  const sec = Math.floor(now / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5t: crypto.createHash('sha1').update(der).digest('base64') };
  if (sendX5C) header.x5c = [der.toString('base64')];
  const claims = { aud: tokenEndpoint, exp: sec + 600, iss: clientId, jti: crypto.randomUUID(), nbf: sec, sub: clientId };
  const data = `${b64url(JSON.stringify(sortKeys(header)))}.${b64url(JSON.stringify(sortKeys(claims)))}`;
  const sig = crypto.sign('sha256', Buffer.from(data), crypto.createPrivateKey(keyPem));
  return `${data}.${b64url(sig)}`;
}

/** The token request form MSAL Go sends (keys sorted as url.Values.Encode does). */
function msalGoForm({ clientId, scope, assertion, secret }) {
  const f = secret !== undefined
    ? { client_id: clientId, client_secret: secret, grant_type: 'client_credentials', scope: `${scope} openid offline_access profile` }
    : {
        client_assertion: assertion,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_id: clientId,
        client_info: '1',
        grant_type: 'client_credentials',
        scope: `${scope} openid offline_access profile`,
      };
  return new URLSearchParams(Object.entries(sortKeys(f))).toString();
}

function request(url, { method = 'GET', headers = {}, body, ca }) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, timeout: 30000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout ${url}`)));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * Signs in as aks-engine does for an ADFS Hub: metadata, then the token request. Resolves
 * { ok, status, body, token, tokenEndpoint, form }; `ca` is the trust (PEM) the binary has (SSL_CERT_FILE).
 */
async function msalGoAdfsSignIn({ activeDirectoryEndpoint, audience, clientId, certPem, keyPem, secret, ca }) {
  const host = new URL(activeDirectoryEndpoint).host;
  const meta = await request(`https://${host}/adfs/.well-known/openid-configuration`, { ca });
  if (meta.status !== 200) return { ok: false, status: meta.status, body: meta.body };
  const tokenEndpoint = JSON.parse(meta.body).token_endpoint;
  const scope = `${audience}/.default`;
  const form = secret !== undefined
    ? msalGoForm({ clientId, scope, secret })
    : msalGoForm({ clientId, scope, assertion: msalGoAssertion({ clientId, tokenEndpoint, certPem, keyPem }) });
  const res = await request(tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form, ca });
  let token;
  try {
    token = JSON.parse(res.body).access_token;
  } catch {
    /* not JSON */
  }
  return { ok: res.status === 200 && typeof token === 'string', status: res.status, body: res.body, token, tokenEndpoint, form };
}

module.exports = { msalGoAssertion, msalGoForm, msalGoAdfsSignIn, request };
