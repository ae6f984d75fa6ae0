/**
 * Contract of the shipped manifests: task.json ↔ action.yml ↔ the capability definitions of src/capabilities.ts,
 * vss-extension.json ↔ the task folders, committed files ↔ what the generators produce, and the committed action
 * bundles ↔ what `npm run build` would produce. Every failure message says what to run.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { CAPABILITIES, type CapabilityEntry } from '../../src/capabilities';
import { onChannel, type InputDef } from '../../src/platform/inputs';
import { bundleAction } from '../../scripts/bundle';
import { renderDocs } from '../../scripts/gen-docs';
import { expectedIcons } from '../../scripts/make-icons';
import { ACTION_HEADER, BUILT_IN_ENDPOINT_TYPES, MINIMUM_AGENT_VERSION, ROOT, actionYml, taskJson, vssExtension } from '../../scripts/manifests';
import { AZURE_STACK_HUB_ENDPOINT_TYPE } from '../../src/platform/types';

const repoRoot = ROOT;
const SHARED = path.resolve(repoRoot, '..', 'shared');
const SCHEMA = path.join(SHARED, 'reference', 'azure-pipelines-task-lib', 'tasks.schema.json');
const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const RUN_MANIFESTS = 'edit src/capabilities.ts / the capability inputs, then run `npm run manifests` and commit the result';

interface TaskInput {
  name: string;
  type: string;
  required?: boolean;
  defaultValue?: string;
  options?: Record<string, string>;
}
interface TaskJson {
  id: string;
  name: string;
  minimumAgentVersion?: string;
  inputs?: TaskInput[];
  outputVariables?: { name: string }[];
  execution?: Record<string, { target?: string }>;
}
interface ActionYml {
  inputs?: Record<string, { required?: boolean; default?: unknown } | null>;
  outputs?: Record<string, unknown>;
  runs?: { using?: string; main?: string };
}

const subdirs = (dir: string): string[] =>
  fs.existsSync(path.join(repoRoot, dir))
    ? fs
        .readdirSync(path.join(repoRoot, dir), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];

const taskFile = (e: CapabilityEntry): string => path.join(repoRoot, 'tasks', e.task.folder, 'task.json');
const actionFile = (e: CapabilityEntry): string => path.join(repoRoot, 'actions', e.action.dir, 'action.yml');
const readTask = (e: CapabilityEntry): TaskJson => JSON.parse(fs.readFileSync(taskFile(e), 'utf8')) as TaskJson;
const readAction = (e: CapabilityEntry): ActionYml => YAML.parse(fs.readFileSync(actionFile(e), 'utf8')) as ActionYml;
const defsOn = (e: CapabilityEntry, ch: 'azure-pipelines' | 'github-actions'): InputDef[] =>
  e.capability.inputs.filter((d) => onChannel(d, ch));
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const dupes = (xs: readonly string[]): string[] => [...new Set(xs.filter((x, i) => xs.indexOf(x) !== i))];

describe('contract: manifests', function () {
  describe('task.json against the task-lib schema', function () {
    let validate: ReturnType<Ajv['compile']> | undefined;

    before(function () {
      if (!fs.existsSync(SHARED)) return;
      assert.ok(fs.existsSync(SCHEMA), `${SCHEMA} is missing although ${SHARED} exists: restore ../shared/reference`);
      const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
      // draft-04: Ajv 8 knows the keywords but not the meta-schema URL, and draft-04 names the schema `id`
      delete schema.$schema;
      schema.$id = schema.id;
      delete schema.id;
      // the schema's patterns use escapes (`\:`) that are invalid with the `u` flag
      const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true, unicodeRegExp: false });
      validate = ajv.compile(schema);
    });

    for (const folder of subdirs('tasks')) {
      it(`tasks/${folder}/task.json is valid against tasks.schema.json`, function () {
        if (!validate) {
          const msg =
            `SKIPPED the task.json schema check: ${path.join(SHARED, 'reference')} is absent ` +
            '(it holds azure-pipelines-task-lib/tasks.schema.json); tfx alone misses unknown handlers and duplicate inputs.';
          console.log(`      ${msg}`);
          this.skip();
        }
        const file = path.join(repoRoot, 'tasks', folder, 'task.json');
        assert.ok(fs.existsSync(file), `tasks/${folder} has no task.json: run \`npm run manifests\` (or remove the stray folder)`);
        const ok = validate(JSON.parse(fs.readFileSync(file, 'utf8')));
        assert.ok(
          ok,
          `tasks/${folder}/task.json does not match tasks.schema.json (${RUN_MANIFESTS}):\n` +
            (validate.errors ?? []).map((er) => `  ${er.instancePath || '/'} ${er.message} ${JSON.stringify(er.params)}`).join('\n'),
        );
      });
    }
  });

  describe('registry ↔ folders', function () {
    it('every folder under tasks/ is a task of src/capabilities.ts and vice versa', function () {
      assert.deepStrictEqual(
        subdirs('tasks'),
        sorted(CAPABILITIES.map((e) => e.task.folder)),
        `tasks/ folders differ from the registry's task folders: add the capability to src/capabilities.ts or remove the folder, then run \`npm run manifests\``,
      );
    });
    it('every folder under actions/ is an action of src/capabilities.ts and vice versa (composite/ holds the composite actions)', function () {
      assert.deepStrictEqual(
        subdirs('actions').filter((d) => d !== 'composite'),
        sorted(CAPABILITIES.map((e) => e.action.dir)),
        `actions/ folders differ from the registry's action dirs: add the capability to src/capabilities.ts or remove the folder, then run \`npm run manifests\``,
      );
    });
    it('task ids are valid, unique GUIDs; task names and folders are unique', function () {
      // the committed task.json files (what agents see) and the registry (what they are generated from)
      const tasks = [
        ...subdirs('tasks')
          .map((f) => path.join(repoRoot, 'tasks', f, 'task.json'))
          .filter((f) => fs.existsSync(f))
          .map((f) => ({ ...(JSON.parse(fs.readFileSync(f, 'utf8')) as TaskJson), where: path.relative(repoRoot, f) })),
      ];
      const registry = CAPABILITIES.map((e) => ({ id: e.task.id, name: e.task.name, where: `src/capabilities.ts (${e.task.folder})` }));
      for (const [list, what] of [[tasks, 'task.json'], [registry, 'registry']] as const) {
        for (const t of list) {
          assert.ok(typeof t.id === 'string' && GUID_RE.test(t.id), `${t.where}: task id '${t.id}' is not a GUID (fix it in src/capabilities.ts, then \`npm run manifests\`)`);
        }
        const ids = list.map((t) => String(t.id).toLowerCase());
        assert.deepStrictEqual(dupes(ids), [], `${what}: task GUIDs are not unique: give each task its own fixed id in src/capabilities.ts (never reuse or change one), then \`npm run manifests\``);
        assert.deepStrictEqual(dupes(list.map((t) => t.name)), [], `${what}: task names are not unique: rename in src/capabilities.ts, then \`npm run manifests\``);
      }
      assert.deepStrictEqual(dupes(CAPABILITIES.map((e) => e.task.folder)), [], 'task folders are not unique in src/capabilities.ts');
      assert.deepStrictEqual(dupes(CAPABILITIES.map((e) => e.action.dir)), [], 'action dirs are not unique in src/capabilities.ts');
    });
  });

  for (const e of CAPABILITIES) {
    describe(`${e.task.name} (tasks/${e.task.folder}, actions/${e.action.dir})`, function () {
      let task: TaskJson;
      let action: ActionYml;
      before(function () {
        assert.ok(fs.existsSync(taskFile(e)), `tasks/${e.task.folder}/task.json is missing: run \`npm run manifests\``);
        assert.ok(fs.existsSync(actionFile(e)), `actions/${e.action.dir}/action.yml is missing: run \`npm run manifests\``);
        task = readTask(e);
        action = readAction(e);
      });

      it('inputs: same names as the definitions (per channel), unique', function () {
        const taskNames = (task.inputs ?? []).map((i) => i.name);
        assert.deepStrictEqual(dupes(taskNames), [], `task.json has duplicate input names: fix the capability's inputs, then \`npm run manifests\``);
        assert.deepStrictEqual(
          sorted(taskNames),
          sorted(defsOn(e, 'azure-pipelines').map((d) => d.name)),
          `task.json inputs differ from the definitions: ${RUN_MANIFESTS}`,
        );
        assert.deepStrictEqual(
          sorted(Object.keys(action.inputs ?? {})),
          sorted(defsOn(e, 'github-actions').map((d) => d.name)),
          `action.yml inputs differ from the definitions: ${RUN_MANIFESTS}`,
        );
        const defNames = e.capability.inputs.map((d) => d.name);
        assert.deepStrictEqual(dupes(defNames), [], `the capability defines an input twice: fix its InputDefs`);
      });

      it('inputs: same required flag and default as the definitions', function () {
        for (const d of defsOn(e, 'azure-pipelines')) {
          const i = (task.inputs ?? []).find((x) => x.name === d.name);
          if (!i) continue; // reported by the names test
          assert.strictEqual(i.required ?? false, d.required ?? false, `task.json input ${d.name}: required differs from the definition: ${RUN_MANIFESTS}`);
          assert.strictEqual(i.defaultValue, d.default, `task.json input ${d.name}: defaultValue differs from the definition's default: ${RUN_MANIFESTS}`);
        }
        for (const d of defsOn(e, 'github-actions')) {
          if (!(d.name in (action.inputs ?? {}))) continue;
          const a = action.inputs?.[d.name] ?? {};
          assert.strictEqual(a.required ?? false, d.required ?? false, `action.yml input ${d.name}: required differs from the definition: ${RUN_MANIFESTS}`);
          assert.strictEqual(a.default, d.default, `action.yml input ${d.name}: default differs from the definition's default (quote it as a string): ${RUN_MANIFESTS}`);
        }
      });

      it('every pickList has options', function () {
        for (const i of task.inputs ?? []) {
          if (i.type !== 'pickList' && i.type !== 'radio') continue;
          assert.ok(i.options && Object.keys(i.options).length > 0, `task.json input ${i.name} is a ${i.type} without options: add options to its InputDef, then \`npm run manifests\``);
        }
        for (const d of e.capability.inputs) {
          if (d.type !== 'pickList') continue;
          assert.ok(d.options && d.options.length > 0, `InputDef ${d.name} is a pickList without options: add them`);
        }
      });

      it('outputs: task.json outputVariables == action.yml outputs == capability outputs', function () {
        const want = sorted(e.capability.outputs.map((o) => o.name));
        assert.deepStrictEqual(dupes(want), [], 'the capability defines an output twice');
        assert.deepStrictEqual(sorted((task.outputVariables ?? []).map((o) => o.name)), want, `task.json outputVariables differ from the capability's outputs: ${RUN_MANIFESTS}`);
        assert.deepStrictEqual(sorted(Object.keys(action.outputs ?? {})), want, `action.yml outputs differ from the capability's outputs: ${RUN_MANIFESTS}`);
      });

      it(`task.json: execution is exactly Node20_1 and Node24, minimumAgentVersion ${MINIMUM_AGENT_VERSION}`, function () {
        assert.deepStrictEqual(
          sorted(Object.keys(task.execution ?? {})),
          ['Node20_1', 'Node24'],
          `task.json execution must have exactly the Node20_1 and Node24 handlers (fix scripts/manifests.ts, then \`npm run manifests\`)`,
        );
        for (const [h, x] of Object.entries(task.execution ?? {})) {
          assert.ok(x.target && !path.isAbsolute(x.target), `task.json execution.${h} has no relative target (fix scripts/manifests.ts, then \`npm run manifests\`)`);
        }
        assert.strictEqual(
          task.minimumAgentVersion,
          MINIMUM_AGENT_VERSION,
          `task.json minimumAgentVersion must be ${MINIMUM_AGENT_VERSION} (higher makes a disconnected agent try to self-update): run \`npm run manifests\``,
        );
      });

      it('task.json: every execution target exists after the build', function () {
        const dist = path.join(repoRoot, 'tasks', e.task.folder, 'dist');
        if (!fs.existsSync(dist)) {
          console.log(`      SKIPPED: tasks/${e.task.folder}/dist does not exist: the build has not run (\`npm run build\`), so execution targets cannot be checked.`);
          this.skip();
        }
        for (const [h, x] of Object.entries(task.execution ?? {})) {
          const target = path.join(repoRoot, 'tasks', e.task.folder, x.target ?? '');
          assert.ok(fs.existsSync(target), `task.json execution.${h}.target ${x.target} does not exist in tasks/${e.task.folder} after the build: run \`npm run build\` (the bundle is tasks/<Folder>/dist/index.js)`);
        }
      });

      it("task.json: passes tfx-cli's own task.json checks (tfx only warns about these)", function () {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- tfx-cli's validator is an internal CommonJS file, loaded by path
        const tfxValidate = require(path.join(repoRoot, 'node_modules', 'tfx-cli', '_build', 'lib', 'jsonvalidate.js')) as {
          validateTask(file: string, data: unknown): string[];
        };
        const builtDist = fs.existsSync(path.join(repoRoot, 'tasks', e.task.folder, 'dist'));
        const issues = tfxValidate
          .validateTask(taskFile(e), readTask(e))
          .slice(1) // the first line is the path
          .filter((i) => builtDist || !/target references file that does not exist/.test(i));
        assert.deepStrictEqual(issues, [], `tfx-cli would warn about task.json (${RUN_MANIFESTS}):\n  ${issues.join('\n  ')}`);
      });

      it('action.yml: runs node24 from a committed file', function () {
        assert.strictEqual(action.runs?.using, 'node24', `action.yml runs.using must be node24: run \`npm run manifests\``);
        const main = action.runs?.main ?? '';
        const file = path.join(repoRoot, 'actions', e.action.dir, main);
        assert.ok(main && fs.existsSync(file), `action.yml runs.main '${main}' does not exist in actions/${e.action.dir}: run \`npm run build\` and commit actions/*/dist`);
        let ignored: boolean;
        try {
          execFileSync('git', ['check-ignore', '-q', path.relative(repoRoot, file)], { cwd: repoRoot, stdio: 'ignore' });
          ignored = true;
        } catch {
          ignored = false; // exit 1: not ignored (or no git: nothing to say)
        }
        assert.ok(!ignored, `actions/${e.action.dir}/${main} is git-ignored, so it would not be committed: fix .gitignore (actions run from the repository at a ref)`);
      });
    });
  }

  describe('vss-extension.json', function () {
    let ext: {
      description?: string;
      files?: { path: string }[];
      contributions?: { type: string; properties?: { name?: string } }[];
      icons?: { default?: string };
      content?: { details?: { path?: string } };
    };
    before(function () {
      ext = JSON.parse(fs.readFileSync(path.join(repoRoot, 'vss-extension.json'), 'utf8'));
    });

    it('lists every task folder under tasks/ (and the results tab\'s dist/web) in files, the task folders in contributions, and nothing else', function () {
      const folders = subdirs('tasks').map((f) => `tasks/${f}`);
      assert.deepStrictEqual(sorted((ext.files ?? []).map((f) => f.path.replace(/\/+$/, ''))), sorted([...folders, 'dist/web']), 'vss-extension.json files differ from the folders under tasks/ and dist/web: run `npm run manifests`');
      assert.deepStrictEqual((ext.files ?? []).filter((f) => (f as { addressable?: boolean }).addressable).map((f) => f.path), ['dist/web'], 'only the tab\'s page is addressable');
      const taskContribs = (ext.contributions ?? []).filter((c) => c.type === 'ms.vss-distributed-task.task');
      assert.deepStrictEqual(sorted(taskContribs.map((c) => (c.properties?.name ?? '').replace(/\/+$/, ''))), folders, 'vss-extension.json task contributions differ from the folders under tasks/: run `npm run manifests`');
    });

    it('references only files that exist', function () {
      const refs = [...(ext.files ?? []).map((f) => f.path), ext.icons?.default, ext.content?.details?.path].filter((x): x is string => !!x);
      const hint: Record<string, string> = {
        'images/extension-icon.png': 'run `tsx scripts/make-icons.ts`',
        'docs/overview.md': 'run `npm run docs`',
        'dist/web': 'run `npm run build` (scripts/bundle-web.ts)',
      };
      for (const r of refs) assert.ok(fs.existsSync(path.join(repoRoot, r)), `vss-extension.json references ${r}, which does not exist: ${hint[r] ?? 'run `npm run manifests`'}`);
    });

    it('contributes the "Azure Stack Hub" endpoint type with the fields and schemes the adapter reads', function () {
      const all = (ext.contributions ?? []) as { type: string; targets?: string[]; properties?: Record<string, unknown> }[];
      const eps = all.filter((c) => c.type === 'ms.vss-endpoint.service-endpoint-type');
      assert.equal(eps.length, 1);
      const p = eps[0].properties as {
        name: string;
        displayName: string;
        url: { displayName: string };
        inputDescriptors: { id: string; name: string; inputMode: string; validation: { isRequired: boolean } }[];
        authenticationSchemes: { type: string; inputDescriptors: { id: string; isConfidential?: boolean; inputMode: string }[] }[];
      };
      assert.deepEqual(eps[0].targets, ['ms.vss-endpoint.endpoint-types']);
      assert.equal(p.name, AZURE_STACK_HUB_ENDPOINT_TYPE);
      assert.equal(p.url.displayName, 'Hub ARM endpoint');
      // the ids AzurePipelinesPlatform.azureStackHubConnection reads with getEndpointDataParameter
      assert.deepEqual(p.inputDescriptors.map((d) => d.id), ['identitySystem', 'tenantId', 'subscriptionId', 'subscriptionName', 'hubCaCertificate']);
      for (const d of p.inputDescriptors) assert.ok(d.name && d.inputMode && d.validation, `${d.id}: name, inputMode, validation`);
      const schemes = Object.fromEntries(p.authenticationSchemes.map((s) => [s.type, s.inputDescriptors]));
      // the closed set of scheme types Azure DevOps accepts for custom endpoint types
      assert.deepEqual(Object.keys(schemes), ['ms.vss-endpoint.endpoint-auth-scheme-basic', 'ms.vss-endpoint.endpoint-auth-scheme-cert']);
      const basic = schemes['ms.vss-endpoint.endpoint-auth-scheme-basic'];
      const cert = schemes['ms.vss-endpoint.endpoint-auth-scheme-cert'];
      assert.deepEqual(basic.map((d) => [d.id, !!d.isConfidential]), [['username', false], ['password', true]]);
      assert.deepEqual(cert.map((d) => [d.id, !!d.isConfidential]), [['servicePrincipalId', false], ['certificate', true]]);
      assert.equal(basic[1].inputMode, 'passwordbox');
    });

    it('every connectedService: input of every task names a contributed or built-in endpoint type', function () {
      const contributed = ((ext.contributions ?? []) as { type: string; properties?: { name?: string } }[])
        .filter((c) => c.type === 'ms.vss-endpoint.service-endpoint-type')
        .map((c) => c.properties?.name);
      const known = new Set<string>([...BUILT_IN_ENDPOINT_TYPES, ...contributed.filter((n): n is string => !!n)]);
      let hub = 0;
      for (const folder of subdirs('tasks')) {
        const tj = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tasks', folder, 'task.json'), 'utf8')) as { inputs?: { name: string; type: string }[] };
        for (const i of tj.inputs ?? []) {
          if (!i.type.startsWith('connectedService:')) continue;
          for (const t of i.type.slice('connectedService:'.length).split(',')) assert.ok(known.has(t), `tasks/${folder}: input ${i.name} references unknown endpoint type ${t}`);
          if (i.type === `connectedService:${AZURE_STACK_HUB_ENDPOINT_TYPE}`) hub++;
        }
      }
      assert.ok(hub >= 4, 'AKS Engine, traffic (2 tasks) and storage listKeys (2 tasks) take an Azure Stack Hub connection');
    });

    it("passes tfx-cli's manifest limits (description of at most 200 characters)", function () {
      const n = (ext.description ?? '').length;
      assert.ok(n <= 200, `vss-extension.json description is ${n} characters; tfx refuses more than 200: shorten it (package.json "description", used by scripts/manifests.ts), then \`npm run manifests\``);
    });
  });

  describe('committed files are what the generators produce', function () {
    for (const e of CAPABILITIES) {
      it(`tasks/${e.task.folder}/task.json == scripts/manifests.ts output`, function () {
        assert.ok(fs.existsSync(taskFile(e)), `tasks/${e.task.folder}/task.json is missing: run \`npm run manifests\` and commit it`);
        assert.deepStrictEqual(readTask(e), JSON.parse(JSON.stringify(taskJson(e))), `tasks/${e.task.folder}/task.json is stale or hand-edited: run \`npm run manifests\` and commit it`);
      });
      it(`actions/${e.action.dir}/action.yml == scripts/manifests.ts output`, function () {
        assert.ok(fs.existsSync(actionFile(e)), `actions/${e.action.dir}/action.yml is missing: run \`npm run manifests\` and commit it`);
        const text = fs.readFileSync(actionFile(e), 'utf8');
        assert.ok(text.startsWith(ACTION_HEADER), `actions/${e.action.dir}/action.yml lacks the generated header: run \`npm run manifests\` and commit it`);
        assert.deepStrictEqual(YAML.parse(text), JSON.parse(JSON.stringify(actionYml(e))), `actions/${e.action.dir}/action.yml is stale or hand-edited: run \`npm run manifests\` and commit it`);
      });
    }
    it('vss-extension.json == scripts/manifests.ts output', function () {
      const text = fs.readFileSync(path.join(repoRoot, 'vss-extension.json'), 'utf8');
      assert.deepStrictEqual(JSON.parse(text), JSON.parse(JSON.stringify(vssExtension())), 'vss-extension.json is stale or hand-edited: run `npm run manifests` and commit it');
    });

    it('docs/ == scripts/gen-docs.ts output', function () {
      let want: Map<string, string>;
      try {
        want = renderDocs();
      } catch (err) {
        assert.fail(`cannot render the docs from the manifests (${(err as Error).message}): run \`npm run manifests\`, then \`npm run docs\``);
      }
      for (const [rel, text] of want) {
        const file = path.join(repoRoot, rel);
        assert.ok(fs.existsSync(file), `${rel} is missing: run \`npm run docs\` and commit docs/`);
        assert.strictEqual(fs.readFileSync(file, 'utf8'), text, `${rel} is stale or hand-edited: run \`npm run docs\` and commit docs/`);
      }
      const taskDocs = fs.existsSync(path.join(repoRoot, 'docs', 'tasks')) ? fs.readdirSync(path.join(repoRoot, 'docs', 'tasks')) : [];
      const stray = taskDocs.map((f) => `docs/tasks/${f}`).filter((r) => !want.has(r));
      assert.deepStrictEqual(stray, [], `docs/tasks has pages of tasks that no longer exist: delete them (\`npm run docs\` writes the rest)`);
    });

    it('icons == scripts/make-icons.ts output', function () {
      for (const [rel, bytes] of expectedIcons()) {
        const file = path.join(repoRoot, rel);
        assert.ok(fs.existsSync(file) && fs.readFileSync(file).equals(bytes), `${rel} is missing or differs: run \`tsx scripts/make-icons.ts\` and commit it`);
      }
    });
  });

  describe('committed action bundles are not stale', function () {
    let tmp: string;
    before(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shha-contract-'));
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    for (const e of CAPABILITIES) {
      it(`actions/${e.action.dir}/dist/index.js == a fresh bundle`, async function () {
        this.timeout(120000);
        const committedDir = path.join(repoRoot, 'actions', e.action.dir, 'dist');
        assert.ok(fs.existsSync(path.join(committedDir, 'index.js')), `actions/${e.action.dir}/dist/index.js is missing: run \`npm run build\` and commit actions/*/dist`);
        const freshDir = path.join(tmp, e.action.dir);
        await bundleAction(e.action.dir, path.join(freshDir, 'index.js'));
        // index.js and the vendor/ sidecars, file list and bytes
        const files = (d: string): string[] =>
          fs.existsSync(d) ? (fs.readdirSync(d, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(d, f)).isFile()).sort() : [];
        const stale = `actions/${e.action.dir}/dist is stale (the sources changed since it was built): run \`npm run build\` and commit actions/*/dist`;
        assert.deepStrictEqual(files(committedDir), files(freshDir), stale);
        for (const f of files(freshDir)) assert.ok(fs.readFileSync(path.join(freshDir, f)).equals(fs.readFileSync(path.join(committedDir, f))), `${stale} (${f} differs)`);
      });
    }
  });
});
