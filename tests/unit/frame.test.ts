/** The capability frame: runCapability, the masking logger, the summary, secret files. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Capability } from '../../src/platform/capability';
import { fitSummary } from '../../src/platform/github-summary';
import { MaskingLogger, neutralise } from '../../src/platform/logger';
import { runCapability, writeSecretFile } from '../../src/platform/run';
import { Summary } from '../../src/platform/summary';
import type { Platform } from '../../src/platform/types';
import { InputError, PreconditionError } from '../../src/shared/errors';
import { Masker } from '../../src/shared/mask';

/** A platform that records everything, for frame tests. */
class RecordingPlatform implements Platform {
  readonly name = 'cli' as const;
  readonly masker = new Masker();
  readonly lines: string[] = [];
  readonly outputs: Record<string, string> = {};
  readonly masked: string[] = [];
  summary?: string;
  failed?: string;
  succeeded = false;
  readonly log: MaskingLogger;
  readonly paths: { agentTemp: string; toolCache: string };
  constructor(private readonly inputs: Record<string, string>, readonly debug = false) {
    this.log = new MaskingLogger(
      { info: (l) => this.lines.push(l), debug: (l) => this.lines.push(`debug: ${l}`), warning: (l) => this.lines.push(`warning: ${l}`), error: (l) => this.lines.push(`error: ${l}`), startGroup: (n) => this.lines.push(`group: ${n}`), endGroup: () => undefined },
      this.masker,
      debug,
    );
    const t = fs.mkdtempSync(path.join(os.tmpdir(), 'frame-'));
    this.paths = { agentTemp: t, toolCache: path.join(t, 'tools') };
  }
  input(n: string) { return this.inputs[n]; }
  kubernetesConnection() { return undefined; }
  azureRmConnection() { return undefined; }
  mask(s: string) { this.masked.push(s); this.masker.add(s); }
  setOutput(n: string, v: string) { this.outputs[n] = v; }
  setVariable() { /* unused */ }
  addPath() { /* unused */ }
  async writeSummary(_t: string, md: string) { this.summary = md; }
  setFailed(m: string) { this.failed = m; }
  setSucceeded() { this.succeeded = true; }
  agentProxy() { return undefined; }
  agentTls() { return {}; }
}

interface In { token?: string; fail?: string }
function capability(run: Capability<In, Record<string, unknown>>['run']): Capability<In, Record<string, unknown>> {
  return {
    name: 'test',
    title: 'Test',
    inputs: [
      { name: 'token', label: 't', type: 'secret', help: '' },
      { name: 'count', label: 'c', type: 'number', decimal: true, help: '' },
    ],
    outputs: [{ name: 'answer', description: '' }, { name: 'data', description: '' }],
    parse: (read) => {
      read.number('count', { min: 1 });
      return { token: read.secret('token') };
    },
    run,
  };
}

