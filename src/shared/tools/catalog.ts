/**
 * The tools that tool setup installs: how each names its release files, which binaries it brings, and how each
 * reports its version. This table is what the product needs at run time; it lives in src/.
 */

/** Operating system names as used in release file names and the mirror template's `{os}`. */
export type ToolOs = 'linux' | 'windows' | 'darwin';
/** CPU names as used in release file names and the mirror template's `{arch}` (Go style). */
export type ToolArch = 'amd64' | 'arm64';

/** Where a tool is wanted. */
export interface TargetPlatform {
  os: ToolOs;
  arch: ToolArch;
  /** MongoDB Database Tools are built per distribution, e.g. `debian12`, `ubuntu2204`, `rhel88`. */
  distro: string;
}

/** One installable tool. */
export interface ToolSpec {
  /** Canonical id, used in the tool cache, asset ids and outputs. */
  id: string;
  /** Other names accepted in the `tools` input. */
  aliases: readonly string[];
  /** Executables it brings; the first one reports the version. */
  binaries: readonly string[];
  /** Arguments that make the first binary print its version without a cluster or server. */
  versionArgs: readonly string[];
  /** Extracts `x.y.z` from the version command's stdout. */
  parseVersion(stdout: string): string | undefined;
  /** The upstream release file name for a version and platform. */
  file(version: string, p: TargetPlatform): string;
  /** Prefix of the capability's outputs (helmPath, aksEngineVersion, ...). */
  outputPrefix: string;
}

const semverIn = (s: string): string | undefined => /v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(s)?.[1];
const exe = (p: TargetPlatform, name: string): string => (p.os === 'windows' ? `${name}.exe` : name);
const archive = (p: TargetPlatform): string => (p.os === 'windows' ? 'zip' : 'tar.gz');
/**
 * The CPU name in MongoDB Database Tools file names (mongo-tools release/platform/platform.go): x86_64; for ARM,
 * `arm64` on Debian/Ubuntu and `aarch64` on RHEL, Amazon Linux and SUSE.
 */
const mongoArch = (p: TargetPlatform): string =>
  p.arch === 'amd64' ? 'x86_64' : /^(rhel|amazon|suse)/.test(p.distro) ? 'aarch64' : 'arm64';

/** Every tool tool setup knows. */
export const TOOLS: readonly ToolSpec[] = [
  {
    id: 'helm',
    aliases: [],
    binaries: ['helm'],
    versionArgs: ['version', '--short'],
    // v3.17.3+ge4da497
    parseVersion: (out) => semverIn(out.trim().split(/\s+/)[0] ?? ''),
    file: (v, p) => `helm-v${v}-${p.os}-${p.arch}.${archive(p)}`,
    outputPrefix: 'helm',
  },
  {
    id: 'kubectl',
    aliases: [],
    binaries: ['kubectl'],
    // plain `kubectl version` fails without a cluster
    versionArgs: ['version', '--client', '-o', 'json'],
    parseVersion: (out) => {
      try {
        return semverIn((JSON.parse(out) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? '');
      } catch {
        return undefined;
      }
    },
    // kubectl ships as a bare binary
    file: (_v, p) => exe(p, 'kubectl'),
    outputPrefix: 'kubectl',
  },
  {
    id: 'aks-engine-azurestack',
    aliases: ['aks-engine'],
    binaries: ['aks-engine-azurestack'],
    versionArgs: ['version'],
    // Version: v0.85.0
    parseVersion: (out) => semverIn(/Version:\s*(\S+)/i.exec(out)?.[1] ?? ''),
    file: (v, p) => `aks-engine-azurestack-v${v}-${p.os}-${p.arch}.${archive(p)}`,
    outputPrefix: 'aksEngine',
  },
  {
    id: 'mongodb-database-tools',
    aliases: ['mongodump', 'mongorestore', 'mongo-tools'],
    binaries: ['mongodump', 'mongorestore'],
    versionArgs: ['--version'],
    // the real 100.8.0 prints `mongodump version: 100.8.0`, then `git version: <sha>`, `Go version: go1.19.8` and
    // os/arch/compiler lines; a build without ldflags prints `mongodump version: built-without-version-string`
    parseVersion: (out) => semverIn(/^\s*(?:mongodump|mongorestore|bsondump) version: (\S+)/m.exec(out)?.[1] ?? ''),
    file: (v, p) =>
      p.os === 'windows'
        ? `mongodb-database-tools-windows-x86_64-${v}.zip`
        : p.os === 'darwin'
          ? `mongodb-database-tools-macos-${p.arch === 'amd64' ? 'x86_64' : 'arm64'}-${v}.zip`
          : `mongodb-database-tools-${p.distro}-${mongoArch(p)}-${v}.tgz`,
    outputPrefix: 'mongoTools',
  },
];

/** Finds a tool by id or alias (case-insensitive). */
export function findTool(name: string): ToolSpec | undefined {
  const n = name.toLowerCase();
  return TOOLS.find((t) => t.id === n || t.aliases.includes(n));
}

/** The names a user may write, for error messages. */
export function toolNames(): string {
  return TOOLS.map((t) => (t.aliases.length ? `${t.id} (${t.aliases.join(', ')})` : t.id)).join(', ');
}

/** The asset id of a release file: `<tool>/<version>/<os>-<arch>/<file>` (the kit and mirror layout). */
export function assetId(tool: ToolSpec, version: string, p: TargetPlatform): string {
  return `${tool.id}/${version}/${p.os}-${p.arch}/${tool.file(version, p)}`;
}

/** This machine's OS and CPU in release-file terms. */
export function currentPlatform(distro: string): TargetPlatform {
  const os: ToolOs = process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'darwin' : 'linux';
  const arch: ToolArch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  return { os, arch, distro };
}

/**
 * The distribution name MongoDB uses in its file names, from /etc/os-release text: debian12, ubuntu2204, rhel88
 * (RHEL and its rebuilds), amazon2023, sles15. Undefined when unknown (the `distro` input then must be set).
 */
export function mongoDistro(osRelease: string): string | undefined {
  const field = (k: string): string | undefined =>
    new RegExp(`^${k}=["']?([^"'\\n]*)["']?$`, 'm').exec(osRelease)?.[1]?.trim();
  const id = field('ID')?.toLowerCase();
  const like = (field('ID_LIKE') ?? '').toLowerCase().split(/\s+/);
  const ver = field('VERSION_ID') ?? '';
  const [major, minor = '0'] = ver.split('.');
  if (!id || !major) return undefined;
  if (id === 'debian') return `debian${major}`;
  if (id === 'ubuntu') return `ubuntu${major}${minor.padStart(2, '0')}`;
  if (id === 'amzn') return major === '2' ? 'amazon2' : `amazon${major}`;
  if (id === 'sles' || id === 'opensuse-leap') return `suse${major}`;
  if (['rhel', 'rocky', 'almalinux', 'ol', 'centos'].includes(id) || like.includes('rhel')) return `rhel${major}${minor.slice(0, 1)}`;
  return undefined;
}
