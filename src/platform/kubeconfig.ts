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
