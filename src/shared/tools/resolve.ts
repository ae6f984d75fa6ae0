/**
 * Offline tool resolution. For each requested tool and version range, in this order, the first hit wins:
 * 1. an explicit path input; 2. PATH (only if the tool reports a matching version); 3. the tool cache;
 * 4. an internal mirror (SHA-256 pin required, verified before extracting); 5. the air-gap kit.
 * Nothing else is contacted. When nothing matches, the error lists every place tried and what was found there.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import type { Logger } from '../../types';
import { extractArchive, archiveKind, findExecutable } from '../archive';
import { findPin } from '../checksums';
import { InputError, StackHubError, oneLine } from '../errors';
import type { ExecOptions, ExecResult } from '../exec';
import { download, HttpStatusError, redactUrl, type HttpOptions } from '../http';
import type { Kit } from '../kit';
import { cacheArch, findInCache, installToCache, which } from './cache';
import { assetId, type TargetPlatform, type ToolSpec } from './catalog';

/** One requested tool. */
export interface ToolRequest {
  tool: ToolSpec;
  /** semver range ('*' when no version was given) */
  range: string;
  /** as the user wrote it, for messages */
  spec: string;
}

/** Where a tool was found. */
export type ToolSource = 'path input' | 'PATH' | 'tool cache' | 'mirror' | 'air-gap kit';

/** A resolved tool. */
export interface ResolvedTool {
  tool: string;
  version: string;
  /** Directory holding the binaries (added to PATH for later steps). */
  dir: string;
  /** binary name → absolute path */
  binaries: Record<string, string>;
  source: ToolSource;
}

/** The internal mirror. */
export interface MirrorSource {
  /** URL template with {tool} {version} {os} {arch} {distro} {file} */
  template: string;
  /** asset id (or a path ending in one) → sha256 */
  pins: Map<string, string>;
  /** The input that holds the pins, named in checksum errors. */
  pinInput: string;
  http: HttpOptions;
}

/** Everything the resolver may look at. */
export interface ToolSources {
  target: TargetPlatform;
  /** tool id → a binary or a directory, from the `toolPaths` input */
  explicit: Map<string, string>;
  searchPath: boolean;
  pathEnv: string | undefined;
  cacheRoot: string;
  mirror?: MirrorSource;
  /** Opens the air-gap kit (memoised by the caller); undefined when none is configured. */
  kit?: () => Promise<Kit>;
}

/** What the resolver needs from the run. */
export interface ResolveContext {
  log: Logger;
  tempDir: string;
  exec(file: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** Expands a mirror URL template. */
export function expandTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? encodeURIComponent(vars[k]).replace(/%2F/g, '/') : m));
}

/** The placeholders a mirror template may use. */
export const TEMPLATE_VARS = ['tool', 'version', 'os', 'arch', 'distro', 'file'] as const;

/** Runs the tool's version command and returns the version it reports. */
export async function probeVersion(tool: ToolSpec, binary: string, ctx: ResolveContext): Promise<string> {
  const res = await ctx.exec(binary, tool.versionArgs, {
    stdout: 'capture',
    quietStderr: true,
    timeoutMs: 60_000,
    label: path.basename(binary),
  });
  const v = tool.parseVersion(res.stdout);
  if (!v) throw new StackHubError(`${binary} ${tool.versionArgs.join(' ')} printed no version`);
  return v;
}

function satisfies(version: string, range: string): boolean {
  return semver.satisfies(version, range, { includePrerelease: true });
}

function binariesIn(tool: ToolSpec, dir: string, target: TargetPlatform): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const b of tool.binaries) {
    const p = path.join(dir, target.os === 'windows' ? `${b}.exe` : b);
    if (!fs.existsSync(p)) return undefined;
    out[b] = p;
  }
  return out;
}

/** Copies every regular file of `fromDir` into `toDir`, keeping modes. */
function copyFiles(fromDir: string, toDir: string): void {
  for (const e of fs.readdirSync(fromDir, { withFileTypes: true })) {
    if (!e.isFile()) continue;
    const src = path.join(fromDir, e.name);
    fs.copyFileSync(src, path.join(toDir, e.name));
    fs.chmodSync(path.join(toDir, e.name), fs.statSync(src).mode & 0o777);
  }
}

/**
 * Puts a verified release file into the tool cache: extracts it (or takes a bare binary), checks that every
 * binary is there and that the first reports `version`, and only then marks the cache entry complete.
 */
