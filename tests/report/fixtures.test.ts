/**
 * The release page's fixtures are what the release scenarios really do: the scenarios run again here (real helm and
 * kubectl against the fake API, the helm double) and must match the committed fixtures in everything but times,
 * durations and ports. The run's own release page (reportFile) is checked too: it is the page the browser tests
 * draw from the fixtures.
 */
import assert from 'node:assert/strict';
import { reportPage } from '../../src/report/page';
import { SCENARIOS, readFixture, runScenarios, shapeOf, type ScenarioRun } from './scenario-records';

describe('release page fixtures (scenario runs)', function () {
  this.timeout(180_000);
  let runs: ScenarioRun[];
  before(async () => {
    runs = await runScenarios();
  });

  for (const name of SCENARIOS) {
    it(`${name}: the committed fixture is what the scenario does (else: tsx tests/report/scenario-records.ts)`, () => {
      const run = runs.find((r) => r.name === name)!;
      const f = readFixture(name);
      assert.deepEqual(shapeOf(f.record, f.backupLists), shapeOf(run.record, run.backupLists));
    });
  }

  it("every run writes its release page next to the record: the renderer's page of that record", () => {
    for (const r of runs) {
      const lanes = [...r.reportHtml.matchAll(/<li class="shr-lane"[^>]* data-site="([^"]+)" data-status="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`);
      assert.deepEqual(lanes, r.record.siteOrder.map((n) => `${n}:${r.record.sites[n].status}`), r.name);
      assert.equal(r.reportHtml.includes('NEEDS AN OPERATOR'), r.name === 'rollback-failed', r.name);
      // the run's page is the renderer's page of the record it wrote (no backup lists: the release run has none)
      assert.equal(r.reportHtml, reportPage([r.record]), r.name);
    }
  });
});
