/**
 * Every Azure Pipelines file (templates/**, pipelines/azure-pipelines*.yml) validates against the official schema
 * extended with our tasks from the CURRENT tasks/*\/task.json, with azure-pipelines-language-service; zero errors
 * and zero warnings. Also proves the extension bites: a wrong input, a missing required input, a bad pickList value
 * and an unknown task are reported.
 */
import assert from 'node:assert/strict';
import { AdoValidator, extendedSchema, rootKindOf, schemaMissing, taskSchemaEntry, type Problem } from './helpers/ado';
import { adoFiles, readTasks } from './helpers/manifests';

const fmt = (ps: Problem[]): string => ps.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');

describe('templates: Azure Pipelines schema (official schema + our task.json)', function () {
  const missing = schemaMissing();
  let validator: AdoValidator;

  before(function () {
    if (missing) {
      console.log(`    ${missing}`);
      this.skip();
    }
    validator = new AdoValidator();
  });

  it('there are Azure Pipelines files to validate', () => {
    const files = adoFiles();
    assert.ok(files.some((f) => f.startsWith('templates/steps/')), 'no steps templates');
    assert.ok(files.length >= 1);
  });

  it('every file validates with zero errors and warnings', async () => {
    const all: Problem[] = [];
    for (const f of adoFiles()) all.push(...(await validator.validateFile(f)));
    assert.equal(fmt(all), '');
  });

  it('the extended schema has one entry per task.json, shaped like the built-in entries', () => {
    const schema = extendedSchema() as { definitions: { task: { anyOf: { properties: { task: { pattern: string } } }[]; properties: { task: { anyOf: { enum: string[] }[] } } } } };
    const tasks = readTasks();
    for (const ref of tasks.keys()) {
      assert.equal(schema.definitions.task.anyOf.filter((e) => e.properties.task.pattern === `^${ref}$`).length, 1, ref);
      assert.equal(schema.definitions.task.properties.task.anyOf.filter((e) => e.enum?.[0] === ref).length, 1, ref);
    }
    const { entry } = taskSchemaEntry(tasks.get('StackHubToolSetup@1')!);
    const inputs = (entry.properties as { inputs: { required: string[]; additionalProperties: boolean } }).inputs;
    assert.deepEqual(inputs.required, ['tools']);
    assert.equal(inputs.additionalProperties, false);
  });

  describe('the schema extension reports mistakes', () => {
    const step = (inputs: string, task = 'StackHubToolSetup@1'): string => `steps:\n  - task: ${task}\n    inputs:\n${inputs}`;

    it('an unknown input', async () => {
      const ps = await validator.validateText(step('      tools: helm\n      toolz: kubectl\n'), 'stepsTemplate');
      assert.match(fmt(ps), /Unexpected property toolz/);
    });

    it('a missing required input', async () => {
      const ps = await validator.validateText(step('      searchPath: true\n'), 'stepsTemplate');
      assert.match(fmt(ps), /Missing property "tools"/);
    });

    it('a value of the wrong type', async () => {
      const ps = await validator.validateText(step('      tools: helm\n      searchPath: [1]\n'), 'stepsTemplate');
      assert.match(fmt(ps), /Incorrect type/);
    });

    it('an unknown task', async () => {
      const ps = await validator.validateText(step('      tools: helm\n', 'StackHubNoSuchTask@1'), 'stepsTemplate');
      assert.notEqual(ps.length, 0);
    });

    it('a pickList value that is not an option, while an expression is accepted', async () => {
      const t = {
        name: 'Pick',
        friendlyName: 'Pick',
        description: 'Pick',
        version: { Major: 1, Minor: 0, Patch: 0 },
        folder: 'PickV1',
        inputs: [{ name: 'mode', type: 'pickList', required: true, options: { a: 'a', b: 'b' } }],
      };
      const v = new AdoValidator(extendedSchema(new Map([['Pick@1', t]])));
      const bad = await v.validateText(step('      mode: c\n', 'Pick@1'), 'stepsTemplate');
      assert.match(fmt(bad), /Value is not accepted|Valid values/);
      assert.equal(fmt(await v.validateText(step('      mode: a\n', 'Pick@1'), 'stepsTemplate')), '');
      assert.equal(fmt(await v.validateText(`parameters:\n  - name: m\n    type: string\n${step('      mode: ${{ parameters.m }}\n', 'Pick@1')}`, 'stepsTemplate')), '');
    });

    it('a stage template with a misplaced key, and a pipeline with an unknown root key', async () => {
      const ps = await validator.validateText('stages:\n  - stage: a\n    jobz: []\n', 'stagesTemplate');
      assert.match(fmt(ps), /jobz/);
      const pp = await validator.validateText('trigger: none\nstagez: []\n', 'pipeline');
      assert.match(fmt(pp), /stagez/);
    });

    it('templates are validated against their own root', () => {
      assert.equal(rootKindOf('templates/steps/x.yml', 'steps: []\n'), 'stepsTemplate');
      assert.equal(rootKindOf('templates/jobs/x.yml', 'parameters: []\njobs: []\n'), 'jobsTemplate');
      assert.equal(rootKindOf('templates/stages/x.yml', 'stages: []\n'), 'stagesTemplate');
      assert.equal(rootKindOf('pipelines/azure-pipelines.yml', 'stages: []\n'), 'pipeline');
    });
  });
});
