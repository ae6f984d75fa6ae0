/**
 * Cold start of every bundle (process start to its first output line) against `node -e "console.log(0)"` measured in
 * the same run on the same Node, as a ratio and a difference; and bundle size. Goal: at most 150 ms over node.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAPABILITIES } from '../src/capabilities';
import type { Bench } from '../scripts/bench';
import { median } from '../scripts/bench';
import { runtimes } from '../tests/helpers/harness';

const ROOT = path.resolve(__dirname, '..');
const RUNS = 15;

/** Milliseconds from spawn to the first byte on stdout or stderr. */
function firstOutput(node: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(node, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let done = false;
    const hit = (): void => {
      if (!done) {
        done = true;
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    };
    child.stdout.once('data', hit);
    child.stderr.once('data', hit);
    child.on('error', reject);
    child.on('close', () => {
      if (!done) reject(new Error(`${args.join(' ')} printed nothing`));
    });
  });
}

export const benches: Bench[] = [
  {
    name: 'cold start per bundle (median of 15, vs node printing one line)',
    columns: ['runtime', 'bundle', 'KiB read at start', 'KiB with vendor/', 'node ms', 'bundle ms', 'ratio', 'over node ms', 'goal ≤150'],
    async run() {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-'));
      const env = { PATH: process.env.PATH, HOME: os.homedir(), AGENT_TEMPDIRECTORY: tmp, RUNNER_TEMP: tmp, GITHUB_OUTPUT: path.join(tmp, 'o'), GITHUB_STEP_SUMMARY: path.join(tmp, 's') };
      const bundles: [string, string][] = [
        ...CAPABILITIES.map((e): [string, string] => [`task ${e.task.name}`, path.join(ROOT, 'tasks', e.task.folder, 'dist', 'index.js')]),
        ...CAPABILITIES.map((e): [string, string] => [`action ${e.action.dir}`, path.join(ROOT, 'actions', e.action.dir, 'dist', 'index.js')]),
        ['cli stackhub-ha', path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js')],
      ];
      const rows: (string | number)[][] = [];
      for (const rt of runtimes()) {
        for (const [name, file] of bundles) {
          if (!fs.existsSync(file)) throw new Error(`${file} missing: run npm run build`);
          const base: number[] = [];
          const b: number[] = [];
          // interleave so both see the same machine load
          for (let i = 0; i < RUNS; i++) {
            base.push(await firstOutput(rt.path, ['-e', 'console.log(0)'], env));
            b.push(await firstOutput(rt.path, name.startsWith('cli') ? [file, '--version'] : [file], env));
          }
          const mb = median(base);
          const mx = median(b);
          const vendor = path.join(path.dirname(file), 'vendor');
          const vendorBytes = fs.existsSync(vendor) ? fs.readdirSync(vendor).reduce((n, f) => n + fs.statSync(path.join(vendor, f)).size, 0) : 0;
          rows.push([rt.name, name, Math.round(fs.statSync(file).size / 1024), Math.round((fs.statSync(file).size + vendorBytes) / 1024), mb.toFixed(1), mx.toFixed(1), (mx / mb).toFixed(2), (mx - mb).toFixed(1), mx - mb <= 150 ? 'met' : 'MISSED']);
        }
      }
      fs.rmSync(tmp, { recursive: true, force: true });
      return rows;
    },
  },
];
