/**
 * The chart of a release, located ONCE per run: a local directory, a packaged `.tgz`, an OCI reference on an
 * on-prem registry (`oci://registry.corp.local/charts/ratings`), or a classic repository URL + chart name. Remote
 * charts are pulled into the private temp dir, so every site gets the same bytes; the content digest (independent
 * of packaging) goes into the release record, and every later stage checks that it pulled the same chart.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import * as tar from 'tar';
import YAML from 'yaml';
import { InputError, PreconditionError } from '../shared/errors';

/** How the chart input was given. */
export type ChartSourceKind = 'dir' | 'tgz' | 'oci' | 'repo';

/** The chart input, classified and validated at parse time. */
export interface ChartSource {
  kind: ChartSourceKind;
  /** as given: a path (absolute after parsing), `oci://…`, or the chart name in `repoUrl` */
  ref: string;
  repoUrl?: string;
  /** requested version or range (pull), or the version the local chart must have */
  version?: string;
}

/** A chart ready to install. */
export interface LocatedChart {
  source: ChartSource;
  /** local path helm is given (directory or .tgz) */
  path: string;
  name: string;
  version: string;
  appVersion?: string;
  /** `sha256:<hex>` over the chart's files (relative path + content), independent of how it was packaged */
  digest: string;
}

/** Classifies the chart input. Local paths must exist; errors name the `chart` / `chartVersion` inputs. */
export function parseChartSource(chart: string, repoUrl: string | undefined, version: string | undefined, cwd = process.cwd()): ChartSource {
  if (version !== undefined) {
    const v = version.replace(/^v(?=\d)/, '');
    if (!semver.valid(v) && semver.validRange(v) === null) {
      throw new InputError('chartVersion', `expected a chart version like 1.2.3 or a range like ~1.2, got '${version}'`);
    }
  }
  if (chart.startsWith('oci://')) {
    if (repoUrl) throw new InputError('repoUrl', 'is set but chart is an oci:// reference: use one or the other');
    let u: URL;
    try {
      u = new URL(chart.replace(/^oci:/, 'https:'));
    } catch {
      throw new InputError('chart', `expected oci://<registry>/<path>/<chart>, got '${chart}'`);
    }
    if (!u.hostname || u.pathname.length < 2 || /[@:]/.test(u.pathname)) {
      throw new InputError('chart', `expected oci://<registry>/<path>/<chart> without a tag (give the version in chartVersion), got '${chart}'`);
    }
    return { kind: 'oci', ref: chart, version };
  }
  if (repoUrl) {
    let u: URL;
    try {
      u = new URL(repoUrl);
    } catch {
      throw new InputError('repoUrl', `expected an http(s) URL of a chart repository, got '${repoUrl}'`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new InputError('repoUrl', `expected an http(s) URL of a chart repository, got '${repoUrl}'`);
    if (u.username || u.password) throw new InputError('repoUrl', 'must not hold credentials: use registryUsername and registryPassword');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(chart)) throw new InputError('chart', `expected a chart name in the repository at repoUrl, got '${chart}'`);
    return { kind: 'repo', ref: chart, repoUrl, version };
  }
  const abs = path.resolve(cwd, chart);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new InputError(
      'chart',
      `chart not found: ${abs} does not exist (expected a chart directory, a packaged .tgz, an oci:// reference, or a chart name with repoUrl)`,
    );
  }
  if (st.isDirectory()) {
    if (!fs.existsSync(path.join(abs, 'Chart.yaml'))) throw new InputError('chart', `${abs} is a directory without Chart.yaml`);
    return { kind: 'dir', ref: abs, version };
  }
  if (/\.(tgz|tar\.gz)$/i.test(abs)) return { kind: 'tgz', ref: abs, version };
  throw new InputError('chart', `${abs}: expected a chart directory or a packaged .tgz`);
}

interface ChartYaml {
  name?: string;
  version?: string;
  appVersion?: string | number;
}

function parseChartYaml(text: string, where: string): ChartYaml {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new PreconditionError(`${where}: Chart.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const c = (doc ?? {}) as ChartYaml;
  if (typeof c.name !== 'string' || typeof c.version !== 'string') throw new PreconditionError(`${where}: Chart.yaml has no name or version`);
  return c;
}

function digestOf(files: Map<string, Buffer>): string {
  const h = crypto.createHash('sha256');
  for (const [name, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${name}\0${crypto.createHash('sha256').update(content).digest('hex')}\n`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** Every file of a chart directory (relative paths with `/`), VCS metadata excluded. */
function dirFiles(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === '.git' || e.name === '.svn' || e.name === '.hg') continue;
      const p = path.join(dir, e.name);
      const st = fs.statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.set(path.relative(root, p).split(path.sep).join('/'), fs.readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** Every file of a packaged chart, without its top directory. */
async function tgzFiles(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const pending: Promise<void>[] = [];
  try {
    await tar.t({
      file,
      onReadEntry: (entry) => {
        if (entry.type !== 'File' && entry.type !== 'OldFile') {
          entry.resume();
          return;
        }
        const name = entry.path.split('/').slice(1).join('/');
        const chunks: Buffer[] = [];
        pending.push(
          new Promise((resolve) => {
            entry.on('data', (c: Buffer) => chunks.push(c));
            entry.on('end', () => {
              out.set(name, Buffer.concat(chunks));
              resolve();
            });
          }),
        );
      },
    });
  } catch (e) {
    throw new PreconditionError(`${file} is not a packaged chart (.tgz): ${(e as Error).message}`);
  }
  await Promise.all(pending);
  return out;
}

/** Reads a local chart (directory or .tgz): metadata and content digest. */
export async function inspectLocalChart(source: ChartSource, chartPath: string): Promise<LocatedChart> {
  const files = fs.statSync(chartPath).isDirectory() ? dirFiles(chartPath) : await tgzFiles(chartPath);
  const chartYaml = files.get('Chart.yaml');
  if (!chartYaml) throw new PreconditionError(`${chartPath}: no Chart.yaml at the top of the chart`);
  const meta = parseChartYaml(chartYaml.toString('utf8'), chartPath);
  const located: LocatedChart = {
    source,
    path: chartPath,
    name: meta.name!,
    version: meta.version!,
    appVersion: meta.appVersion === undefined ? undefined : String(meta.appVersion),
    digest: digestOf(files),
  };
  if (source.version) {
    const want = source.version.replace(/^v(?=\d)/, '');
    const have = located.version.replace(/^v(?=\d)/, '');
    const ok = semver.valid(want) ? semver.valid(have) !== null && semver.eq(have, want) : semver.satisfies(have, want, { includePrerelease: true });
    if (!ok) {
      throw new InputError('chartVersion', `the chart at ${chartPath} is ${located.name} ${located.version}, not ${source.version}`);
    }
  }
  return located;
}

/** The registry host of an oci:// reference (for `helm registry login`). */
export function ociHost(ref: string): string {
  return new URL(ref.replace(/^oci:/, 'https:')).host;
}
