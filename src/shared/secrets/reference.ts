/**
 * Secret references: the forms a secret input may take instead of the secret itself.
 *
 * - `keyvault://<vault>/<secret>[/<version>]` — a secret in the Hub's own Key Vault (`https://<vault>.vault.<region>.<fqdn>`)
 * - `k8s://<namespace>/<secret>/<key>` — one key of a Kubernetes Secret, read through the site's kubeconfig
 * - `vault://<mount>/<path>[?version=<n>]#<key>` — one key of a HashiCorp Vault KV v2 secret
 *
 * Every other value is literal. A literal that happens to start with one of these schemes (or with `literal:`) is
 * written with a `literal:` prefix, which is removed once: `literal:vault://x` is the literal `vault://x`.
 * Other `<scheme>://` prefixes that look like a reference are refused rather than passed on as a secret by mistake,
 * except the URI schemes secret inputs legitimately hold (mongodb, mongodb+srv, http, https).
 */
import { InputError } from '../errors';

/** A parsed reference. `text` is the reference as written (never secret; shown in errors). */
export type SecretReference =
  | { scheme: 'keyvault'; text: string; vault: string; secret: string; version?: string }
  | { scheme: 'k8s'; text: string; namespace: string; secret: string; key: string }
  | { scheme: 'vault'; text: string; mount: string; path: string; version?: number; key: string };

/** The reference schemes, in the order the frame resolves them. */
export const REFERENCE_SCHEMES = ['vault', 'k8s', 'keyvault'] as const;

/** URI schemes that secret inputs hold as values (connection strings, URLs with a token): literal, not references. */
const LITERAL_URI_SCHEMES = new Set(['mongodb', 'mongodb+srv', 'http', 'https']);

const LITERAL_PREFIX = 'literal:';

/** An input whose reference is malformed or cannot be resolved: one line naming the input and the reference. */
export class SecretReferenceError extends InputError {
  constructor(input: string, readonly reference: string, why: string) {
    super(input, `${reference}: ${why}`);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Classifies a secret input's raw value: a reference, or a literal (with one `literal:` escape removed).
 * @throws SecretReferenceError naming `input` for a malformed reference or an unknown reference-like scheme
 */
export function parseSecretValue(raw: string, input: string): { literal: string } | { reference: SecretReference } {
  const head = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw);
  if (raw.startsWith(LITERAL_PREFIX)) {
    const rest = raw.slice(LITERAL_PREFIX.length);
    const special = rest.startsWith(LITERAL_PREFIX) || /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.test(rest);
    return { literal: special ? rest : raw };
  }
  if (!head) return { literal: raw };
  const scheme = head[1].toLowerCase();
  const text = raw.trim();
  const bad = (why: string): SecretReferenceError => new SecretReferenceError(input, text, why);
  if (scheme === 'keyvault') {
    const parts = text.slice('keyvault://'.length).split('/');
    if (parts.length < 2 || parts.length > 3) throw bad('expected keyvault://<vault>/<secret>[/<version>]');
    const [vault, secret, version] = parts;
    if (!/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(vault)) throw bad(`'${vault}' is not a Key Vault name (3-24 letters, digits and hyphens, starting with a letter)`);
    if (!/^[a-zA-Z0-9-]{1,127}$/.test(secret)) throw bad(`'${secret}' is not a Key Vault secret name (1-127 letters, digits and hyphens)`);
    if (version !== undefined && !/^[0-9a-fA-F]{32}$/.test(version)) throw bad(`'${version}' is not a Key Vault secret version (32 hex digits)`);
    return { reference: { scheme: 'keyvault', text, vault: vault.toLowerCase(), secret, version } };
  }
  if (scheme === 'k8s') {
    const parts = text.slice('k8s://'.length).split('/');
    if (parts.length !== 3) throw bad('expected k8s://<namespace>/<secret>/<key>');
    const [namespace, secret, key] = parts;
    if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw bad(`'${namespace}' is not a Kubernetes namespace name`);
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(secret) || secret.length > 253) throw bad(`'${secret}' is not a Kubernetes Secret name`);
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw bad(`'${key}' is not a Secret data key (letters, digits, '-', '_', '.')`);
    return { reference: { scheme: 'k8s', text, namespace, secret, key } };
  }
  if (scheme === 'vault') {
    const m = /^vault:\/\/([^/?#]+)\/([^?#]+?)(?:\?version=(\d+))?#(.+)$/.exec(text);
    if (!m) throw bad('expected vault://<mount>/<path>[?version=<n>]#<key>');
    const [, mount, p, version, key] = m;
    if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) throw bad(`'${p}' is not a KV v2 secret path`);
    return { reference: { scheme: 'vault', text, mount, path: p, version: version === undefined ? undefined : Number(version), key } };
  }
  if (LITERAL_URI_SCHEMES.has(scheme)) return { literal: raw };
  // the value may be a secret after all: name only its scheme
  throw new SecretReferenceError(input, `${head[1]}://…`, `unknown secret reference scheme (expected keyvault://, k8s:// or vault://; a literal value that starts like this is written literal:${head[1]}://…)`);
}

/** True when `value` is written as a reference (keyvault://, k8s://, vault://): not a secret itself. */
export function isSecretReference(value: string): boolean {
  return /^(keyvault|k8s|vault):\/\//i.test(value.trim());
}
