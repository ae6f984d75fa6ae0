/** scripts/bench.ts: the figures behind `npm run bench -- --json` (no bench is run here; only the reporting). */
import assert from 'node:assert/strict';
import { figuresOf, type Bench } from '../../scripts/bench';

const bench = (columns: string[], figures?: Bench['figures']): Bench => ({ name: 'b', columns, run: async () => [], figures });

describe('bench figures (--json)', () => {
  it('reads value, baseline, ratio and goal by the column convention', () => {
    const b = bench(['runtime', 'bundle', 'KiB', 'node ms', 'bundle ms', 'ratio', 'over node ms', 'goal ≤150']);
    assert.deepEqual(figuresOf(b, [['node20', 'cli', 900, '58.0', '255.0', '4.40', '197.0', 'MISSED']]), [
      { name: 'b — node20 cli: bundle ms vs node ms', value: 255, baseline: 58, ratio: 4.4, goal: '≤150', met: false },
    ]);
  });

  it('a table without a goal column: met and goal are null; the ratio is the bench\'s own', () => {
    const b = bench(['operation', 'GET ms', 'controller ms', 'ratio', 'over GET ms']);
    assert.deepEqual(figuresOf(b, [['swap', '10', '12', '1.20', '2']]), [{ name: 'b — swap: controller ms vs GET ms', value: 12, baseline: 10, ratio: 1.2, goal: null, met: null }]);
  });

  it('a goal but no ratio column: the value is the column before the goal, no baseline', () => {
    const b = bench(['sites', 'task ms', 'overhead ms/site', 'goal ≤150']);
    assert.deepEqual(figuresOf(b, [[8, '900', '40.5', 'met']]), [{ name: 'b — 8: overhead ms/site', value: 40.5, baseline: null, ratio: null, goal: '≤150', met: true }]);
  });

  it('a bench with its own figures() is asked for them row by row; tables without figures give none', () => {
    const b = bench(['x', 'v'], (row) => [{ name: `x ${row[0]}`, value: Number(row[1]), baseline: 2, ratio: Number(row[1]) / 2, goal: '≥0.9', met: Number(row[1]) / 2 >= 0.9 }]);
    assert.deepEqual(figuresOf(b, [['a', 1], ['b', 4]]).map((f) => [f.name, f.ratio, f.met]), [['x a', 0.5, false], ['x b', 2, true]]);
    assert.deepEqual(figuresOf(bench(['a', 'b']), [[1, 2]]), []);
  });
});
