/**
 * Custom CA handling. A CA is trusted for our own HTTPS calls by passing it to the HTTP client itself
 * (NODE_EXTRA_CA_CERTS is read only at process start), and exported to later steps and child tools:
 * SSL_CERT_FILE = the system bundle PLUS the CA (Go and OpenSSL replace the system bundle with it),
 * NODE_EXTRA_CA_CERTS = the CA alone (Node adds it to its own roots).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { InputError } from './errors';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a PEM file of one or more certificates; each must parse as X.509. Errors name the input. */
export function readCaFile(file: string, input: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(input, `cannot read the CA certificate file ${file}`);
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) throw new InputError(input, `expected a PEM file with at least one CERTIFICATE, got none in ${file}`);
  for (const c of certs) {
    try {
      new crypto.X509Certificate(c);
    } catch {
      throw new InputError(input, `${file} holds a certificate that is not valid X.509`);
    }
  }
  return certs.map((c) => c.trim());
}

/** Where distributions keep their CA bundle. */
export const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // RHEL, Fedora
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // RHEL 7+
  '/etc/ssl/ca-bundle.pem', // SUSE
  '/etc/ssl/cert.pem', // macOS, Alpine
];

/** The system CA bundle's text, or Node's own roots when the system has none we know. */
export function systemCaBundle(candidates: readonly string[] = SYSTEM_BUNDLES): string {
  const env = process.env.SSL_CERT_FILE;
  for (const f of [env, ...candidates]) {
    if (!f) continue;
    try {
      const text = fs.readFileSync(f, 'utf8');
      if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
    } catch {
      /* next */
    }
  }
  return tls.rootCertificates.join('\n') + '\n';
}

/**
 * Writes the bundles for later steps into `dir` (which must outlive the run; CAs are public, files are 0644) and
 * returns their paths. File names carry a hash of the content, so reruns reuse them.
 */
export function writeCaBundles(dir: string, extraPems: readonly string[], systemBundle = systemCaBundle()): { sslCertFile: string; extraCaFile: string } {
  const extra = extraPems.join('\n') + '\n';
  const combined = `${systemBundle.replace(/\n*$/, '\n')}${extra}`;
  const h = (s: string): string => crypto.createHash('sha256').update(s).digest('hex').slice(0, 16);
  fs.mkdirSync(dir, { recursive: true });
  const sslCertFile = path.join(dir, `ca-bundle-${h(combined)}.pem`);
  const extraCaFile = path.join(dir, `extra-ca-${h(extra)}.pem`);
  fs.writeFileSync(sslCertFile, combined, { mode: 0o644 });
  fs.writeFileSync(extraCaFile, extra, { mode: 0o644 });
  return { sslCertFile, extraCaFile };
}
