/**
 * `npm run bench`: speed and memory as ratios against a baseline measured in the same run (never absolute timed
 * assertions). Each file in bench/ exports `benches: Bench[]`; `npm run bench -- <name>` runs the benches whose
 * name contains <name>.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One benchmark: returns rows for the report table. */
export interface Bench {
  name: string;
  /** Column names of its rows. */
  columns: string[];
  run(): Promise<(string | number)[][]>;
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
  const filter = process.argv[2];
  const dir = path.join(__dirname, '..', 'bench');
  const benches: Bench[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.ts')).sort()) {
    const mod = (await import(path.join(dir, f))) as { benches?: Bench[] };
    benches.push(...(mod.benches ?? []));
  }
  for (const b of benches.filter((x) => !filter || x.name.includes(filter))) {
    console.log(`\n## ${b.name}\n`);
    const rows = await b.run();
    console.log(table(b.columns, rows));
  }
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`bench failed: ${e.stack ?? e.message}`);
    process.exit(1);
  });
}
