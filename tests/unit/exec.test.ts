import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { MaskingLogger } from '../../src/platform/logger';
import { TimeoutError, ToolError } from '../../src/shared/errors';
import { childEnv, exec, stripAnsi } from '../../src/shared/exec';
import { Masker } from '../../src/shared/mask';

function capture() {
  const lines: string[] = [];
  const masker = new Masker();
  const log = new MaskingLogger(
    { info: (l) => lines.push(l), debug: (l) => lines.push(`debug:${l}`), warning: (l) => lines.push(`warn:${l}`), error: (l) => lines.push(`err:${l}`), startGroup: () => undefined, endGroup: () => undefined },
    masker,
    true,
  );
  return { lines, masker, log };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('exec', () => {
  it('streams stdout and stderr lines to the log, masked and with ANSI stripped', async () => {
    const { lines, masker, log } = capture();
    masker.add('hunter22');
    await exec('sh', ['-c', 'printf "\\033[32mgreen\\033[0m hunter22\\n"; echo err >&2; printf partial'], { log, masker });
    assert.deepEqual(lines.sort(), ['err', 'green ***', 'partial'].sort());
  });

  it('captures stdout without logging it (for output that holds user data)', async () => {
    const { lines, log } = capture();
    const r = await exec('sh', ['-c', 'echo "{\\"a\\":1}"'], { log, stdout: 'capture' });
    assert.equal(r.stdout, '{"a":1}\n');
    assert.deepEqual(lines, []);
  });

  it('pipes binary stdout to a stream and feeds stdin', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await exec('cat', [], { stdout: 'pipe', stdoutTo: out, input: Buffer.from([0, 1, 2, 255]) });
    assert.deepEqual(Buffer.concat(chunks), Buffer.from([0, 1, 2, 255]));
  });

  it('a non-zero exit is a ToolError with the exit code and the last stderr line', async () => {
    const { masker } = capture();
    masker.add('topsecret');
    await assert.rejects(exec('sh', ['-c', 'echo first >&2; echo "bad topsecret" >&2; exit 3'], { masker, label: 'tool' }), (e: unknown) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.exitCode, 3);
      assert.equal(e.message, 'tool failed with exit code 3: bad ***');
      return true;
    });
  });

  it('a missing executable is a ToolError that says so', async () => {
    await assert.rejects(exec('/nonexistent/tool', []), /tool not found: \/nonexistent\/tool/);
  });

  it('a timeout kills the whole process tree, grandchildren included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-'));
    const pidFile = path.join(dir, 'pid');
    await assert.rejects(
      exec('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], { timeoutMs: 500, killGraceMs: 500, label: 'sleeper' }),
      (e: unknown) => e instanceof TimeoutError && /sleeper did not finish within 1 s; its process tree was killed/.test((e as Error).message),
    );
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(grandchild), false, 'grandchild must be dead');
    fs.rmSync(dir, { recursive: true });
  });

  it('a grandchild that traps SIGTERM is SIGKILLed after the grace period even when the leader exited at once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-'));
    const pidFile = path.join(dir, 'pid');
    // the leader dies on SIGTERM; the grandchild ignores it and keeps stdout/stderr open
    const script = `sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.1; done' & while [ ! -s ${pidFile} ]; do sleep 0.05; done; wait`;
    const started = Date.now();
    const outcome = await Promise.race([
      exec('sh', ['-c', script], { timeoutMs: 400, killGraceMs: 300, label: 'stubborn' }).then(
        () => 'resolved',
        (e: unknown) => (e instanceof TimeoutError ? 'timeout' : `other: ${(e as Error).message}`),
      ),
      new Promise<string>((r) => setTimeout(() => r('hung'), 15_000).unref()),
    ]);
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      assert.equal(outcome, 'timeout', `exec must reject with a TimeoutError, got ${outcome} after ${Date.now() - started} ms`);
      for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(grandchild), false, 'the TERM-trapping grandchild must be dead');
    } finally {
      if (alive(grandchild)) process.kill(grandchild, 'SIGKILL');
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('a background grandchild that keeps the output pipes open does not hold exec after the leader exits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-'));
    const pidFile = path.join(dir, 'pid');
    const outcome = await Promise.race([
      exec('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; echo done`], { label: 'daemoniser', streamGraceMs: 300 }).then(
        (r) => `exit ${r.exitCode}`,
        (e: unknown) => `rejected: ${(e as Error).message}`,
      ),
      new Promise<string>((r) => setTimeout(() => r('hung'), 15_000).unref()),
    ]);
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      assert.equal(outcome, 'exit 0');
      for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(grandchild), false, 'what the step left running in its process group is killed');
    } finally {
      if (alive(grandchild)) process.kill(grandchild, 'SIGKILL');
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('children get no CI secret variables nor any variable holding a registered secret, unless passed on purpose', async () => {
    const masker = new Masker();
    masker.add('s3cr3t-value');
    const env = childEnv(
      { PATH: '/bin', INPUT_PASSWORD: 'x', SECRET_FOO: 'x', ENDPOINT_AUTH_ABC: 'x', SYSTEM_ACCESSTOKEN: 'x', GITHUB_TOKEN: 'x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x', LEAK: 'has s3cr3t-value inside', KEEP: 'ok' },
      masker,
      { WANTED: 's3cr3t-value' },
    );
    assert.deepEqual(env, { PATH: '/bin', KEEP: 'ok', WANTED: 's3cr3t-value' });
    const r = await exec('sh', ['-c', 'env'], { stdout: 'capture', baseEnv: { PATH: '/usr/bin:/bin', INPUT_X: 'no' }, env: { ON_PURPOSE: 'yes' } });
    assert.match(r.stdout, /ON_PURPOSE=yes/);
    assert.doesNotMatch(r.stdout, /INPUT_X/);
  });

  it('strips ANSI colour and cursor sequences', () => {
    assert.equal(stripAnsi('\u001b[1;31mError:\u001b[0m x\u001b[2K'), 'Error: x');
  });
});
