/**
 * The task under azure-pipelines-task-lib's own MockTestRunner (how ADO task authors write L0 tests). It works only
 * because task-lib stays external to the bundle: the mock replaces the real module by name at run time.
 * `tr.nodePath = process.execPath` and `runAsync()` without an argument keep the runner from downloading Node.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { ROOT, requireBuilt } from '../helpers/harness';
import { layer } from '../helpers/tool-fixtures';

describe('ADO task under MockTestRunner', function () {
  this.timeout(60_000);
  const saved = { ...process.env };
  let agentTemp: string;

  before(async () => {
    requireBuilt();
    const v31 = await layer('v31');
    agentTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'l0-'));
    // MockTestRunner spawns the L0 script with this process's environment
    process.env.AGENT_TEMPDIRECTORY = agentTemp;
    process.env.AGENT_TOOLSDIRECTORY = path.join(agentTemp, '_tools');
    process.env.PATH = `${path.dirname(v31.helm)}:${process.env.PATH}`;
  });

  after(() => {
    process.env = saved;
    fs.rmSync(agentTemp, { recursive: true, force: true });
  });

  async function run(tools: string): Promise<MockTestRunner> {
    process.env.L0_TOOLS = tools;
    const tr = new MockTestRunner(path.join(ROOT, 'tests', 'fixtures', 'ado-mock', 'setup-tools-from-path.js'), path.join(ROOT, 'tasks', 'StackHubToolSetupV1', 'task.json'));
    tr.nodePath = process.execPath;
    await tr.runAsync();
    return tr;
  }

  it('succeeds with helm from PATH and sets the output variables', async () => {
    const tr = await run('helm@3.17');
    assert.ok(tr.succeeded, tr.stdout);
    assert.ok(tr.stdOutContained('##vso[task.setvariable variable=helmVersion;isOutput=true;issecret=false;]3.17.3'), tr.stdout);
    assert.equal(tr.errorIssues.length, 0);
  });

  it('fails with one error naming the input for an unknown tool', async () => {
    const tr = await run('terraform');
    assert.ok(tr.failed);
    assert.equal(tr.errorIssues.length, 1, 'exactly one error line');
    assert.match(tr.errorIssues[0], /^input 'tools': unknown tool 'terraform': expected one of helm, /);
    assert.ok(tr.stdOutContained("##vso[task.complete result=Failed;]input 'tools': unknown tool 'terraform'"), tr.stdout);
  });
});
