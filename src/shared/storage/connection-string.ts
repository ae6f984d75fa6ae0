/** Azure Storage connection strings and endpoint names (pure; no SDK import, so parsing inputs stays cheap). */

/** What a storage connection string says: the blob endpoint and the credential, as a target uses them. */
export interface ConnectionStringParts {
  /** Blob endpoint (explicit BlobEndpoint, or built from protocol, account and suffix), without trailing slash. */
  blobEndpoint: string;
  /** Shared key when the string holds an AccountKey (it wins over a SharedAccessSignature), else the SAS. */
  auth: { type: 'account-key'; accountName: string; accountKey: string } | { type: 'sas'; sasToken: string };
}

/**
 * Parses a storage connection string (`DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=…`
 * or with `BlobEndpoint=` and/or `SharedAccessSignature=`). Returns undefined when it is not one (the caller names
 * the input; the value is never quoted).
 */
export function parseConnectionString(cs: string): ConnectionStringParts | undefined {
  const fields = new Map<string, string>();
  for (const part of cs.trim().split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const accountName = fields.get('accountname');
  const accountKey = fields.get('accountkey');
  const sas = fields.get('sharedaccesssignature')?.replace(/^\?/, '');
  let blobEndpoint = fields.get('blobendpoint')?.replace(/\/+$/, '');
  if (!blobEndpoint && accountName && fields.get('endpointsuffix')) {
    blobEndpoint = `${fields.get('defaultendpointsprotocol') ?? 'https'}://${accountName}.blob.${fields.get('endpointsuffix')}`;
  }
  if (!blobEndpoint) return undefined;
  if (accountKey) return accountName ? { blobEndpoint, auth: { type: 'account-key', accountName, accountKey } } : undefined;
  return sas ? { blobEndpoint, auth: { type: 'sas', sasToken: sas } } : undefined;
}

/**
 * The account name of a blob endpoint: the first label of the host, or — for IP/localhost endpoints in path style
 * (Azurite, `http://127.0.0.1:10000/devstoreaccount1`) — the first path segment.
 */
export function accountNameFromUrl(url: string): string | undefined {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (/^[\d.]+$/.test(host) || host.includes(':') || host === 'localhost') return u.pathname.split('/').filter(Boolean)[0];
    return host.split('.')[0] || undefined;
  } catch {
    return undefined;
  }
}
