/** Inputs of tool setup: definitions (task.json / action.yml are checked against them) and the parser. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import type { InputName, InputReader, OutputDef } from '../platform/inputs';
import type { Platform } from '../platform/types';
import { readCaFile } from '../shared/ca';
import { parseChecksums } from '../shared/checksums';
import { InputError } from '../shared/errors';
import { currentPlatform, findTool, mongoDistro, toolNames, TOOLS, type TargetPlatform } from '../shared/tools/catalog';
import { TEMPLATE_VARS, type ToolRequest } from '../shared/tools/resolve';
import { defineInputs } from '../shared/inputs';

export const toolSetupInputs = defineInputs([
  {
    name: 'tools',
    label: 'Tools',
    type: 'list',
    required: true,
    help: 'Tools to set up, one per line or comma-separated, each `name` or `name@version-or-range`: helm, kubectl, aks-engine-azurestack, mongodb-database-tools (also written mongodump or mongorestore). Example: `helm@3.17.x, kubectl@1.31.9`.',
  },
  {
    name: 'toolPaths',
    label: 'Explicit tool paths',
    type: 'multiline',
    help: 'Optional `tool=path` lines (a binary or the directory holding it). Such a tool is taken from there and nowhere else; its reported version must satisfy the request.',
  },
  {
    name: 'searchPath',
    label: 'Accept tools on PATH',
    type: 'boolean',
    default: 'true',
    help: 'Accept a tool already on PATH when it reports a version that satisfies the request.',
  },
  {
    name: 'mirrorUrl',
    label: 'Internal mirror URL template',
    type: 'string',
    group: 'mirror',
    help: 'URL template of an internal mirror, e.g. `https://mirror.corp.local/tools/{tool}/{version}/{os}-{arch}/{file}`. Placeholders: {tool} {version} {os} {arch} {distro} {file}. Every file needs a SHA-256 pin (checksums or checksumsFile), verified before anything is extracted.',
  },
  {
    name: 'checksums',
    label: 'SHA-256 pins',
    type: 'multiline',
    group: 'mirror',
    help: 'SHA-256 pins in sha256sum format: `<64 hex>  <tool>/<version>/<os>-<arch>/<file>` (the air-gap kit\'s SHA256SUMS lines work as they are).',
  },
  {
    name: 'checksumsFile',
    label: 'SHA-256 pins file',
    type: 'filePath',
    group: 'mirror',
    help: 'A file of SHA-256 pins in the same format as `checksums`.',
  },
  {
    name: 'caCertificate',
    label: 'CA certificate (PEM)',
    type: 'filePath',
    group: 'mirror',
    help: 'PEM file of the CA that signed the mirror\'s certificate. Trusted for the download and exported to later steps: SSL_CERT_FILE (system bundle plus this CA) and NODE_EXTRA_CA_CERTS.',
  },
  {
    name: 'downloadTimeoutSeconds',
    label: 'Download timeout (seconds)',
    type: 'number',
    default: '300',
    group: 'mirror',
    help: 'Time allowed for one mirror request without progress.',
  },
  {
    name: 'offlineBundle',
    label: 'Air-gap kit',
    type: 'filePath',
    group: 'kit',
    help: 'Path of the air-gap kit (`stackhub-ha-airgap-<version>.tar.gz`, or the directory it was unpacked into), used when no other place has the tool.',
  },
  {
    name: 'bundlePublicKey',
    label: 'Air-gap kit public key',
    type: 'string',
    group: 'kit',
    help: 'Ed25519 public key (PEM, inline or a file path) that signed the kit\'s SHA256SUMS. When set, an unsigned or badly signed kit is refused; without it the checksums prove integrity only, not origin.',
  },
  {
    name: 'distro',
    label: 'Linux distribution',
    type: 'string',
    help: 'Distribution name used in MongoDB Database Tools file names (debian12, ubuntu2204, rhel88, ...). Detected from /etc/os-release when empty.',
  },
  {
    name: 'addToPath',
    label: 'Add to PATH',
    type: 'boolean',
    default: 'true',
    help: 'Prepend each tool\'s directory to PATH for later steps.',
  },
]);

/** The names of the tool setup's inputs. */
export type ToolSetupInputName = InputName<typeof toolSetupInputs>;

export const toolSetupOutputs: readonly OutputDef[] = [
  ...TOOLS.flatMap((t): OutputDef[] => [
    ...t.binaries.map((b) => ({
      name: `${t.binaries.length > 1 ? b : t.outputPrefix}Path`,
      description: `Absolute path of ${b}, when requested.`,
    })),
    { name: `${t.outputPrefix}Version`, description: `Version of ${t.id}, when requested.` },
  ]),
  { name: 'tools', description: 'JSON array of every resolved tool: {tool, version, source, dir, binaries}.' },
  { name: 'caBundle', description: 'Path of the CA bundle exported as SSL_CERT_FILE, when caCertificate is set.' },
];

/** Tool setup's parsed inputs. */
export interface ToolSetupInputs {
  requests: ToolRequest[];
  explicit: Map<string, string>;
  searchPath: boolean;
  mirror?: { template: string; pins: Map<string, string>; pinInput: string; timeoutMs: number };
  caCertificates: string[];
  offlineBundle?: string;
  bundlePublicKey?: string;
  target: TargetPlatform;
  addToPath: boolean;
}

