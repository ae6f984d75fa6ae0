/**
 * Lists installed production packages whose `engines.node` does not allow Node 20 (the oldest runtime the bundles
 * support: ADO's Node20_1 handler). A contract test runs this; `npm run check-engines` prints it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

export const OLDEST_NODE = '20.19.0';

interface LockPkg {
  version?: string;
  dev?: boolean;
  peer?: boolean;
  optional?: boolean;
  engines?: { node?: string } | string[];
}

/** Production packages (from package-lock.json) whose engines exclude OLDEST_NODE. */
export function enginesProblems(root = path.resolve(__dirname, '..')): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPkg> };
  const out: string[] = [];
  for (const [p, meta] of Object.entries(lock.packages)) {
    if (!p || meta.dev || meta.peer) continue;
    const range = Array.isArray(meta.engines) ? undefined : meta.engines?.node;
    if (range && !semver.satisfies(OLDEST_NODE, range)) out.push(`${p.replace(/^.*node_modules\//, '')}@${meta.version} needs node ${range}`);
  }
  return out;
}

if (require.main === module) {
  const problems = enginesProblems();
  for (const p of problems) console.log(p);
  console.log(problems.length ? `${problems.length} production packages exclude Node ${OLDEST_NODE}` : `every production package allows Node ${OLDEST_NODE}`);
  process.exitCode = problems.length ? 1 : 0;
}