export async function installReleaseFile(
  tool: ToolSpec,
  version: string,
  file: string,
  fileName: string,
  origin: string,
  sources: ToolSources,
  ctx: ResolveContext,
): Promise<ResolvedTool> {
  const { target } = sources;
  const dir = await installToCache(sources.cacheRoot, tool.id, version, cacheArch(target.arch), async (staging) => {
    const kind = archiveKind(fileName);
    if (kind === 'bare') {
      const name = target.os === 'windows' ? `${tool.binaries[0]}.exe` : tool.binaries[0];
      fs.copyFileSync(file, path.join(staging, name));
      fs.chmodSync(path.join(staging, name), 0o755);
    } else {
      const x = path.join(ctx.tempDir, `extract-${crypto.randomBytes(4).toString('hex')}`);
      try {
        await extractArchive(file, x, kind);
        const first = await findExecutable(x, tool.binaries[0]);
        if (!first) throw new InputError(origin, `${fileName} holds no ${tool.binaries[0]} binary`);
        copyFiles(path.dirname(first), staging);
      } finally {
        fs.rmSync(x, { recursive: true, force: true });
      }
    }
    const bins = binariesIn(tool, staging, target);
    if (!bins) {
      const missing = tool.binaries.filter((b) => !binariesIn({ ...tool, binaries: [b] }, staging, target));
      throw new InputError(origin, `${fileName} holds no ${missing.join(', ')} binary`);
    }
    // every binary of a package must be the pinned version (a kit with a mongorestore from another release is
    // refused as well as one with the wrong mongodump)
    for (const b of tool.binaries) {
      let reported: string;
      try {
        reported = await probeVersion({ ...tool, binaries: [b] }, bins[b], ctx);
      } catch (e) {
        ctx.log.debug(`${b} ${tool.versionArgs.join(' ')}: ${oneLine(e)}`);
        throw new InputError(origin, `${fileName}: ${b} ${tool.versionArgs.join(' ')} reports no version`);
      }
      if (reported !== version) throw new InputError(origin, `${fileName}: ${b} reports version ${reported}, expected ${version}`);
    }
  });
  return { tool: tool.id, version, dir, binaries: binariesIn(tool, dir, target)!, source: 'mirror' };
}

/** Versions that the pins offer for a tool on this platform, highest first. */
export function pinnedVersions(tool: ToolSpec, pins: Map<string, string>, target: TargetPlatform): string[] {
  const re = new RegExp(`(?:^|/)${tool.id.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}/([^/]+)/${target.os}-${target.arch}/([^/]+)$`);
  const versions = new Set<string>();
  for (const key of pins.keys()) {
    const m = re.exec(key);
    if (m && semver.valid(m[1]) && tool.file(m[1], target) === m[2]) versions.add(m[1]);
  }
  return [...versions].sort(semver.rcompare);
}

