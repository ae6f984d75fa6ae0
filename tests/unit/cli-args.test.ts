import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flagName, parseCommandLine, UsageError, commandHelp } from '../../src/platform/cli';
import type { InputDef } from '../../src/platform/inputs';
import { InputError } from '../../src/shared/errors';
import { toolSetup } from '../../src/tool-setup';

const defs: InputDef[] = [
  { name: 'mirrorUrl', label: '', type: 'string', help: '' },
  { name: 'addToPath', label: '', type: 'boolean', default: 'true', help: '' },
  { name: 'storageKey', label: '', type: 'secret', help: '' },
  { name: 'azureConnection', label: '', type: 'azureRmConnection', help: '', channels: ['azure-pipelines'] },
];

describe('CLI argument parsing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-args-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('kebab-cases input names', () => {
    assert.equal(flagName('mirrorUrl'), 'mirror-url');
    assert.equal(flagName('addToPath'), 'add-to-path');
  });

  const ok: [string, string[], Record<string, string>][] = [
    ['space-separated value', ['--mirror-url', 'https://m/{file}'], { mirrorUrl: 'https://m/{file}' }],
    ['= value', ['--mirror-url=https://m/{file}'], { mirrorUrl: 'https://m/{file}' }],
    ['camelCase flag', ['--mirrorUrl', 'x'], { mirrorUrl: 'x' }],
    ['bare boolean', ['--add-to-path'], { addToPath: 'true' }],
    ['boolean with value', ['--add-to-path', 'false'], { addToPath: 'false' }],
    ['--no- boolean', ['--no-add-to-path'], { addToPath: 'false' }],
    ['secret from env', ['--storage-key-env', 'MY_KEY'], { storageKey: 'k3y-from-env' }],
  ];
  for (const [what, argv, want] of ok) {
    it(`parses ${what}`, () => {
      const { values } = parseCommandLine(argv, defs, { MY_KEY: 'k3y-from-env' }, dir);
      assert.deepEqual(Object.fromEntries(values), want);
    });
  }

  it('reads a secret from --x-file (one trailing newline dropped)', () => {
    fs.writeFileSync(path.join(dir, 'key'), 'abc123\n');
    assert.equal(parseCommandLine(['--storage-key-file', 'key'], defs, {}, dir).values.get('storageKey'), 'abc123');
  });

  const bad: [string, string[], string, typeof UsageError | typeof InputError][] = [
    ['a secret on argv', ['--storage-key', 'abc'], "input 'storageKey': secret values are not accepted on the command line; use --storage-key-file <path> or --storage-key-env <VARIABLE>", InputError],
    ['an unknown flag', ['--nope', 'x'], 'unknown option --nope (see --help)', UsageError],
    ['an ADO-only input', ['--azure-connection', 'x'], 'unknown option --azure-connection (see --help)', UsageError],
    ['a missing value', ['--mirror-url'], 'option --mirror-url needs a value', UsageError],
    ['a stray positional', ['extra'], "unexpected argument 'extra'", UsageError],
    ['an unset env reference', ['--storage-key-env', 'UNSET_VAR'], "input 'storageKey': environment variable UNSET_VAR is not set", InputError],
  ];
  for (const [what, argv, message, type] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseCommandLine(argv, defs, {}, dir), (e: unknown) => e instanceof type && (e as Error).message === message);
    });
  }

  it('merges --config (flags win; secrets only as references; unknown keys refused)', () => {
    const cfg = path.join(dir, 'c.yaml');
    fs.writeFileSync(path.join(dir, 'sk'), 'from-file');
    fs.writeFileSync(cfg, 'mirrorUrl: https://a/{file}\naddToPath: false\nstorageKey: { file: sk }\n');
    const { values, globals } = parseCommandLine(['--config', cfg, '--mirror-url', 'https://b/{file}'], defs, {}, dir);
    assert.equal(globals.config, cfg);
    assert.deepEqual(Object.fromEntries(values), { mirrorUrl: 'https://b/{file}', addToPath: 'false', storageKey: 'from-file' });

    fs.writeFileSync(cfg, 'storageKey: plain-secret\n');
    assert.throws(() => parseCommandLine(['--config', cfg], defs, {}, dir), /input 'storageKey': secret values are not accepted in the config file/);
    fs.writeFileSync(cfg, 'mirorUrl: x\n');
    assert.throws(() => parseCommandLine(['--config', cfg], defs, {}, dir), (e: unknown) => e instanceof UsageError && /unknown key 'mirorUrl'/.test((e as Error).message));
    fs.writeFileSync(cfg, '- a\n- b\n');
    assert.throws(() => parseCommandLine(['--config', cfg], defs, {}, dir), /expected a mapping of input names to values/);
  });

  it('renders help from the input definitions', () => {
    const help = commandHelp('tools install', toolSetup);
    assert.match(help, /^Usage: stackhub-ha tools install \[options\]/);
    assert.match(help, /--mirror-url <value>/);
    assert.match(help, /--add-to-path <true\|false>[\s\S]*default: true/);
    assert.match(help, /--tools <value>[\s\S]*required/);
  });
});
