/** `npm run manifests`: regenerates task.json, action.yml and vss-extension.json from src/capabilities.ts. */
import { writeManifests } from './manifests';

for (const f of writeManifests()) console.log(`wrote ${f}`);