/** Resolves one tool, trying each source in order. */
export async function resolveTool(req: ToolRequest, sources: ToolSources, ctx: ResolveContext): Promise<ResolvedTool> {
  const { tool, range } = req;
  const { target } = sources;
  const tried: string[] = [];

  // 1. explicit path
  const explicit = sources.explicit.get(tool.id);
  if (explicit !== undefined) {
    const dir = fs.existsSync(explicit) && fs.statSync(explicit).isDirectory() ? explicit : path.dirname(explicit);
    const bins = binariesIn(tool, dir, target);
    if (!bins) throw new InputError('toolPaths', `${tool.id}: no ${tool.binaries.join(', ')} at ${explicit}`);
    const v = await probeVersion(tool, bins[tool.binaries[0]], ctx);
    if (!satisfies(v, range)) {
      throw new InputError('toolPaths', `${tool.id} at ${explicit} reports version ${v}, which does not satisfy ${req.spec}`);
    }
    return { tool: tool.id, version: v, dir, binaries: bins, source: 'path input' };
  }
  tried.push('path input: not set');

  // 2. PATH
  if (sources.searchPath) {
    const first = which(tool.binaries[0], sources.pathEnv);
    if (!first) tried.push(`PATH: no ${tool.binaries[0]}`);
    else {
      const dir = path.dirname(first);
      const bins = binariesIn(tool, dir, target);
      let v: string | undefined;
      try {
        v = await probeVersion(tool, first, ctx);
      } catch (e) {
        tried.push(`PATH: ${first} did not report a version (${oneLine(e)})`);
      }
      if (v !== undefined) {
        if (!satisfies(v, range)) tried.push(`PATH: ${first} is version ${v}`);
        else if (!bins) tried.push(`PATH: ${first} is version ${v} but ${tool.binaries.join(', ')} are not all beside it`);
        else return { tool: tool.id, version: v, dir, binaries: bins, source: 'PATH' };
      }
    }
  } else tried.push('PATH: not searched (searchPath is false)');

  // 3. tool cache
  const cached = findInCache(sources.cacheRoot, tool.id, range, cacheArch(target.arch));
  if (cached) {
    const bins = binariesIn(tool, cached.dir, target);
    if (bins) return { tool: tool.id, version: cached.version, dir: cached.dir, binaries: bins, source: 'tool cache' };
    tried.push(`tool cache: ${cached.dir} is marked complete but lacks ${tool.binaries.join(', ')}`);
  } else tried.push(`tool cache ${sources.cacheRoot}: no complete ${tool.id} matching ${range}`);

  // 4. internal mirror
  if (sources.mirror) {
    const m = sources.mirror;
    const versions = pinnedVersions(tool, m.pins, target).filter((v) => satisfies(v, range));
    if (versions.length === 0) {
      const wanted = semver.valid(range) ? assetId(tool, range, target) : `${tool.id} ${range} on ${target.os}-${target.arch}`;
      tried.push(`mirror: no SHA-256 pin for ${wanted} in ${m.pinInput}`);
    } else {
      const version = versions[0];
      const id = assetId(tool, version, target);
      const pin = findPin(m.pins, id)!;
      const fileName = tool.file(version, target);
      const url = expandTemplate(m.template, { tool: tool.id, version, os: target.os, arch: target.arch, distro: target.distro, file: fileName });
      const dlDir = fs.mkdtempSync(path.join(ctx.tempDir, 'download-'));
      const dest = path.join(dlDir, fileName);
      try {
        ctx.log.info(`${tool.id} ${version}: downloading ${redactUrl(url)}`);
        const res = await download(url, dest, {
          ...m.http,
          onProgress: (got, total) =>
            ctx.log.progress(total ? (got * 100) / total : undefined, `${tool.id} ${version}: ${(got / 1048576).toFixed(1)} MiB${total ? ` of ${(total / 1048576).toFixed(1)} MiB` : ''}`),
        });
        if (res.sha256 !== pin.toLowerCase()) {
          throw new InputError(m.pinInput, `checksum mismatch for ${id}: pinned ${pin.toLowerCase()}, downloaded file has ${res.sha256}`);
        }
        const r = await installReleaseFile(tool, version, dest, fileName, 'mirrorUrl', sources, ctx);
        return { ...r, source: 'mirror' };
      } catch (e) {
        if (e instanceof InputError || !(e instanceof StackHubError)) throw e;
        tried.push(`mirror: ${e instanceof HttpStatusError ? `${redactUrl(url)} answered ${e.status}` : oneLine(e)}`);
      } finally {
        fs.rmSync(dlDir, { recursive: true, force: true });
      }
    }
  } else tried.push('mirror: not configured (mirrorUrl)');

  // 5. air-gap kit
  if (sources.kit) {
    // a kit that cannot be opened or whose file does not match its SHA256SUMS is bad input: name the input
    const asInput = (e: unknown): never => {
      throw e instanceof StackHubError && !(e instanceof InputError) ? new InputError('offlineBundle', e.message) : e;
    };
    const kit = await sources.kit().catch(asInput);
    const offered = kit.listTools(tool.id, target.os, target.arch).filter((t) => tool.file(t.version, target) === t.file);
    const match = offered.filter((t) => satisfies(t.version, range)).sort((a, b) => semver.rcompare(a.version, b.version))[0];
    if (!match) {
      tried.push(`air-gap kit: has ${offered.length ? offered.map((t) => t.version).join(', ') : `no ${tool.id} for ${target.os}-${target.arch}`}`);
    } else {
      // a copy extracted from a .tar.gz kit lives in the private temp dir and goes with it
      const file = await kit.extractAsset(match.path).catch(asInput);
      const r = await installReleaseFile(tool, match.version, file, match.file, 'offlineBundle', sources, ctx);
      return { ...r, source: 'air-gap kit' };
    }
  } else tried.push('air-gap kit: not configured (offlineBundle)');

  throw new StackHubError(`${tool.id} ${req.spec === tool.id ? '' : `(${req.spec}) `}not found for ${target.os}-${target.arch}. Tried: ${tried.join('; ')}`);
}
