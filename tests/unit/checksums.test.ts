import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findPin, formatChecksums, isSha256, parseChecksums, sha256File } from '../../src/shared/checksums';
import { InputError, StackHubError } from '../../src/shared/errors';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const MIXED = 'AbCdEf0123456789'.repeat(4);
const MALFORMED = 'expected "<64 hex characters>  <file name>"';

describe('checksums', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-sums-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('parseChecksums', () => {
    const ok: Array<[string, string, Array<[string, string]>]> = [
      ['text mode', `${A}  helm.tar.gz\n`, [['helm.tar.gz', A]]],
      ['binary mode', `${A} *helm.tar.gz\n`, [['helm.tar.gz', A]]],
      ['upper/mixed case is lowered', `${MIXED}  x\n`, [['x', MIXED.toLowerCase()]]],
      ['no trailing newline', `${A}  x`, [['x', A]]],
      ['CRLF', `${A}  x\r\n${B}  y\r\n`, [['x', A], ['y', B]]],
      ['blank lines and comments', `# made by hand\n\n   \n${A}  x\n  # indented comment\n`, [['x', A]]],
      ['paths kept with forward slashes', `${A}  tools/helm/3.17.3/linux-amd64/h.tar.gz\n`, [['tools/helm/3.17.3/linux-amd64/h.tar.gz', A]]],
      ['backslashes become forward slashes', `${A}  tools\\helm\\h.zip\n`, [['tools/helm/h.zip', A]]],
      ['name with spaces', `${A}  my file.txt\n`, [['my file.txt', A]]],
      ['GNU escaped line', `\\${A}  a\\nb\n`, [['a\nb', A]]],
      ['same name twice with the same hash', `${A}  x\n${A.toUpperCase()}  x\n`, [['x', A]]],
      ['empty text', '', []],
    ];
    for (const [title, text, expected] of ok) {
      it(`parses: ${title}`, () => {
        assert.deepEqual([...parseChecksums(text, 'checksums')], expected);
      });
    }

    const bad: Array<[string, string, string]> = [
      ['short hash', `${'a'.repeat(63)}  x\n`, `line 1: ${MALFORMED}`],
      ['long hash', `${'a'.repeat(65)}  x\n`, `line 1: ${MALFORMED}`],
      ['non-hex', `${'g'.repeat(64)}  x\n`, `line 1: ${MALFORMED}`],
      ['one space only', `${A} x\n`, `line 1: ${MALFORMED}`],
      ['no name', `${A}  \n`, `line 1: ${MALFORMED}`],
      ['hash only', `${A}\n`, `line 1: ${MALFORMED}`],
      ['BSD format', `SHA256 (x) = ${A}\n`, `line 1: ${MALFORMED}`],
      ['line number counts blanks and comments', `# c\n\n${A}  x\nnonsense\n`, `line 4: ${MALFORMED}`],
      ['tab separator', `${A}\tx\n`, `line 1: ${MALFORMED}`],
    ];
    for (const [title, text, expected] of bad) {
      it(`refuses: ${title}`, () => {
        assert.throws(
          () => parseChecksums(text, 'toolChecksums'),
          (err: unknown) => {
            assert.ok(err instanceof InputError);
            assert.equal(err.input, 'toolChecksums');
            assert.equal(err.expected, expected);
            assert.equal(err.message, `input 'toolChecksums': ${expected}`);
            return true;
          },
        );
      });
    }

    it('refuses the same name with different hashes', () => {
      assert.throws(
        () => parseChecksums(`${A}  x\n${B}  x\n`, 'toolChecksums'),
        (err: unknown) =>
          err instanceof InputError &&
          err.input === 'toolChecksums' &&
          err.expected === "line 2: 'x' is listed twice with different SHA-256 values",
      );
    });
  });

  describe('isSha256', () => {
    const rows: Array<[string, boolean]> = [
      [A, true],
      [MIXED, true],
      ['a'.repeat(63), false],
      ['a'.repeat(65), false],
      ['z'.repeat(64), false],
      ['', false],
      [` ${A}`, false],
    ];
    for (const [s, expected] of rows) {
      it(`${JSON.stringify(s.length > 20 ? s.slice(0, 8) + '…' + s.length : s)} → ${expected}`, () => {
        assert.equal(isSha256(s), expected);
      });
    }
  });

  describe('formatChecksums', () => {
    it('sorts by name, two spaces, lower case, trailing newline', () => {
      const text = formatChecksums(new Map([['b/z', B.toUpperCase()], ['a', A], ['B', A]]));
      assert.equal(text, `${A}  B\n${A}  a\n${B}  b/z\n`);
    });
    it('round-trips through parseChecksums', () => {
      const m = new Map([['x y', A], ['tools/a.tgz', B], ['n\nl', A]]);
      assert.deepEqual(parseChecksums(formatChecksums(m), 's'), new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1))));
    });
    it('gives the empty string for an empty map', () => {
      assert.equal(formatChecksums(new Map()), '');
    });
  });

  describe('sha256File', () => {
    it('hashes a file (streamed)', async () => {
      const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
      const f = path.join(tmp, 'big.bin');
      fs.writeFileSync(f, data);
      assert.equal(await sha256File(f), createHash('sha256').update(data).digest('hex'));
    });
    it('hashes an empty file', async () => {
      const f = path.join(tmp, 'empty');
      fs.writeFileSync(f, '');
      assert.equal(await sha256File(f), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });
    it('throws a StackHubError for a missing file', async () => {
      await assert.rejects(sha256File(path.join(tmp, 'nope')), (err: unknown) => {
        return err instanceof StackHubError && /ENOENT/.test(err.message);
      });
    });
  });

  describe('findPin', () => {
    const pins = new Map([
      ['tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz', A],
      ['kubectl/1.31.2/linux-amd64/kubectl', B],
      ['./tools/x/1/windows-amd64/x.zip', B.toUpperCase()],
    ]);
    const rows: Array<[string, string | undefined]> = [
      ['helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz', A],
      ['tools/helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz', A],
      ['3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz', A],
      ['kubectl/1.31.2/linux-amd64/kubectl', B],
      ['x/1/windows-amd64/x.zip', B],
      ['elm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz', undefined],
      ['helm-v3.17.3-linux-amd64.tar.gz', A],
      ['v3.17.3-linux-amd64.tar.gz', undefined],
      ['helm/3.17.2/linux-amd64/helm-v3.17.2-linux-amd64.tar.gz', undefined],
      ['', undefined],
    ];
    for (const [id, expected] of rows) {
      it(`${id || '(empty)'} → ${expected ? expected.slice(0, 4) + '…' : 'undefined'}`, () => {
        assert.equal(findPin(pins, id), expected);
      });
    }
    it('an exact key wins over suffix matches', () => {
      assert.equal(findPin(new Map([['a/x', A], ['x', B]]), 'x'), B);
    });
    it('refuses suffix matches that disagree', () => {
      assert.throws(() => findPin(new Map([['a/x', A], ['b/x', B]]), 'x'), StackHubError);
    });
    it('accepts suffix matches that agree', () => {
      assert.equal(findPin(new Map([['a/x', A], ['b/x', A]]), 'x'), A);
    });
  });
});