/** Parses `name@range` items. */
export function parseToolRequests(items: readonly string[]): ToolRequest[] {
  if (items.length === 0) throw new InputError('tools', `is required: name at least one of ${toolNames()}`);
  const out: ToolRequest[] = [];
  for (const item of items) {
    const at = item.indexOf('@');
    const name = (at < 0 ? item : item.slice(0, at)).trim();
    const want = at < 0 ? '*' : item.slice(at + 1).trim().replace(/^v(?=\d)/, '');
    const tool = findTool(name);
    if (!tool) throw new InputError('tools', `unknown tool '${name}': expected one of ${toolNames()}`);
    const range = semver.validRange(want);
    if (!want || range === null) throw new InputError('tools', `'${item}': expected a version or semver range after @, e.g. ${tool.id}@1.2.3 or ${tool.id}@1.2.x`);
    const existing = out.find((r) => r.tool.id === tool.id);
    if (existing) {
      if (existing.range !== range) throw new InputError('tools', `${tool.id} is requested twice with different versions (${existing.spec}, ${item})`);
      continue; // mongodump + mongorestore name the same package
    }
    out.push({ tool, range: semver.valid(want) ?? range, spec: item });
  }
  return out;
}

/** Parses tool setup's inputs. */
export function parseToolSetupInputs(read: InputReader<ToolSetupInputName>, _platform?: Platform, osRelease = readOsRelease): ToolSetupInputs {
  const requests = parseToolRequests(read.list('tools'));

  const explicit = new Map<string, string>();
  for (const line of read.multiline('toolPaths')) {
    const eq = line.indexOf('=');
    const tool = eq > 0 ? findTool(line.slice(0, eq).trim()) : undefined;
    if (eq <= 0 || !tool || !line.slice(eq + 1).trim()) {
      throw new InputError('toolPaths', `'${line}': expected tool=path with a tool among ${toolNames()}`);
    }
    explicit.set(tool.id, path.resolve(line.slice(eq + 1).trim()));
  }

  let mirror: ToolSetupInputs['mirror'];
  const template = read.string('mirrorUrl');
  const inlinePins = read.string('checksums');
  const pinsFile = read.filePath('checksumsFile');
  const pins = new Map<string, string>();
  if (inlinePins) for (const [k, v] of parseChecksums(inlinePins, 'checksums')) pins.set(k, v);
  if (pinsFile) for (const [k, v] of parseChecksums(fs.readFileSync(pinsFile, 'utf8'), 'checksumsFile')) pins.set(k, v);
  if (template) {
    let url: URL;
    try {
      url = new URL(template.replace(/\{(\w+)\}/g, 'x'));
    } catch {
      throw new InputError('mirrorUrl', `expected an http(s) URL template, got '${template}'`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError('mirrorUrl', `expected an http(s) URL template, got '${template}'`);
    for (const m of template.matchAll(/\{(\w+)\}/g)) {
      if (!(TEMPLATE_VARS as readonly string[]).includes(m[1])) {
        throw new InputError('mirrorUrl', `unknown placeholder {${m[1]}}: expected ${TEMPLATE_VARS.map((v) => `{${v}}`).join(' ')}`);
      }
    }
    if (!template.includes('{file}') && !(template.includes('{tool}') && template.includes('{version}'))) {
      throw new InputError('mirrorUrl', 'expected {file}, or {tool} and {version}, in the template (else every tool has the same URL)');
    }
    if (pins.size === 0) throw new InputError('mirrorUrl', 'a SHA-256 pin is required for every file: set checksums or checksumsFile');
    mirror = {
      template,
      pins,
      pinInput: inlinePins ? 'checksums' : 'checksumsFile',
      timeoutMs: read.number('downloadTimeoutSeconds', { min: 1, integer: true })! * 1000,
    };
  } else {
    read.number('downloadTimeoutSeconds', { min: 1, integer: true });
  }

  const caFile = read.filePath('caCertificate');
  const caCertificates = caFile ? readCaFile(caFile, 'caCertificate') : [];

  const offlineBundle = read.string('offlineBundle');
  if (offlineBundle && !fs.existsSync(path.resolve(offlineBundle))) {
    throw new InputError('offlineBundle', `expected the air-gap kit (.tar.gz or directory), cannot find ${path.resolve(offlineBundle)}`);
  }
  const bundlePublicKey = read.string('bundlePublicKey');
  if (bundlePublicKey && !offlineBundle) throw new InputError('bundlePublicKey', 'is set but offlineBundle is not');

  let distro = read.string('distro');
  if (!distro && process.platform === 'linux' && requests.some((r) => r.tool.id === 'mongodb-database-tools')) {
    distro = mongoDistro(osRelease());
    if (!distro) throw new InputError('distro', 'cannot detect the Linux distribution from /etc/os-release: set it (e.g. debian12, ubuntu2204, rhel88)');
  }
  if (distro && !/^[a-z]+[0-9]*$/.test(distro)) throw new InputError('distro', `expected a name like debian12 or rhel88, got '${distro}'`);

  return {
    requests,
    explicit,
    searchPath: read.boolean('searchPath'),
    mirror,
    caCertificates,
    offlineBundle: offlineBundle ? path.resolve(offlineBundle) : undefined,
    bundlePublicKey,
    target: currentPlatform(distro ?? 'unknown'),
    addToPath: read.boolean('addToPath'),
  };
}

function readOsRelease(): string {
  try {
    return fs.readFileSync('/etc/os-release', 'utf8');
  } catch {
    return '';
  }
}
