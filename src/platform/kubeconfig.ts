/** Small kubeconfig helpers shared by the platforms and the capabilities that talk to clusters. */
import YAML from 'yaml';

/** A kubeconfig for a bearer token (an ADO service-account connection). */
export function kubeconfigFromServiceAccount(server: string, token: string, caCertBase64OrPem?: string): string {
  const ca = caCertBase64OrPem
    ? caCertBase64OrPem.includes('-----BEGIN')
      ? Buffer.from(caCertBase64OrPem, 'utf8').toString('base64')
      : caCertBase64OrPem.trim()
    : undefined;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster', cluster: { server, ...(ca ? { 'certificate-authority-data': ca } : {}) } }],
    users: [{ name: 'user', user: { token } }],
    contexts: [{ name: 'default', context: { cluster: 'cluster', user: 'user' } }],
    'current-context': 'default',
  });
}

/**
 * The secret values inside a kubeconfig: user tokens, passwords, client keys, auth-provider tokens and secrets,
 * exec-plugin environment values. Mask these rather than the whole document: masking every line of it would also
 * mask ordinary text such as `apiVersion: v1` wherever it appears later. An unparseable document is returned whole.
 */
export function kubeconfigSecrets(text: string): string[] {
  let doc: { users?: { user?: Record<string, unknown> }[] } | null;
  try {
    doc = YAML.parse(text) as typeof doc;
  } catch {
    return [text];
  }
  if (!doc || typeof doc !== 'object') return [text];
  const out: string[] = [];
  for (const u of Array.isArray(doc.users) ? doc.users : []) {
    const user = u?.user ?? {};
    for (const k of ['token', 'password', 'client-key-data']) if (typeof user[k] === 'string') out.push(user[k] as string);
    const ap = user['auth-provider'] as { config?: Record<string, unknown> } | undefined;
    for (const [k, v] of Object.entries(ap?.config ?? {})) if (typeof v === 'string' && /token|secret|password|key/i.test(k)) out.push(v);
    const ex = user.exec as { env?: { value?: unknown }[] } | undefined;
    for (const e of Array.isArray(ex?.env) ? ex!.env! : []) if (typeof e?.value === 'string') out.push(e.value);
  }
  return out.filter((s) => s.length > 0);
}
