/**
 * The aks-engine-azurestack double (tests/helpers/aks-engine-double/double.js) accepts exactly the flags of the real
 * tool, derived from the real `--help` texts in ../shared/reference/aks-engine-azurestack (help-<cmd>.txt; no real
 * binary runs on this machine). For every command with a help text:
 * - the double's flag table has the same flags, shorthands and kinds (bool, int, stringArray, string) as the help;
 * - every flag of the help in every form (`--f=v`, `--f v`, `--f`, `--f=true`, `-x v`, `-xv`) is accepted by the double
 *   with each flag parsed (none swallowed as another's value), and by pflag's rules applied to the help (the model of
 *   the real parser);
 * - the flags of the other commands' helps, an unknown flag and shorthand, a value flag without its value, a bad int
 *   or bool are refused by both;
 * - the argv src/aks-engine/args.ts builds for the command is accepted by both.
 * Skipped with a printed reason without ../shared.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as A from '../../src/aks-engine/args';
import { pflagHelp, pflagParse, type HelpFlag, type Verdict } from '../helpers/flag-contract';
import { ROOT } from '../helpers/harness';

const REFERENCE = path.resolve(ROOT, '..', 'shared', 'reference', 'aks-engine-azurestack');
const DOUBLE = path.join(ROOT, 'tests', 'helpers', 'aks-engine-double', 'double.js');
/** The double's type letters as pflag names them in a help text. */
const KIND: Record<string, string> = { s: 'string', b: 'bool', i: 'int', a: 'stringArray', l: 'strings' };

interface DoubleFlag {
  t: string;
  short?: string;
}
interface Row {
  label: string;
  argv: string[];
}

function kindOf(f: HelpFlag): string {
  // pflag prints a backquoted word of the usage in place of the type (`--auth-method client_secret`): a string
  return ['bool', 'int', 'stringArray', 'strings'].includes(f.type) ? f.type : 'string';
}

function sample(f: HelpFlag): string {
  return kindOf(f) === 'int' ? '3' : kindOf(f) === 'stringArray' ? 'a=1,b=2' : 'x';
}

