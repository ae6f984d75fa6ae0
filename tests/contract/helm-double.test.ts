/**
 * The helm double (tests/helpers/helm-double) accepts exactly the flags the REAL helm 3.17 and 4.1 accept, for every
 * command the double answers itself (the others it hands to the real helm). Derived, never listed by hand:
 * - the flags of each command come from the real `helm <cmd> --help` (its Flags and Global Flags);
 * - every one of them, in each form (`--f=v`, `--f v`, `--f`, `--f=true`, `-x v`), goes through the real helm and
 *   through the double's parse-only mode: the real helm must get past flag parsing (it then fails at the cluster: an
 *   unreachable kubeconfig, 127.0.0.1 on a closed port), and the double must too;
 * - flags the double accepts that the help does not show, and flags the help of the other major version shows
 *   (renamed or deprecated ones, which helm hides), go through the real helm one by one: the double must agree;
 * - a bad value of each validating pflag type (int, float32, duration, bool, format, key=value, wait strategy) is
 *   refused by both;
 * - every argv src/helm-release/args.ts builds is accepted by both.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as A from '../../src/helm-release/args';
import { flagGroup, PFLAG_ERROR, pflagHelp, pool, type HelpFlag, type Verdict, unreachableKubeconfig } from '../helpers/flag-contract';
import { runTool } from '../helpers/real-mongo-tools';
import { layer } from '../helpers/tool-fixtures';

const DOUBLE = path.join(__dirname, '..', 'helpers', 'helm-double', 'helm-double.cjs');
const NODE_PATH = path.join(__dirname, '..', '..', 'node_modules');
/** The commands the double answers itself, with the positionals a call needs. */
const POSITIONALS: Record<string, string[]> = {
  upgrade: ['rel', '/nonexistent/chart'],
  rollback: ['rel', '1'],
  uninstall: ['rel'],
  history: ['rel'],
  status: ['rel'],
  'get values': ['rel'],
  'get manifest': ['rel'],
  test: ['rel'],
  version: [],
};
/** Commands the double hands to the real helm (so they cannot drift). */
const DELEGATED = ['lint', 'template', 'show', 'package', 'pull', 'registry', 'repo', 'dependency'];
/** A value each pflag type refuses at parsing. */
/** Types whose Set() needs something this machine has not (helm 4: an installed postrenderer plugin): one row each. */
const UNSATISFIABLE = ['postRendererString'];
const BAD_VALUE: Record<string, string> = { int: 'x', float32: 'x', duration: '5', bool: 'maybe', format: 'xml', stringToString: 'novalue', WaitStrategy: 'forever' };

interface DoubleTable {
  long: Record<string, string>;
  short: Record<string, string>;
}
interface Probe {
  /** what the row checks, for the failure message */
  label: string;
  argv: string[];
  /** the verdict the real helm must give (checked when it is run) */
  expect?: Verdict;
  /** not run through the real helm: the verdict follows from the flag's pflag type, checked on one flag of it */
  derived?: boolean;
  /** flags the double must have parsed from the row (none swallowed as another flag's value) */
  names?: string[];
}

