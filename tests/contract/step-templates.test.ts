/**
 * templates/steps/*.yml are generated from the task manifests (issue 14 item 13): every committed file's part from
 * `parameters:` on is exactly what scripts/step-templates.ts produces, so a new, renamed or re-defaulted input
 * cannot be forgotten in its template. The hand-written head (what it is, an example) must name only parameters
 * that exist.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { CAPABILITIES } from '../../src/capabilities';
import { renderStepTemplateBody, stepTemplateFile } from '../../scripts/step-templates';

const ROOT = path.resolve(__dirname, '..', '..');

describe('contract: templates/steps are generated from the manifests', () => {
  for (const e of CAPABILITIES) {
    const rel = stepTemplateFile(e);
    it(`${rel} == scripts/step-templates.ts output`, () => {
      const file = path.join(ROOT, rel);
      assert.ok(fs.existsSync(file), `${rel} is missing: run \`npm run manifests\` and commit it`);
      const text = fs.readFileSync(file, 'utf8');
      const at = text.search(/^parameters:/m);
      assert.ok(at > 0, `${rel}: expected a comment head, then parameters:`);
      assert.ok(/^(#.*\n)+$/.test(text.slice(0, at)), `${rel}: only comments may come before parameters:`);
      assert.equal(text.slice(at), renderStepTemplateBody(e), `${rel} is stale or hand-edited: run \`npm run manifests\` and commit it`);
    });
    it(`${rel}: the example in its head uses parameters that exist`, () => {
      const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
      const params = new Set((YAML.parse(text) as { parameters: { name: string }[] }).parameters.map((p) => p.name));
      const head = text.slice(0, text.search(/^parameters:/m));
      const m = /#\s+parameters:\n((?:#\s{8,}.*\n)+)/.exec(head);
      if (!m) return;
      for (const line of m[1].split('\n')) {
        const k = /^#\s{8}(\w+):/.exec(line)?.[1];
        if (k) assert.ok(params.has(k), `${rel}: the example sets '${k}', which is not a parameter`);
      }
    });
  }
  it('the generator notices a changed input (a test that can fail)', () => {
    const e = CAPABILITIES.find((c) => c.capability.name === 'mongo-backup')!;
    const body = renderStepTemplateBody(e);
    const text = fs.readFileSync(path.join(ROOT, stepTemplateFile(e)), 'utf8');
    assert.notEqual(text.slice(text.search(/^parameters:/m)).replace('name: dryRun', 'name: dryrun'), body);
  });
});
