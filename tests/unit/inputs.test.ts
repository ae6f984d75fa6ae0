import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInputReader, type InputDef } from '../../src/platform/inputs';
import { InputError } from '../../src/shared/errors';

const defs: InputDef[] = [
  { name: 'name', label: 'n', type: 'string', help: '' },
  { name: 'req', label: 'r', type: 'string', required: true, help: '' },
  { name: 'flag', label: 'f', type: 'boolean', default: 'true', help: '' },
  { name: 'count', label: 'c', type: 'number', decimal: true, default: '3', help: '' },
  { name: 'items', label: 'i', type: 'list', help: '' },
  { name: 'lines', label: 'l', type: 'multiline', help: '' },
  { name: 'doc', label: 'd', type: 'object', help: '' },
  { name: 'file', label: 'p', type: 'filePath', help: '' },
  { name: 'token', label: 't', type: 'secret', help: '' },
  { name: 'mode', label: 'm', type: 'pickList', options: ['a', 'b'], default: 'a', help: '' },
];

function reader(values: Record<string, string>, masked: string[] = [], cwd = process.cwd()) {
  return createInputReader(defs, (n) => values[n], (s) => masked.push(s), cwd);
}

function throwsInput(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.message === message);
}

describe('input reader', () => {
  it('trims strings, applies defaults, requires required', () => {
    const r = reader({ name: '  x  ' });
    assert.equal(r.string('name'), 'x');
    assert.equal(r.string('mode'), 'a');
    throwsInput(() => r.string('req'), "input 'req': is required");
    throwsInput(() => r.requiredString('req'), "input 'req': is required");
    assert.equal(reader({}).string('name'), undefined);
  });

  const bools: [string | undefined, boolean | string][] = [
    ['true', true], ['TRUE', true], ['yes', true], ['1', true], ['on', true],
    ['false', false], ['no', false], ['0', false], ['off', false], [undefined, true],
    ['maybe', "input 'flag': expected true or false, got 'maybe'"],
  ];
  for (const [v, want] of bools) {
    it(`boolean ${JSON.stringify(v)} → ${want}`, () => {
      const r = reader(v === undefined ? {} : { flag: v });
      if (typeof want === 'string') throwsInput(() => r.boolean('flag'), want);
      else assert.equal(r.boolean('flag'), want);
    });
  }

  const numbers: [string, { min?: number; max?: number; integer?: boolean }, number | string][] = [
    ['5', {}, 5],
    ['2.5', {}, 2.5],
    ['2.5', { integer: true }, "input 'count': expected a whole number, got '2.5'"],
    ['0', { min: 1 }, "input 'count': expected a number of at least 1, got '0'"],
    ['11', { min: 1, max: 10 }, "input 'count': expected a number from 1 to 10, got '11'"],
    ['1e3', {}, "input 'count': expected a number, got '1e3'"],
    ['', {}, 3],
  ];
  for (const [v, opts, want] of numbers) {
    it(`number '${v}' ${JSON.stringify(opts)} → ${want}`, () => {
      const r = reader({ count: v });
      if (typeof want === 'string') throwsInput(() => r.number('count', opts), want);
      else assert.equal(r.number('count', opts), want);
    });
  }

  it('a number input without decimal takes whole numbers only (task.json types it int), unless the caller says otherwise', () => {
    const whole = createInputReader([{ name: 'replicas', label: 'r', type: 'number', help: '' }], (n) => ({ replicas: '2.5' })[n], () => undefined);
    throwsInput(() => whole.number('replicas'), "input 'replicas': expected a whole number, got '2.5'");
    throwsInput(() => whole.number('replicas', { min: 1 }), "input 'replicas': expected a whole number of at least 1, got '2.5'");
    assert.equal(whole.number('replicas', { integer: false }), 2.5);
    assert.equal(createInputReader([{ name: 'replicas', label: 'r', type: 'number', help: '' }], () => '7', () => undefined).number('replicas'), 7);
  });

  it('lists split on commas and newlines; multiline drops comments and blanks', () => {
    const r = reader({ items: 'a, b\n c,,\n', lines: '# comment\n one \n\n two' });
    assert.deepEqual(r.list('items'), ['a', 'b', 'c']);
    assert.deepEqual(r.multiline('lines'), ['one', 'two']);
    assert.deepEqual(reader({}).list('items'), []);
  });

  it('objects parse YAML/JSON inline or from @file, with errors naming the input', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-'));
    fs.writeFileSync(path.join(dir, 'x.yaml'), 'a: 1\nb: [2]\n');
    assert.deepEqual(reader({ doc: '{"a": 1}' }).object('doc'), { a: 1 });
    assert.deepEqual(reader({ doc: '@x.yaml' }, [], dir).object('doc'), { a: 1, b: [2] });
    throwsInput(() => reader({ doc: '@missing.yaml' }, [], dir).object('doc'), `input 'doc': cannot read file ${path.join(dir, 'missing.yaml')}`);
    assert.throws(() => reader({ doc: 'a: [' }).object('doc'), /^InputError: input 'doc': expected a YAML or JSON document/);
    fs.rmSync(dir, { recursive: true });
  });

  it('file paths must be readable files', () => {
    assert.equal(reader({ file: __filename }).filePath('file'), __filename);
    throwsInput(() => reader({ file: '/nonexistent' }).filePath('file'), "input 'file': expected a readable file, cannot read /nonexistent");
    throwsInput(() => reader({ file: os.tmpdir() }).filePath('file'), `input 'file': expected a readable file, cannot read ${os.tmpdir()}`);
    assert.equal(reader({ file: '/nonexistent' }).filePath('file', { mustExist: false }), '/nonexistent');
  });

  it('secrets are masked as they are read and keep their whitespace', () => {
    const masked: string[] = [];
    assert.equal(reader({ token: ' s3cret ' }, masked).secret('token'), ' s3cret ');
    assert.deepEqual(masked, [' s3cret ']);
  });

  it('choices must be among the options', () => {
    assert.equal(reader({ mode: 'b' }).choice('mode'), 'b');
    throwsInput(() => reader({ mode: 'c' }).choice('mode'), "input 'mode': expected one of a, b, got 'c'");
  });

  it('asking for an undefined input is a bug, not an input error', () => {
    assert.throws(() => reader({}).string('nope'), (e: unknown) => !(e instanceof InputError) && /bug: input 'nope'/.test(String(e)));
  });
});