describe('runCapability', () => {
  it('masks secret inputs before parsing, sets outputs (objects as JSON), publishes the summary, removes the private temp dir', async () => {
    const p = new RecordingPlatform({ token: 'tok-123456' });
    let tempDir = '';
    const ok = await runCapability(p, capability(async (inputs, ctx) => {
      tempDir = ctx.tempDir;
      assert.equal(fs.statSync(ctx.tempDir).mode & 0o777, 0o700);
      ctx.log.info(`using ${inputs.token}`);
      ctx.summary.table(['k', 'v'], [['token', inputs.token]]);
      return { answer: '42', data: { a: 1 }, ignored: 'x' };
    }), p.masker);
    assert.equal(ok, true);
    assert.deepEqual(p.masked[0], 'tok-123456');
    assert.deepEqual(p.lines, ['using ***']);
    assert.deepEqual(p.outputs, { answer: '42', data: '{"a":1}' });
    assert.equal(p.summary, '| k | v |\n| --- | --- |\n| token | *** |\n');
    assert.equal(fs.existsSync(tempDir), false);
    assert.ok(p.succeeded && p.failed === undefined);
  });

  it('an input error is one line naming the input; nothing runs', async () => {
    const p = new RecordingPlatform({ count: '0' });
    let ran = false;
    const ok = await runCapability(p, capability(async () => { ran = true; return {}; }), p.masker);
    assert.equal(ok, false);
    assert.equal(ran, false);
    assert.equal(p.failed, "input 'count': expected a number of at least 1, got '0'");
    assert.equal(p.summary, "**Failed:** input 'count': expected a number of at least 1, got '0'\n");
    assert.equal(process.exitCode, 1);
    process.exitCode = 0;
  });

  it('a failure keeps the partial summary, masks the message, removes the temp dir; stack only in debug', async () => {
    for (const debug of [false, true]) {
      const p = new RecordingPlatform({ token: 'tok-abcdef' }, debug);
      let tempDir = '';
      await runCapability(p, capability(async (inputs, ctx) => {
        tempDir = ctx.tempDir;
        ctx.summary.table(['site', 'result'], [['seattle', 'ok']]);
        throw new PreconditionError(`endpoint unhealthy (${inputs.token})`);
      }), p.masker);
      assert.equal(p.failed, 'endpoint unhealthy (***)');
      assert.match(p.summary ?? '', /\| seattle \| ok \|\n\n\*\*Failed:\*\* endpoint unhealthy \(\*\*\*\)/);
      assert.equal(fs.existsSync(tempDir), false);
      assert.equal(p.lines.some((l) => /at .*frame\.test\.ts/.test(l)), debug, `stack shown only in debug (debug=${debug})`);
      process.exitCode = 0;
    }
  });

  it('an unexpected error is reported as such, in one line', async () => {
    const p = new RecordingPlatform({});
    await runCapability(p, capability(async () => { throw new TypeError('x is not a function\n  at y'); }), p.masker);
    assert.equal(p.failed, 'unexpected error: x is not a function at y');
    process.exitCode = 0;
  });

  it('InputError carries the input and the expectation', () => {
    const e = new InputError('tools', 'expected one of a, b');
    assert.equal(e.input, 'tools');
    assert.equal(e.message, "input 'tools': expected one of a, b");
  });
});

describe('masking logger', () => {
  it('neutralises CI commands in printed text', () => {
    assert.equal(neutralise('##vso[task.setvariable variable=x]y'), '#\u200b#vso[task.setvariable variable=x]y');
    assert.equal(neutralise('  ::set-output name=x::y'), '  :\u200b:set-output name=x::y');
    assert.equal(neutralise('a :: b'), 'a :: b');
  });

  it('masks multi-line secrets line by line, longest first', () => {
    const m = new Masker();
    m.add('-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----');
    m.add('abcd');
    m.add('abcdef');
    assert.equal(m.scrub('x AAAABBBBCCCC y abcdef z abcd'), 'x *** y *** z ***');
    assert.equal(m.add('ab').length, 0, 'too short to register');
  });

  it('reports progress once per percent', () => {
    const lines: string[] = [];
    const log = new MaskingLogger({ info: (l) => lines.push(l), debug: () => undefined, warning: () => undefined, error: () => undefined, startGroup: () => undefined, endGroup: () => undefined }, new Masker(), false);
    log.progress(10.2, 'a');
    log.progress(10.9, 'b');
    log.progress(150, 'c');
    log.progress(undefined, 'heartbeat');
    assert.deepEqual(lines, ['[10%] a', '[100%] c', 'heartbeat']);
  });
});

describe('summary', () => {
  it('escapes table cells', () => {
    assert.equal(new Summary().table(['a'], [['x|y\nz']]).toMarkdown(), '| a |\n| --- |\n| x\\|y<br>z |\n');
  });

  it('GitHub summaries are cut below 1 MiB with a note', () => {
    const big = 'row\n'.repeat(400_000);
    const cut = fitSummary(big);
    assert.ok(Buffer.byteLength(cut) <= 1024 * 1024);
    assert.match(cut, /summary truncated/);
    assert.equal(fitSummary('small'), 'small');
  });
});

describe('secret files for later steps', () => {
  it('are 0600 in a 0700 directory, outside the private temp dir', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-'));
    const f = writeSecretFile(root, 'kubeconfig', 'data');
    assert.equal(fs.statSync(f).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(f)).mode & 0o777, 0o700);
    assert.equal(fs.readFileSync(f, 'utf8'), 'data');
    assert.throws(() => writeSecretFile(root, '../x', 'd'), /bug/);
    fs.rmSync(root, { recursive: true });
  });
});
