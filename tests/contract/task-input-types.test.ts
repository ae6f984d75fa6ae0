/**
 * task.json input types (issue 14 item 11): numbers and choices use the typed task.json types the task-lib schema
 * knows (`int`, `radio`, `pickList`), and the PEM keys and the kubeconfig accept Azure Pipelines secure files
 * (`<name>SecureFile`, type `secureFile`) as HelmDeploy takes its TLS key. Checked on the committed task.json files
 * against the input definitions, and on what the reader then accepts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { CAPABILITIES } from '../../src/capabilities';
import { SECURE_FILE_SUFFIX, createInputReader, onChannel, secureFileInput, secureFileTarget, type InputDef } from '../../src/platform/inputs';
import { InputError } from '../../src/shared/errors';
import { taskInputType } from '../../scripts/manifests';

const ROOT = path.resolve(__dirname, '..', '..');
const SCHEMA = path.join(ROOT, '..', 'shared', 'reference', 'azure-pipelines-task-lib', 'tasks.schema.json');

interface TaskInput {
  name: string;
  type: string;
  required?: boolean;
  defaultValue?: string;
  groupName?: string;
  visibleRule?: string;
  options?: Record<string, string>;
}
const taskInputs = (folder: string): TaskInput[] => (JSON.parse(fs.readFileSync(path.join(ROOT, 'tasks', folder, 'task.json'), 'utf8')) as { inputs: TaskInput[] }).inputs;

/** The PEM keys and kubeconfigs of each capability that must also come as a secure file on Azure Pipelines. */
const PEM_SECRETS: Record<string, string[]> = {
  'mongo-backup': ['kubeconfig', 'signingKey', 'ageIdentity'],
  'aks-engine': ['clientCertificate', 'sshPrivateKey', 'signingKey', 'ageIdentity'],
};

describe('contract: typed task.json inputs', () => {
  it('every input type is one tasks.schema.json knows', function () {
    if (!fs.existsSync(SCHEMA)) {
      console.log(`      SKIPPED: ${SCHEMA} is absent (../shared/reference holds the task-lib schema)`);
      this.skip();
    }
    const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8')) as { properties: { inputs: { items: { properties: { type: { anyOf: { enum?: string[]; pattern?: string }[] } } } } } };
    const alts = schema.properties.inputs.items.properties.type.anyOf;
    const known = new Set(alts.flatMap((a) => a.enum ?? []));
    const pattern = new RegExp(alts.find((a) => a.pattern)!.pattern!.replace('\\:', ':'));
    for (const t of ['int', 'radio', 'pickList', 'secureFile']) assert.ok(known.has(t), `the schema lists ${t}`);
    for (const e of CAPABILITIES) for (const i of taskInputs(e.task.folder)) assert.ok(known.has(i.type) || pattern.test(i.type), `${e.task.name} ${i.name}: type ${i.type}`);
  });

  for (const e of CAPABILITIES) {
    describe(e.task.name, () => {
      const defs = e.capability.inputs.filter((d) => onChannel(d, 'azure-pipelines'));
      const inputs = taskInputs(e.task.folder);
      const typeOf = (n: string): string | undefined => inputs.find((i) => i.name === n)?.type;

      it('numbers: whole ones are int, decimal ones string; the reader refuses a fraction exactly for the int ones', () => {
        for (const d of defs.filter((x) => x.type === 'number')) {
          assert.equal(typeOf(d.name), d.decimal ? 'string' : 'int', d.name);
          const read = createInputReader(e.capability.inputs, (n) => (n === d.name ? '1.5' : undefined), () => undefined);
          if (d.decimal) assert.equal(read.number(d.name), 1.5, d.name);
          else assert.throws(() => read.number(d.name), (err: unknown) => err instanceof InputError && err.message === `input '${d.name}': expected a whole number, got '1.5'`, d.name);
        }
        for (const i of inputs.filter((x) => x.type === 'int')) {
          assert.ok(i.defaultValue === undefined || /^-?\d+$/.test(i.defaultValue), `${i.name}: default ${i.defaultValue} is not a whole number`);
        }
      });

      it('choices: two options that always hold a value are radio, every other choice a pickList, options from the definition', () => {
        for (const d of defs.filter((x) => x.type === 'pickList')) {
          const want = d.options!.length === 2 && (d.default !== undefined || d.required) ? 'radio' : 'pickList';
          assert.equal(typeOf(d.name), want, d.name);
          assert.equal(taskInputType(d), want);
          assert.deepEqual(Object.keys(inputs.find((i) => i.name === d.name)!.options ?? {}), [...d.options!], d.name);
          if (d.default !== undefined) assert.ok(d.options!.includes(d.default), `${d.name}: default ${d.default} is not an option`);
        }
        for (const i of inputs.filter((x) => x.type === 'radio')) assert.ok(i.defaultValue !== undefined || i.required, `${i.name}: a radio group with nothing selected cannot go back to empty`);
      });

      it('secure files: each stands beside a secret input of the capability, on Azure Pipelines only, with its group and visibility', () => {
        const files = e.capability.inputs.filter((d) => d.type === 'secureFile');
        for (const f of files) {
          const target = secureFileTarget(f);
          assert.ok(target, `${f.name}: a secureFile input is named <secret>${SECURE_FILE_SUFFIX}`);
          const secret = e.capability.inputs.find((d) => d.name === target);
          assert.ok(secret && secret.type === 'secret', `${f.name}: ${target} is a secret input of ${e.capability.name}`);
          assert.deepEqual(f.channels, ['azure-pipelines']);
          assert.ok(!f.required, `${f.name} is optional (the secret input is the other way)`);
          const ti = inputs.find((i) => i.name === f.name)!;
          assert.equal(ti.type, 'secureFile');
          assert.equal(ti.groupName, secret.group);
          const si = inputs.find((i) => i.name === target);
          if (si) {
            assert.equal(ti.visibleRule, si.visibleRule, `${f.name} is shown where ${target} is`);
            assert.equal(inputs.indexOf(ti), inputs.indexOf(si) + 1, `${f.name} follows ${target} on the form`);
          }
        }
        const want = (PEM_SECRETS[e.capability.name] ?? []).map((n) => `${n}${SECURE_FILE_SUFFIX}`);
        for (const n of want) assert.ok(files.some((f) => f.name === n), `${e.capability.name}: ${n}`);
        // GitHub and the CLI take the secret input only
        const action = YAML.parse(fs.readFileSync(path.join(ROOT, 'actions', e.action.dir, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> };
        for (const f of files) assert.ok(!(f.name in action.inputs) && !onChannel(f, 'cli'), `${f.name} is not on GitHub or the CLI`);
      });
    });
  }

  it('a secure file input cannot stand for a non-secret input', () => {
    const plain: InputDef = { name: 'verifyKey', label: 'v', type: 'string', help: '' };
    assert.throws(() => secureFileInput(plain), /not a secret input/);
  });
});
