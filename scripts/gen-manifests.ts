/**
 * `npm run manifests`: regenerates task.json, action.yml and vss-extension.json from src/capabilities.ts, and the
 * generated part of each templates/steps/*.yml (scripts/step-templates.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAPABILITIES } from '../src/capabilities';
import { ROOT, writeManifests } from './manifests';
import { renderStepTemplate, stepTemplateFile } from './step-templates';

for (const f of writeManifests()) console.log(`wrote ${f}`);
for (const e of CAPABILITIES) {
  const rel = stepTemplateFile(e);
  const file = path.join(ROOT, rel);
  const text = renderStepTemplate(e);
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) continue;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  console.log(`wrote ${rel}`);
}
