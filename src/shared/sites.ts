/**
 * The sites file: the Azure Stack Hub sites that run the application (src/shared/sites.schema.json, one schema for
 * every capability and for the template tests), its loader, and the same-Hub guard.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import YAML from 'yaml';
import { InputError } from './errors';
import schema from './sites.schema.json';

/** Where a secret comes from. */
export type SecretRef = { env: string } | { file: string };

/** One site (see the schema for the meaning of each field). */
export interface Site {
  name: string;
  pool?: string;
  environment?: string;
  azureStackConnection?: string;
  kubernetesConnection?: string;
  hub?: { armEndpoint?: string; domain: string; publicIpRanges?: string[] };
  cluster?: { kubeconfig?: SecretRef; context?: string; namespace?: string; kubeVersion?: string; apiVersions?: string[] };
  traffic?: { endpoint?: string; target?: string; probeUrl?: string; resolvers?: string[] };
  /** values files, resolved against the sites file's directory by the loader */
  values?: string[];
  set?: Record<string, string | number | boolean>;
  timeoutSeconds?: number;
  mongo?: {
    pod?: { namespace: string; name?: string; selector?: string; container?: string };
    connection?: SecretRef;
    /** host:port of this site's replica-set members (when the members carry no `{site}` tag). */
    members?: string[];
  };
}

/** A loaded sites file. */
export interface SitesFile {
  sites: Site[];
  /** Absolute path of the file ('' when given inline). */
  file: string;
}

/** The JSON Schema of the sites file. */
export const sitesSchema = schema;

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(doc: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(schema);
  return validator(doc) ? [] : (validator.errors ?? []);
}

/** `/sites/1/cluster/kubeconfig` → `sites[1].cluster.kubeconfig` */
function jsonPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function describe(e: ErrorObject): string {
  const where = jsonPath(e.instancePath) || 'the file';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where}: unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case 'required':
      return `${where}: missing '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'oneOf':
      return `${where}: expected {env: VARIABLE} or {file: path}`;
    case 'minItems':
      return `${where}: expected at least ${(e.params as { limit: number }).limit} entry`;
    case 'pattern':
      return `${where}: '${String(e.data)}' does not match ${(e.params as { pattern: string }).pattern}`;
    default:
      return `${where}: ${e.message ?? 'is invalid'}`;
  }
}

/**
 * Parses and validates a sites document. Throws {@link InputError} naming `input` with the first problems found
 * (unknown keys, duplicate names, no sites, malformed fields).
 */
export function parseSites(doc: unknown, input: string, file = ''): SitesFile {
  const errors = validate(doc).filter((e) => e.keyword !== 'if');
  if (errors.length) {
    // oneOf reports its branches' errors too: keep the summary only
    const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
    const shown = errors.filter((e) => e.keyword === 'oneOf' || ![...oneOfPaths].some((p) => e.instancePath.startsWith(p) && e.schemaPath.includes('secretRef')));
    const uniq = [...new Set(shown.map(describe))];
    throw new InputError(input, `${file ? `${file}: ` : ''}${uniq.slice(0, 3).join('; ')}${uniq.length > 3 ? ` (and ${uniq.length - 3} more)` : ''}`);
  }
  const sites = (doc as { sites: Site[] }).sites;
  const seen = new Set<string>();
  for (const [i, s] of sites.entries()) {
    if (seen.has(s.name)) throw new InputError(input, `${file ? `${file}: ` : ''}sites[${i}].name: '${s.name}' is used twice`);
    seen.add(s.name);
    for (const r of s.hub?.publicIpRanges ?? []) {
      if (!parseCidr(r)) throw new InputError(input, `${file ? `${file}: ` : ''}sites[${i}].hub.publicIpRanges: '${r}' is not an IPv4/IPv6 address or CIDR range`);
    }
  }
  if (file) {
    const dir = path.dirname(file);
    for (const s of sites) if (s.values) s.values = s.values.map((v) => path.resolve(dir, v));
  }
  return { sites, file };
}

/** Reads and validates a sites file (YAML or JSON). */
export function loadSitesFile(file: string, input: string): SitesFile {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch {
    throw new InputError(input, `cannot read the sites file ${abs}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new InputError(input, `${abs}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseSites(doc, input, abs);
}

/** Finds a site by name; the error lists the known names. */
export function findSite(sites: SitesFile, name: string, input: string): Site {
  const s = sites.sites.find((x) => x.name === name);
  if (!s) throw new InputError(input, `unknown site '${name}': expected one of ${sites.sites.map((x) => x.name).join(', ')}`);
  return s;
}

/**
 * Reads a secret reference. `env` is the environment the pipeline mapped the secret into for this step. Errors name
 * `input` and the reference, never the value.
 */
export function readSecretRef(ref: SecretRef, input: string, env: NodeJS.ProcessEnv, baseDir = process.cwd()): string {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') throw new InputError(input, `environment variable ${ref.env} is not set (map the secret into it for this step)`);
    return v;
  }
  const file = path.resolve(baseDir, ref.file);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(input, `cannot read ${file}`);
  }
}

// ------------------------------------------------------------------------------------------------ same-Hub guard

function parseCidr(s: string): { addr: Buffer; bits: number } | undefined {
  const [ip, bitsText] = s.split('/');
  const fam = net.isIP(ip);
  if (!fam) return undefined;
  const max = fam === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return undefined;
  return { addr: ipBytes(ip), bits };
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
}

/** Whether `ip` lies in `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  if (!c || net.isIP(ip) === 0) return false;
  const a = ipBytes(ip);
  if (a.length !== c.addr.length) return false;
  for (let bit = 0; bit < c.bits; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((a[byte] & mask) !== (c.addr[byte] & mask)) return false;
  }
  return true;
}

/**
 * Why a storage host would be on the given site's Hub, or undefined when it is not: a host under the Hub's
 * domain (region.fqdn, where Hub storage accounts live) or under `cloudapp.<fqdn>` (VMs on the Hub), or an IP
 * in the Hub's declared ranges. Backups must not live on the Hub whose data they protect.
 */
export function sameHubReason(host: string, site: Site): string | undefined {
  const domain = site.hub?.domain?.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '');
  if (domain) {
    const [region, ...rest] = domain.split('.');
    const vms = `${region}.cloudapp.${rest.join('.')}`; // public VM names: <vm>.<region>.cloudapp.<fqdn>
    if (h === domain || h.endsWith(`.${domain}`)) return `${host} is under the Hub domain ${domain} of site ${site.name}`;
    if (rest.length && h.endsWith(`.${vms}`)) return `${host} is a VM address (${vms}) on the Hub of site ${site.name}`;
  }
  for (const r of site.hub?.publicIpRanges ?? []) {
    if (inCidr(h, r)) return `${host} is in ${r}, a range of the Hub of site ${site.name}`;
  }
  return undefined;
}
