/**
 * `npm run bench`: speed and memory as ratios against a baseline measured in the same run (never absolute timed
 * assertions). Each file in bench/ exports `benches: Bench[]`; `npm run bench -- <name>` runs the benches whose
 * name contains <name>. `npm run bench -- --json` prints the tables on stderr and, on stdout, every figure as JSON
 * (`--json=<file>` writes it to a file instead): one object per figure, {@link Figure}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One benchmark: returns rows for the report table. */
export interface Bench {
  name: string;
  /** Column names of its rows. */
  columns: string[];
  run(): Promise<(string | number)[][]>;
  /**
   * The figures of one row (see {@link Figure}). Without it, {@link figuresOf} reads them by the table convention:
   * value and baseline are the two columns before `ratio`, the goal is a `goal …` column holding met/MISSED.
   */
  figures?(row: (string | number)[], columns: string[]): Figure[];
}

/** One figure of the report: a value against its baseline measured in the same run. */
export interface Figure {
  name: string;
  value: number | null;
  baseline: number | null;
  /** value / baseline (or the bench's own ratio column). */
  ratio: number | null;
  /** The goal as written in the issue, e.g. `≥0.9` (of the ratio) or `≤150` (of a difference in ms). */
  goal: string | null;
  met: boolean | null;
}

const num = (c: string | number | undefined): number | null => {
  const n = typeof c === 'number' ? c : Number.parseFloat(String(c ?? ''));
  return Number.isFinite(n) ? n : null;
};

/** The figures of a bench's rows (its own `figures`, else by the column convention). */
export function figuresOf(b: Bench, rows: (string | number)[][]): Figure[] {
  const out: Figure[] = [];
  const r = b.columns.indexOf('ratio');
  const g = b.columns.findIndex((c) => c.startsWith('goal'));
  for (const row of rows) {
    if (b.figures) {
      out.push(...b.figures(row, b.columns));
      continue;
    }
    if (r < 0 && g < 0) continue;
    // the row's label: its first cell and the words (not numbers) before the measured columns
    const vi = r >= 2 ? r - 1 : g - 1;
    const bi = r >= 2 ? r - 2 : -1;
    const first = Math.min(...[bi, vi].filter((i) => i >= 0));
    const label = [row[0], ...row.slice(1, first).filter((c) => num(c) === null)].join(' ');
    const value = num(row[vi]);
    const baseline = bi >= 0 ? num(row[bi]) : null;
    const ratio = r >= 0 ? num(row[r]) : null;
    const goalCell = g >= 0 ? String(row[g]) : '';
    out.push({
      name: `${b.name} — ${label}: ${b.columns[vi]}${bi >= 0 ? ` vs ${b.columns[bi]}` : ''}`,
      value,
      baseline,
      ratio: ratio ?? (value !== null && baseline ? value / baseline : null),
      goal: g >= 0 ? b.columns[g].replace(/^goal\s*/, '') : null,
      met: goalCell === 'met' ? true : goalCell === 'MISSED' ? false : null,
    });
  }
  return out;
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function table(columns: string[], rows: (string | number)[][]): string {
  const cells = [columns, ...rows.map((r) => r.map(String))];
  const w = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(columns), `| ${w.map((n) => '-'.repeat(n)).join(' | ')} |`, ...rows.map((r) => line(r.map(String)))].join('\n');
}

async function main(): Promise<void> {
  const json = process.argv.slice(2).find((a) => a === '--json' || a.startsWith('--json='));
  const filter = process.argv.slice(2).find((a) => !a.startsWith('--'));
  // with --json on stdout, the tables go to stderr
  const print = json === '--json' ? (s: string): void => void process.stderr.write(`${s}\n`) : (s: string): void => console.log(s);
  const dir = path.join(__dirname, '..', 'bench');
  const benches: Bench[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts')).sort()) {
    const mod = (await import(path.join(dir, f))) as { benches?: Bench[] };
    benches.push(...(mod.benches ?? []));
  }
  const figures: Figure[] = [];
  for (const b of benches.filter((x) => !filter || x.name.includes(filter))) {
    print(`\n## ${b.name}\n`);
    const rows = await b.run();
    print(table(b.columns, rows));
    figures.push(...figuresOf(b, rows));
  }
  const f = (n: number | null): string => (n === null ? '–' : String(Math.round(n * 1000) / 1000));
  print(`\n## figures (value vs its baseline in this run)\n`);
  print(table(['figure', 'value', 'baseline', 'ratio', 'goal', ''], figures.map((x) => [x.name, f(x.value), f(x.baseline), f(x.ratio), x.goal ?? '', x.met === null ? '' : x.met ? 'met' : 'MISSED'])));
  if (json === '--json') process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  else if (json) fs.writeFileSync(json.slice('--json='.length), `${JSON.stringify(figures, null, 2)}\n`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`bench failed: ${e.stack ?? e.message}`);
    process.exit(1);
  });
}