describe('contract: the aks-engine-azurestack double accepts exactly the flags of the real help texts', () => {
  const helps = new Map<string, Map<string, HelpFlag>>();
  let table: { COMMANDS: Record<string, { flags: Record<string, DoubleFlag> }>; GLOBAL: Record<string, DoubleFlag> };

  before(function () {
    if (!fs.existsSync(REFERENCE)) {
      console.log(`      SKIPPED: the aks-engine-azurestack help texts are absent (${REFERENCE}); restore ../shared/reference to run these tests`);
      this.skip();
    }
    for (const f of fs.readdirSync(REFERENCE)) {
      const m = /^help-(.+)\.txt$/.exec(f);
      if (m && m[1] !== 'root') helps.set(m[1], pflagHelp(fs.readFileSync(path.join(REFERENCE, f), 'utf8')));
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    table = require(DOUBLE);
  });

  /** The double's verdicts, all argvs in one process (its parse-only mode). */
  function double(argvs: string[][]): { ok: boolean; error?: string; given?: string[] }[] {
    const r = spawnSync(process.execPath, [DOUBLE], { input: JSON.stringify(argvs), encoding: 'utf8', env: { PATH: '/usr/bin:/bin', AKS_DOUBLE_PARSE_ONLY: '1' } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  it('the reference has help texts, and every command of the double that has one is a command of the real tool', () => {
    assert.ok(helps.size >= 5, `help texts in ${REFERENCE}`);
    const root = fs.readFileSync(path.join(REFERENCE, 'help-root.txt'), 'utf8');
    const real = [...root.matchAll(/^ {2}([a-z][a-z-]+) {2,}/gm)].map((m) => m[1]);
    for (const cmd of Object.keys(table.COMMANDS)) assert.ok(real.includes(cmd), `the double answers '${cmd}', which the real tool does not have`);
    const without = Object.keys(table.COMMANDS).filter((c) => !helps.has(c));
    if (without.length) console.log(`      note: no help text in the reference for ${without.join(', ')}: their flags are not checked here`);
  });

  it('the double\'s flag table is the help\'s: same flags, shorthands and kinds', () => {
    const problems: string[] = [];
    for (const [cmd, help] of helps) {
      const mine: Record<string, DoubleFlag> = { ...table.GLOBAL, ...table.COMMANDS[cmd]?.flags };
      if (!table.COMMANDS[cmd]) {
        problems.push(`${cmd}: the double has no such command`);
        continue;
      }
      for (const f of help.values()) {
        const d = mine[f.name];
        if (!d) problems.push(`${cmd}: --${f.name} (${f.type}) is missing from the double`);
        else {
          if (KIND[d.t] !== kindOf(f)) problems.push(`${cmd}: --${f.name} is ${kindOf(f)}, the double has ${KIND[d.t]}`);
          if ((d.short ?? '') !== (f.short ?? '')) problems.push(`${cmd}: --${f.name} shorthand ${f.short ?? 'none'}, the double has ${d.short ?? 'none'}`);
        }
      }
      for (const n of Object.keys(mine)) if (!help.has(n)) problems.push(`${cmd}: the double accepts --${n}, the help has no such flag`);
    }
    assert.deepEqual(problems, []);
  });

  it('every flag in every form, the other commands\' flags and bad values: the double decides as pflag does on the help', () => {
    const rows: Row[] = [];
    const union = new Map<string, HelpFlag>();
    for (const help of helps.values()) for (const f of help.values()) union.set(f.name, f);
    for (const [cmd, help] of helps) {
      const flags = [...help.values()].filter((f) => f.name !== 'help');
      rows.push({ label: `${cmd}: every flag, --f=v / --f`, argv: [cmd, ...flags.flatMap((f) => (f.type === 'bool' ? [`--${f.name}`] : [`--${f.name}=${sample(f)}`]))] });
      rows.push({ label: `${cmd}: every flag, --f v / --f=true`, argv: [cmd, ...flags.flatMap((f) => (f.type === 'bool' ? [`--${f.name}=true`] : [`--${f.name}`, sample(f)]))] });
      const shorts = flags.filter((f) => f.short);
      rows.push({ label: `${cmd}: every shorthand, -x v / -x`, argv: [cmd, ...shorts.flatMap((f) => (f.type === 'bool' ? [`-${f.short}`] : [`-${f.short}`, sample(f)]))] });
      rows.push({ label: `${cmd}: every shorthand, -xv / -x=false`, argv: [cmd, ...shorts.map((f) => (f.type === 'bool' ? `-${f.short}=false` : `-${f.short}${sample(f)}`))] });
      rows.push({ label: `${cmd}: -h`, argv: [cmd, '-h'] }, { label: `${cmd}: --debug`, argv: [cmd, '--debug'] });
      for (const f of union.values()) if (!help.has(f.name)) rows.push({ label: `${cmd}: --${f.name} (another command's flag)`, argv: [cmd, f.type === 'bool' ? `--${f.name}` : `--${f.name}=${sample(f)}`] });
      for (const s of 'abcdefghijklmnopqrstuvwxyz') if (![...help.values()].some((f) => f.short === s)) rows.push({ label: `${cmd}: -${s}`, argv: [cmd, `-${s}`, 'x'] });
      rows.push({ label: `${cmd}: an unknown flag`, argv: [cmd, '--no-such-flag'] });
      for (const f of flags) {
        if (f.type === 'bool') rows.push({ label: `${cmd}: --${f.name}=maybe`, argv: [cmd, `--${f.name}=maybe`] });
        else rows.push({ label: `${cmd}: --${f.name} without its value`, argv: [cmd, `--${f.name}`] });
        if (kindOf(f) === 'int') rows.push({ label: `${cmd}: --${f.name}=x`, argv: [cmd, `--${f.name}=x`] }, { label: `${cmd}: --${f.name}=0x10`, argv: [cmd, `--${f.name}=0x10`] }, { label: `${cmd}: --${f.name}=-1`, argv: [cmd, `--${f.name}=-1`] });
      }
    }
    const dbl = double(rows.map((r) => r.argv));
    const problems: string[] = [];
    const seen = new Set<Verdict>();
    rows.forEach((r, i) => {
      const want = pflagParse(helps.get(r.argv[0])!, r.argv.slice(1));
      seen.add(want.verdict);
      const got: Verdict = dbl[i].ok ? 'accept' : 'reject';
      if (got !== want.verdict) problems.push(`${r.label}: pflag on the help ${want.verdict}s${want.error ? ` (${want.error})` : ''}, the double ${got}s${dbl[i].error ? ` (${dbl[i].error})` : ''}`);
      else if (got === 'accept') {
        const missing = [...new Set(want.set)].filter((n) => !dbl[i].given?.includes(n));
        if (missing.length) problems.push(`${r.label}: the double did not parse ${missing.join(', ')}`);
      }
    });
    assert.deepEqual(problems, []);
    assert.deepEqual([...seen].sort(), ['accept', 'reject']);
  });

  it('every argv src/aks-engine builds (for a command with a help text) is accepted by pflag on the help and by the double', () => {
    const hub = { apiModel: '/m.json', location: 'local', resourceGroup: 'rg', subscriptionId: '00000000-0000-0000-0000-000000000000', identitySystem: 'adfs' as const };
    const sp = { method: 'client_secret' as const, clientId: '11111111-1111-1111-1111-111111111111', clientSecret: 's' };
    const cert = { method: 'client_certificate' as const, clientId: '11111111-1111-1111-1111-111111111111', certificatePath: '/c.pem', privateKeyPath: '/k.pem' };
    const argvs = [
      A.getVersionsArgs(), A.getVersionsArgs('1.29.10'), A.versionArgs(),
      A.generateArgs({ apiModel: '/m.json', outputDirectory: '/o' }), A.generateArgs({ apiModel: '/m.json', outputDirectory: '/o', parametersOnly: true }),
      A.deployArgs({ ...hub, auth: sp, outputDirectory: '/o', forceOverwrite: true }), A.deployArgs({ ...hub, auth: cert, outputDirectory: '/o' }),
      A.scaleArgs({ ...hub, auth: cert, nodePool: 'linuxpool', newNodeCount: 4, apiServer: 'k.local.cloudapp.azurestack.external' }),
      A.upgradeArgs({ ...hub, auth: sp, upgradeVersion: '1.29.10', vmTimeoutMinutes: 30, cordonDrainTimeoutMinutes: 60, force: true, controlPlaneOnly: true }),
      A.getLogsArgs({ apiModel: '/m.json', location: 'local', sshHost: 'h', sshPrivateKeyPath: '/k', outputDirectory: '/o', controlPlaneOnly: true }),
    ];
    const dbl = double(argvs);
    const problems: string[] = [];
    argvs.forEach((a, i) => {
      const help = helps.get(a[0]);
      if (help) {
        const want = pflagParse(help, a.slice(1));
        if (want.verdict !== 'accept') problems.push(`pflag on help-${a[0]}.txt refuses ${a.join(' ')}: ${want.error}`);
      }
      if (!dbl[i].ok) problems.push(`the double refuses ${a.join(' ')}: ${dbl[i].error}`);
    });
    assert.deepEqual(problems, []);
  });
});