describe('contract: the helm double accepts exactly the flags of the real helm 3.17 / 4.1', function () {
  this.timeout(300_000);
  let work: string;
  let kubeconfig: string;
  let port: number;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-contract-'));
    ({ kubeconfig, port } = await unreachableKubeconfig(work));
    fs.writeFileSync(path.join(work, 'values.yaml'), 'a: 1\n');
    env = { PATH: '/usr/bin:/bin', HOME: work, HELM_CACHE_HOME: path.join(work, 'cache'), HELM_CONFIG_HOME: path.join(work, 'config'), HELM_DATA_HOME: path.join(work, 'data'), KUBECONFIG: kubeconfig };
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  /** A value the real helm takes for a flag of this name and type (parsing only; nothing may reach a network). */
  function sample(f: HelpFlag): string {
    const byName: Record<string, string> = {
      kubeconfig, 'kube-context': 'c', namespace: 'default', 'kube-apiserver': `https://127.0.0.1:${port}`, cascade: 'background',
      color: 'never', colour: 'never', 'server-side': 'auto', 'dry-run': 'client', template: '{{.Version}}', keyring: '/dev/null',
      values: path.join(work, 'values.yaml'), repo: `http://127.0.0.1:${port}`, filter: 'name=x', 'kube-as-group': 'g',
      'registry-config': path.join(work, 'reg.json'), 'repository-config': path.join(work, 'repos.yaml'), 'repository-cache': path.join(work, 'rc'), 'content-cache': path.join(work, 'cc'),
    };
    const byType: Record<string, string> = { duration: '1s', int: '1', float32: '1', format: 'json', stringToString: 'a=b', stringArray: 'a=b', WaitStrategy: 'watcher' };
    return byName[f.name] ?? byType[f.type] ?? 'x';
  }

  /** The real helm's verdict on each argv (flag parsing passed, or refused). */
  async function real(bin: string, argvs: string[][]): Promise<{ verdict: Verdict | 'other'; stderr: string }[]> {
    return pool(argvs, 4, async (argv) => {
      const r = await runTool(bin, argv, { env, killAfterMs: 60_000 });
      const err = r.stderr.split('\n').filter((l) => /^Error:/i.test(l)).join(' | ');
      // past parsing, helm fails at the cluster (or at the chart path) and never succeeds here
      const verdict: Verdict | 'other' = PFLAG_ERROR.test(r.stderr) ? 'reject' : r.code === 0 || /cluster unreachable|connection refused|not found|no such file|chart\(s\) linted/i.test(r.stderr) ? 'accept' : 'other';
      return { verdict, stderr: err || r.stderr.trim().slice(0, 300) };
    });
  }

  /** The double's verdict on each argv, in one process (its parse-only mode). */
  function double(version: string, argvs: string[][]): { ok?: boolean; error?: string; delegated?: boolean; flags?: Record<string, unknown> }[] {
    const r = spawnSync(process.execPath, [DOUBLE], { input: JSON.stringify(argvs), encoding: 'utf8', env: { ...env, NODE_PATH, HELM_DOUBLE_VERSION: version, HELM_DOUBLE_PARSE_ONLY: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  function doubleTable(version: string): Record<string, DoubleTable> {
    const r = spawnSync(process.execPath, [DOUBLE], { encoding: 'utf8', env: { ...env, NODE_PATH, HELM_DOUBLE_VERSION: version, HELM_DOUBLE_DUMP_FLAGS: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  function helpOf(bin: string, cmd: string): Map<string, HelpFlag> {
    const r = spawnSync(bin, [...cmd.split(' '), '--help'], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    const flags = pflagHelp(r.stdout);
    assert.ok(flags.has('kubeconfig') && flags.has('help'), `helm ${cmd} --help: no flags read`);
    return flags;
  }

  const base = (cmd: string): string[] => [...cmd.split(' '), ...POSITIONALS[cmd], '--kubeconfig', kubeconfig];

  /** The rows for one command of one version. */
  function probes(cmd: string, help: Map<string, HelpFlag>, other: Map<string, HelpFlag>, dbl: DoubleTable, dblOther: DoubleTable): Probe[] {
    const rows: Probe[] = [];
    const all = [...help.values()].filter((f) => f.name !== 'help');
    const visible = all.filter((f) => !UNSATISFIABLE.includes(f.type));
    for (const f of all.filter((x) => UNSATISFIABLE.includes(x.type))) rows.push({ label: `${cmd}: --${f.name}=${sample(f)} (${f.type})`, argv: [...base(cmd), `--${f.name}=${sample(f)}`] });
    const valueForm = (f: HelpFlag, spaced: boolean): string[] => (f.type === 'bool' ? [spaced ? `--${f.name}=true` : `--${f.name}`] : f.noOptDefVal !== undefined && !spaced ? [`--${f.name}`] : spaced && f.noOptDefVal === undefined ? [`--${f.name}`, sample(f)] : [`--${f.name}=${sample(f)}`]);
    // every visible flag at once, in each form (the real helm parses all of them before it fails at the cluster)
    const names = visible.map((f) => f.name);
    rows.push({ label: `${cmd}: every flag of the help, --f=v / --f / bare optional`, argv: [...base(cmd), ...visible.flatMap((f) => valueForm(f, false))], expect: 'accept', names });
    rows.push({ label: `${cmd}: every flag of the help, --f v / --f=true`, argv: [...base(cmd), ...visible.flatMap((f) => valueForm(f, true))], expect: 'accept', names });
    const shorts = visible.filter((f) => f.short);
    rows.push({ label: `${cmd}: every shorthand of the help`, argv: [...base(cmd), ...shorts.flatMap((f) => (f.type === 'bool' ? [`-${f.short}`] : [`-${f.short}`, sample(f)]))], expect: 'accept', names: shorts.map((f) => f.name) });
    rows.push({ label: `${cmd}: -h`, argv: [...base(cmd), '-h'], expect: 'accept' });
    // flags the double accepts that the help does not show, and the other version's flags: the real helm decides
    const hidden = new Set([...Object.keys(dbl.long), ...other.keys(), ...Object.keys(dblOther.long)].filter((n) => !help.has(n)));
    for (const n of hidden) {
      const t = dbl.long[n] ?? other.get(n)?.type ?? dblOther.long[n];
      rows.push({ label: `${cmd}: --${n} (not in this version's help)`, argv: [...base(cmd), t === 'bool' ? `--${n}` : `--${n}=${sample({ name: n, type: t })}`] });
    }
    for (const [s, n] of Object.entries(dbl.short)) if (help.get(n)?.short !== s) rows.push({ label: `${cmd}: -${s} (the double's shorthand of --${n})`, argv: [...base(cmd), `-${s}`, ...(dbl.long[n] === 'bool' ? [] : [sample({ name: n, type: dbl.long[n] })])] });
    // controls: the comparison can fail both ways
    rows.push({ label: `${cmd}: an unknown flag`, argv: [...base(cmd), '--no-such-flag'], expect: 'reject' });
    rows.push({ label: `${cmd}: an unknown shorthand`, argv: [...base(cmd), '-Z'], expect: 'reject' });
    // a value flag without its value
    const val = visible.find((f) => f.type !== 'bool' && f.noOptDefVal === undefined && f.name !== 'kubeconfig');
    if (val) rows.push({ label: `${cmd}: --${val.name} without its value`, argv: [...base(cmd), `--${val.name}`], expect: 'reject' });
    // a bad value of each validating type: the real helm run once per type, the double for every flag of the type
    const seen = new Set<string>();
    for (const f of visible) {
      const type = f.type === 'bool' ? 'bool' : f.type;
      if (!(type in BAD_VALUE)) continue;
      rows.push({ label: `${cmd}: --${f.name}=${BAD_VALUE[type]} (a bad ${type})`, argv: [...base(cmd), `--${f.name}=${BAD_VALUE[type]}`], expect: 'reject', derived: seen.has(type) });
      seen.add(type);
    }
    return rows;
  }

  for (const [name, version, otherName] of [['v31', '3.17.3', 'v34'], ['v34', '4.1.4', 'v31']] as const) {
    it(`helm ${version}: every command the double answers, every flag of its help and beyond, same verdict`, async () => {
      const bin = (await layer(name)).helm;
      const otherBin = (await layer(otherName)).helm;
      const otherVersion = otherName === 'v31' ? '3.17.3' : '4.1.4';
      const tables = doubleTable(version);
      const otherTables = doubleTable(otherVersion);
      assert.deepEqual(Object.keys(tables).sort(), Object.keys(POSITIONALS).sort(), 'a command the double answers has no contract rows here');
      const rows: Probe[] = [];
      for (const cmd of Object.keys(POSITIONALS)) rows.push(...probes(cmd, helpOf(bin, cmd), helpOf(otherBin, cmd), tables[cmd], otherTables[cmd]));
      const toRun = rows.map((r, i) => [r, i] as const).filter(([r]) => !r.derived);
      const realRuns = await real(bin, toRun.map(([r]) => r.argv));
      const realVerdict = new Map<number, { verdict: Verdict | 'other'; stderr: string }>(toRun.map(([, i], k) => [i, realRuns[k]]));
      // a batch that sets a whole cobra flag group is refused by design: the double must refuse it too, and the same
      // batch with one member of each group kept must pass
      const reduced: [Probe, number][] = [];
      for (const [r, i] of toRun) {
        const group = flagGroup(realVerdict.get(i)!.stderr);
        if (!group || r.expect !== 'accept') continue;
        r.expect = 'reject';
        r.label += ` (sets every flag of the group [${group.join(' ')}])`;
        const drop = new Set(group.slice(1).map((g) => `--${g}`));
        const argv = r.argv.filter((a, k) => !drop.has(a.split('=')[0]) && !(k > 0 && drop.has(r.argv[k - 1]) && !a.startsWith('-')));
        reduced.push([{ label: `${r.label.replace(/ \(sets.*$/, '')} without ${[...drop].join(' ')}`, argv, expect: 'accept', names: r.names?.filter((n) => !drop.has(`--${n}`)) }, rows.length + reduced.length]);
        delete r.names;
      }
      const reducedRuns = await real(bin, reduced.map(([r]) => r.argv));
      reduced.forEach(([r, i], k) => {
        rows.push(r);
        realVerdict.set(i, reducedRuns[k]);
        realRuns.push(reducedRuns[k]);
      });
      const dbl = double(version, rows.map((r) => r.argv));
      const problems: string[] = [];
      rows.forEach((r, i) => {
        const rv = realVerdict.get(i);
        const want = rv ? rv.verdict : r.expect!;
        if (rv && r.expect && rv.verdict !== r.expect) problems.push(`${r.label}: the real helm ${rv.verdict}s (expected ${r.expect}): ${rv.stderr}`);
        const got = dbl[i].ok ? 'accept' : 'reject';
        if (want !== 'other' && got !== want) problems.push(`${r.label}: real helm ${want}s${rv ? ` (${rv.stderr})` : ''}, the double ${got}s${dbl[i].error ? ` (${dbl[i].error})` : ''}`);
        if (got === 'accept' && r.names) {
          const missing = r.names.filter((n) => dbl[i].flags?.[n] === undefined);
          if (missing.length) problems.push(`${r.label}: the double did not parse ${missing.map((n) => `--${n}`).join(' ')} (taken as another flag's value?)`);
        }
        if (want === 'other') problems.push(`${r.label}: the real helm neither parsed nor refused: ${rv?.stderr}`);
      });
      assert.deepEqual(problems, []);
      // both verdicts occur among the rows the real helm decided
      assert.ok(realRuns.some((r) => r.verdict === 'accept') && realRuns.some((r) => r.verdict === 'reject'));
    });

    it(`helm ${version}: the double's value types are the real ones (help), so a bad value is refused alike`, async () => {
      const bin = (await layer(name)).helm;
      const tables = doubleTable(version);
      const problems: string[] = [];
      for (const cmd of Object.keys(POSITIONALS)) {
        for (const f of helpOf(bin, cmd).values()) {
          const mine = tables[cmd].long[f.name];
          if (mine === undefined) continue; // the contract test above reports it
          const want = f.type in BAD_VALUE || f.type === 'bool' ? f.type : 'string';
          const got = mine in BAD_VALUE || mine === 'bool' ? mine : 'string';
          if (want !== got) problems.push(`${cmd} --${f.name}: real ${f.type}, double ${mine}`);
        }
      }
      assert.deepEqual(problems, []);
    });

    it(`helm ${version}: every argv src/helm-release builds is accepted by the real helm and by the double`, async () => {
      const bin = (await layer(name)).helm;
      const major = version.startsWith('4') ? 4 : 3;
      const target = { kubeconfig, context: 'c', namespace: 'ratings' };
      const values = { valuesFiles: [path.join(work, 'values.yaml')], sets: [{ kind: 'set' as const, expr: 'a=1' }, { kind: 'set-string' as const, expr: 'b=2' }] };
      const chart = '/nonexistent/chart';
      const argvs = [
        A.versionArgs(),
        A.upgradeArgs({ major, release: 'rel', chart, target, ...values, timeoutSeconds: 60, wait: true, createNamespace: true, atomic: true, forceReplace: true, description: 'stackhub-ha run 1' }),
        A.upgradeArgs({ major, release: 'rel', chart, target, valuesFiles: [], sets: [], timeoutSeconds: 60, wait: false, createNamespace: false, atomic: false, forceReplace: false }),
        A.rollbackArgs({ major, release: 'rel', revision: 1, target, timeoutSeconds: 60, wait: true }),
        A.uninstallArgs({ major, release: 'rel', target, timeoutSeconds: 60, wait: true, description: 'x' }),
        A.historyArgs({ release: 'rel', target }),
        A.statusArgs({ release: 'rel', target }),
        A.getValuesArgs({ release: 'rel', target, revision: 2 }),
        A.getManifestArgs({ release: 'rel', target }),
        A.testArgs({ release: 'rel', target, timeoutSeconds: 60 }),
        A.lintArgs({ chart, ...values, kubeVersion: '1.31.0' }),
        A.templateArgs({ release: 'rel', chart, namespace: 'ratings', ...values, kubeVersion: '1.31.0', apiVersions: ['monitoring.coreos.com/v1'], isUpgrade: true }),
        A.showChartArgs(chart),
      ];
      const realRuns = await real(bin, argvs);
      const dbl = double(version, argvs);
      const problems: string[] = [];
      argvs.forEach((a, i) => {
        if (realRuns[i].verdict !== 'accept') problems.push(`real helm ${a.join(' ')}: ${realRuns[i].stderr}`);
        if (dbl[i].delegated) assert.ok(DELEGATED.includes(a[0]), `${a[0]} is neither answered by the double nor handed to the real helm`);
        else if (!dbl[i].ok) problems.push(`double ${a.join(' ')}: ${dbl[i].error}`);
      });
      assert.deepEqual(problems, []);
    });
  }
});
