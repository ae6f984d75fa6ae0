/**
 * Throwaway TLS material for tests: a private CA and server certificates it signs, made with the `openssl` CLI
 * (no network, no npm dependency). Reused by every test that needs an HTTPS server (mirrors, Traffic Manager, ARM).
 *
 * ```ts
 * const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-'));
 * const ca = makeCa(dir);
 * const cert = makeServerCert(ca, dir, ['127.0.0.1', 'localhost']);
 * https.createServer({ key: cert.keyPem, cert: cert.certPem }, handler);
 * // client side: trust ca.certPem
 * ```
 *
 * Keys are EC P-256 (fast to generate); certificates are valid from now for `days` days. The openssl binary is
 * `$OPENSSL` when set, else `openssl` from PATH.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** A PEM certificate with its private key, as strings and as files. */
export interface CertMaterial {
  /** Certificate, PEM. */
  certPem: string;
  /** Private key (unencrypted PKCS#8), PEM. */
  keyPem: string;
  /** Path of the certificate file. */
  certFile: string;
  /** Path of the private key file (mode 0600). */
  keyFile: string;
}

/** A certificate authority: signs server certificates with {@link makeServerCert}. */
export interface TestCa extends CertMaterial {
  /** Subject common name. */
  commonName: string;
}

/** A server certificate signed by a {@link TestCa}. */
export interface ServerCert extends CertMaterial {
  /** The host names and IP addresses in the subjectAltName. */
  hosts: string[];
  /** Server certificate followed by the CA certificate, PEM (for servers that should send the chain). */
  chainPem: string;
}

/** Options of {@link makeCa} and {@link makeServerCert}. */
export interface CertOptions {
  /** Subject CN (default "stackhub-ha test CA" / the first host). */
  commonName?: string;
  /** Validity in days (default 2). */
  days?: number;
  /** File name prefix inside dir (default "ca" / "server-<random>"), so several certs can share a directory. */
  name?: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(process.env.OPENSSL || 'openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** Writes an openssl config that does not depend on the system's openssl.cnf. */
function writeConfig(file: string, commonName: string, extensions: string[]): void {
  const text = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    `CN = ${commonName.replace(/[\\"]/g, '')}`,
    '[ext]',
    ...extensions,
    '',
  ].join('\n');
  fs.writeFileSync(file, text);
}

/** Creates a self-signed CA (key + certificate) in `dir`. */
export function makeCa(dir: string, opts: CertOptions = {}): TestCa {
  fs.mkdirSync(dir, { recursive: true });
  const name = opts.name ?? 'ca';
  const commonName = opts.commonName ?? 'stackhub-ha test CA';
  const cfg = path.join(dir, `${name}.cnf`);
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  writeConfig(cfg, commonName, [
    'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
  ]);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  fs.chmodSync(keyFile, 0o600);
  openssl(
    [
      'req', '-x509', '-new', '-config', cfg, '-extensions', 'ext', '-key', keyFile, '-out', certFile,
      '-days', String(opts.days ?? 2), '-sha256', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    ],
    dir,
  );
  return { commonName, certFile, keyFile, certPem: read(certFile), keyPem: read(keyFile) };
}

/**
 * Creates a server certificate for `hosts` (IP literals become IP SANs, everything else DNS SANs; default
 * 127.0.0.1 and localhost), signed by `ca`, in `dir`.
 */
export function makeServerCert(
  ca: TestCa,
  dir: string,
  hosts: string[] = ['127.0.0.1', 'localhost'],
  opts: CertOptions = {},
): ServerCert {
  if (hosts.length === 0) throw new Error('makeServerCert: at least one host is needed');
  fs.mkdirSync(dir, { recursive: true });
  const name = opts.name ?? `server-${randomBytes(4).toString('hex')}`;
  const cfg = path.join(dir, `${name}.cnf`);
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const certFile = path.join(dir, `${name}.crt`);
  const san = hosts.map((h) => (net.isIP(h.replace(/^\[|\]$/g, '')) ? `IP:${h.replace(/^\[|\]$/g, '')}` : `DNS:${h}`));
  writeConfig(cfg, opts.commonName ?? hosts[0], [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    `subjectAltName = ${san.join(', ')}`,
  ]);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  fs.chmodSync(keyFile, 0o600);
  openssl(['req', '-new', '-config', cfg, '-key', keyFile, '-out', csrFile], dir);
  openssl(
    [
      'x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile,
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(opts.days ?? 2), '-sha256',
      '-extfile', cfg, '-extensions', 'ext', '-out', certFile,
    ],
    dir,
  );
  const certPem = read(certFile);
  return { hosts: [...hosts], certFile, keyFile, certPem, keyPem: read(keyFile), chainPem: certPem + ca.certPem };
}
