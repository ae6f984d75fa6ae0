/**
 * GitHub Actions validation, OFFLINE: @actions/workflow-parser (parse + convert, reusable workflows resolved from
 * this repository) and @actions/languageservice (`validate`, with a metadata provider built from our action.yml
 * files and the transcribed third-party manifests in fixtures/third-party-actions.yml, so every `uses:` input is
 * checked). Any action or workflow reference that is not ours or in that list is an error; nothing is fetched.
 */
import * as fs from 'node:fs';
import { register } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ACTION_REF, ACTION_REPO, ROOT, readActions } from './manifests';

let hooked = false;
/** Loads the ESM packages (after adding the JSON import attribute hook they need on Node's own loader). */
async function modules() {
  if (!hooked) {
    register('./json-import-hook.mjs', pathToFileURL(__filename));
    hooked = true;
  }
  const [ls, cache, wp, ap, convert] = await Promise.all([
    import('@actions/languageservice'),
    import('@actions/languageservice/utils/workflow-cache'),
    import('@actions/workflow-parser'),
    import('@actions/workflow-parser/actions/index'),
    import('@actions/workflow-parser/model/convert'),
  ]);
  return { ls, cache, wp, ap, convert };
}

export interface ActionMeta {
  name: string;
  description: string;
  inputs?: Record<string, { description: string; required?: boolean; default?: string; deprecationMessage?: string }>;
  outputs?: Record<string, { description: string }>;
}

/** Third-party actions we accept, `owner/name@ref` → metadata. */
export function thirdPartyActions(): Map<string, ActionMeta> {
  const doc = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'third-party-actions.yml'), 'utf8')) as Record<string, ActionMeta>;
  return new Map(Object.entries(doc));
}

/** Resolves `uses:` of a step to metadata: ours (`stackhub-ha/stackhub-ha/actions/<dir>@v1`) or a listed one. */
export function resolveAction(ref: { owner: string; name: string; ref: string; path?: string }): ActionMeta | undefined {
  if (`${ref.owner}/${ref.name}` === ACTION_REPO) {
    if (ref.ref !== ACTION_REF || !ref.path?.startsWith('actions/')) return undefined;
    const a = readActions().get(ref.path.slice('actions/'.length));
    return a && { name: a.name, description: a.description, inputs: a.inputs ?? {}, outputs: a.outputs ?? {} };
  }
  if (ref.path) return undefined;
  return thirdPartyActions().get(`${ref.owner}/${ref.name}@${ref.ref}`);
}

/** A reusable workflow reference (`./.github/workflows/x.yml` or `stackhub-ha/stackhub-ha/.github/workflows/x.yml@v1`) → repo path. */
export function resolveWorkflowRef(ref: { path: string; owner?: string; repository?: string; version?: string }): string | undefined {
  if (ref.owner === undefined) return path.posix.normalize(ref.path.replace(/^\.\//, ''));
  if (`${ref.owner}/${ref.repository}` === ACTION_REPO && ref.version === ACTION_REF) return ref.path;
  return undefined;
}

export interface GhProblem {
  file: string;
  line: number;
  message: string;
  source: 'languageservice' | 'workflow-parser';
}

const fileProvider = {
  async getFileContent(ref: { path: string; owner?: string; repository?: string; version?: string }) {
    const rel = resolveWorkflowRef(ref);
    if (!rel || !rel.startsWith('.github/workflows/') || !fs.existsSync(path.join(ROOT, rel))) throw new Error(`workflow not found: ${JSON.stringify(ref)}`);
    return { name: rel, content: fs.readFileSync(path.join(ROOT, rel), 'utf8') };
  },
};

/** Validates a workflow or an action.yml text; `rel` decides which (action.yml / action.yaml is an action). */
export async function validateGithubText(text: string, rel: string): Promise<GhProblem[]> {
  const { ls, cache, wp, ap, convert } = await modules();
  cache.clearCache(); // the language service caches parses by document URI, whatever the text
  const problems: GhProblem[] = [];
  const isAction = /(^|\/)action\.ya?ml$/.test(rel);

  // 1. the language service: schema, expressions and contexts, `uses:` inputs against the offline metadata
  const doc = TextDocument.create(`file:///repo/${rel}`, 'yaml', 1, text);
  const diags = await ls.validate(doc, {
    actionsMetadataProvider: { fetchActionMetadata: async (r) => resolveAction(r) },
    fileProvider,
  });
  for (const d of diags) {
    if (d.severity !== undefined && d.severity > 2) continue; // information (e.g. cron descriptions)
    problems.push({ file: rel, line: d.range.start.line + 1, message: String(d.message), source: 'languageservice' });
  }

  // 2. the parser on its own, errors only (reusable workflows fetched from this repository, their inputs checked)
  const trace = new wp.NoOperationTraceWriter();
  const file = { name: rel, content: text };
  if (isAction) {
    const parsed = ap.parseAction(file, trace);
    if (parsed.value) ap.convertActionTemplate(parsed.context, parsed.value);
    for (const e of parsed.context.errors.getErrors()) problems.push({ file: rel, line: e.range?.start.line ?? 0, message: e.message, source: 'workflow-parser' });
  } else {
    const parsed = wp.parseWorkflow(file, trace);
    if (parsed.value) {
      const result = await wp.convertWorkflowTemplate(parsed.context, parsed.value, fileProvider as never, {
        fetchReusableWorkflowDepth: 1,
        errorPolicy: convert.ErrorPolicy.TryConversion,
      });
      for (const e of result.errors ?? []) problems.push({ file: rel, line: 0, message: e.Message, source: 'workflow-parser' });
    } else {
      for (const e of parsed.context.errors.getErrors()) problems.push({ file: rel, line: e.range?.start.line ?? 0, message: e.message, source: 'workflow-parser' });
    }
  }
  return dedupe(problems);
}

function dedupe(ps: GhProblem[]): GhProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.line}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export async function validateGithubFile(rel: string): Promise<GhProblem[]> {
  return validateGithubText(fs.readFileSync(path.join(ROOT, rel), 'utf8'), rel);
}

/** Every `uses:` (steps and reusable-workflow jobs) of a workflow or composite action, with where it is. */
export function usesOf(doc: unknown): { uses: string; where: string; with?: Record<string, unknown> }[] {
  const out: { uses: string; where: string; with?: Record<string, unknown> }[] = [];
  const d = doc as { jobs?: Record<string, { uses?: string; with?: Record<string, unknown>; steps?: { uses?: string; with?: Record<string, unknown> }[] }>; runs?: { steps?: { uses?: string; with?: Record<string, unknown> }[] } };
  for (const [id, job] of Object.entries(d.jobs ?? {})) {
    if (job.uses) out.push({ uses: job.uses, where: `jobs.${id}`, with: job.with });
    (job.steps ?? []).forEach((s, i) => s.uses && out.push({ uses: s.uses, where: `jobs.${id}.steps[${i}]`, with: s.with }));
  }
  (d.runs?.steps ?? []).forEach((s, i) => s.uses && out.push({ uses: s.uses, where: `runs.steps[${i}]`, with: s.with }));
  return out;
}
