/**
 * The processes under a process (Linux /proc), to kill a run the way a dying agent ends it: every process at once,
 * including those in process groups of their own (the product starts each tool detached).
 */
import * as fs from 'node:fs';

/** Every descendant pid of `pid` (children first, then theirs). Empty where /proc has no children lists. */
export function descendants(pid: number, root = '/proc'): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`${root}/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text: string;
      try {
        text = fs.readFileSync(`${root}/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of text.split(/\s+/).filter(Boolean).map(Number)) {
        if (!out.includes(c)) {
          out.push(c);
          queue.push(c);
        }
      }
    }
  }
  return out;
}
