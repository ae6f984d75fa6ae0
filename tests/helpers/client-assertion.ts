/**
 * How the tests' identity providers (the fake ADFS / Azure AD of tests/helpers/aks-engine-double/hub.ts and
 * tests/helpers/arm-servers.ts) judge a certificate client assertion, and the error bodies they answer, so that what
 * the real aks-engine-azurestack (azidentity + MSAL Go 1.2.2: RS256, `x5t` in standard base64, `x5c`, `aud` = token
 * endpoint, scope `<audience>/.default openid offline_access profile`) and our own credentials send is accepted
 * exactly when a real IdP would accept it.
 */
import * as crypto from 'node:crypto';

/** Decodes base64 or base64url (MSAL Go 1.2.2 sends x5t in standard base64 with padding, MSAL JS in base64url). */
function b64any(s: string): Buffer {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Why a client assertion was refused (the fake's own record; the IdP answers only its generic error). */
export type AssertionRejection =
  | 'malformed assertion'
  | 'algorithm not accepted'
  | 'no certificate reference (x5t, x5t#S256 or x5c)'
  | 'certificate not registered'
  | 'bad signature'
  | 'iss/sub mismatch'
  | 'wrong audience'
  | 'expired'
  | 'not yet valid'
  | 'no certificate registered';

/**
 * Verifies a client assertion (RFC 7523) as ADFS / Azure AD do: the header names the signing certificate (`x5t`
 * SHA-1 thumbprint, `x5t#S256`, and/or the `x5c` chain whose first entry is the signing certificate); that certificate
 * must be the registered one and its key must verify the signature; `iss` = `sub` = the client id; `aud` = the token
 * endpoint; `exp` in the future and `nbf` not ahead (5 minutes of skew). ADFS takes RS256 only (the MSALs other than
 * MSAL JS deliberately send RS256 + x5t to ADFS: AzureAD/microsoft-authentication-library-for-dotnet#4428); Azure AD
 * also PS256 (+ x5t#S256) and ES256.
 */
export function verifyAssertion(
  jwt: string,
  registeredPem: string,
  clientId: string,
  tokenUrl: string,
  identity: 'adfs' | 'azure_ad',
  now = Date.now(),
): AssertionRejection | undefined {
  const [h, c, s, extra] = jwt.split('.');
  if (!h || !c || !s || extra !== undefined) return 'malformed assertion';
  let header: { alg?: string; x5t?: string; 'x5t#S256'?: string; x5c?: unknown };
  let claims: { aud?: unknown; iss?: unknown; sub?: unknown; exp?: unknown; nbf?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString());
    claims = JSON.parse(Buffer.from(c, 'base64url').toString());
  } catch {
    return 'malformed assertion';
  }
  const accepted = identity === 'adfs' ? ['RS256'] : ['RS256', 'PS256', 'ES256'];
  if (!header.alg || !accepted.includes(header.alg)) return 'algorithm not accepted';
  const registered = new crypto.X509Certificate(registeredPem);
  const refs: boolean[] = [];
  if (typeof header.x5t === 'string') refs.push(b64any(header.x5t).equals(crypto.createHash('sha1').update(registered.raw).digest()));
  if (typeof header['x5t#S256'] === 'string') refs.push(b64any(header['x5t#S256']).equals(crypto.createHash('sha256').update(registered.raw).digest()));
  let signer = registered;
  if (header.x5c !== undefined) {
    if (!Array.isArray(header.x5c) || typeof header.x5c[0] !== 'string') return 'malformed assertion';
    try {
      signer = new crypto.X509Certificate(Buffer.from(header.x5c[0], 'base64'));
    } catch {
      return 'malformed assertion';
    }
    refs.push(signer.raw.equals(registered.raw));
  }
  if (refs.length === 0) return 'no certificate reference (x5t, x5t#S256 or x5c)';
  if (refs.some((r) => !r)) return 'certificate not registered';
  const data = Buffer.from(`${h}.${c}`);
  const sig = Buffer.from(s, 'base64url');
  const ok =
    header.alg === 'ES256'
      ? crypto.verify('sha256', data, { key: signer.publicKey, dsaEncoding: 'ieee-p1363' }, sig)
      : header.alg === 'PS256'
        ? crypto.verify('sha256', data, { key: signer.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
        : crypto.verify('sha256', data, signer.publicKey, sig);
  if (!ok) return 'bad signature';
  if (claims.iss !== clientId || claims.sub !== clientId) return 'iss/sub mismatch';
  // ADFS publishes its token endpoint with a trailing slash; either spelling names the same endpoint
  if (typeof claims.aud !== 'string' || claims.aud.replace(/\/$/, '') !== tokenUrl.replace(/\/$/, '')) return 'wrong audience';
  const skew = 300;
  if (typeof claims.exp !== 'number' || claims.exp + skew < now / 1000) return 'expired';
  if (typeof claims.nbf === 'number' && claims.nbf - skew > now / 1000) return 'not yet valid';
  return undefined;
}

/** The error body a real IdP answers for a refused client credential (ADFS: MSIS9622; Azure AD: AADSTS codes). */
export function clientAuthError(identity: 'adfs' | 'azure_ad', why: AssertionRejection | 'bad secret' | 'unknown client', clientId: string): { status: number; body: Record<string, unknown> } {
  if (identity === 'adfs') {
    if (why === 'unknown client') return { status: 400, body: { error: 'invalid_client', error_description: `MSIS9607: The 'client_id' parameter in the request is invalid. No registered client is found with this identifier.` } };
    return { status: 401, body: { error: 'invalid_client', error_description: 'MSIS9622: Client authentication failed. Please verify the credential provided for client authentication is valid.' } };
  }
  const [code, text] =
    why === 'unknown client'
      ? [700016, `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`]
      : why === 'bad secret'
        ? [7000215, 'AADSTS7000215: Invalid client secret provided.']
        : why === 'expired' || why === 'not yet valid'
          ? [700024, 'AADSTS700024: Client assertion is not within its valid time range.']
          : why === 'wrong audience'
            ? [700212, 'AADSTS700212: Client assertion audience claim does not match the token endpoint.']
            : why === 'certificate not registered' || why === 'no certificate registered' || why === 'no certificate reference (x5t, x5t#S256 or x5c)'
              ? [700027, 'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.']
              : [7000274, 'AADSTS7000274: Client assertion contains an invalid signature.'];
  return { status: 401, body: { error: 'invalid_client', error_description: `${text}\r\nTrace ID: 00000000-0000-0000-0000-000000000000\r\nCorrelation ID: 00000000-0000-0000-0000-000000000000\r\nTimestamp: ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`, error_codes: [code] } };
}

/** OIDC scopes MSAL adds to every request (MSAL Go: `openid offline_access profile`); the IdP ignores them for client credentials. */
export const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile']);
