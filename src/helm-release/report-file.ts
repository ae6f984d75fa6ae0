/** Writes the release page (src/report/page.ts) next to the release record: `<record>.html`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { reportPage } from '../report/page';
import type { ReleaseRecord } from './record';

/** The path of the release page of a record file: the record's path with `.html` for `.json`. */
export function reportPathFor(recordPath: string): string {
  return path.join(path.dirname(recordPath), `${path.basename(recordPath, '.json')}.html`);
}

/** Writes the page (0644: like the record, it holds no secrets) via a temp file + rename; returns its path. */
export function writeReportFile(record: ReleaseRecord, recordPath: string): string {
  const file = reportPathFor(recordPath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, reportPage([record]), { mode: 0o644 });
  fs.renameSync(tmp, file);
  return file;
}
