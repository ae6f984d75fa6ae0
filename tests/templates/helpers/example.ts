/**
 * The example pipelines, read and expanded the way Azure Pipelines compiles them for each kind of run.
 */
import YAML from 'yaml';
import { expandFile, type ExpandOptions } from './expand';
import { readYaml } from './manifests';

export const EXAMPLE = 'pipelines/azure-pipelines.yml';
export const EXAMPLE_WORKFLOW = '.github/workflows/example-ratings.yml';

/** The repository resources of the example: `stackhub` is this repository. */
export const REPOS: Record<string, string> = { stackhub: '' };

/** Predefined variables of each kind of run (those the example's compile-time expressions read). */
export const RUNS = {
  push: { 'Build.Reason': 'IndividualCI' },
  pullRequest: { 'Build.Reason': 'PullRequest' },
  nightly: { 'Build.Reason': 'Schedule', 'Build.CronSchedule.DisplayName': 'Nightly backup' },
  weekly: { 'Build.Reason': 'Schedule', 'Build.CronSchedule.DisplayName': 'Weekly restore drill' },
  manual: { 'Build.Reason': 'Manual' },
} as const satisfies Record<string, Record<string, string>>;

/** Expands the example pipeline for a kind of run and manual-run parameters. */
export function expandExample(run: keyof typeof RUNS, parameters: Record<string, unknown> = {}): Record<string, unknown> {
  const opts: ExpandOptions = { repos: REPOS, variables: { ...RUNS[run] } };
  return expandFile(EXAMPLE, parameters, opts);
}

export interface Stage {
  stage: string;
  dependsOn?: string | string[];
  condition?: string;
  lockBehavior?: string;
  jobs: Job[];
}
export interface Job {
  job?: string;
  deployment?: string;
  dependsOn?: string | string[];
  condition?: string;
  pool?: { name?: string } | string;
  environment?: string;
  steps?: Step[];
  strategy?: { runOnce?: { deploy?: { steps: Step[] } } };
}
export interface Step {
  task?: string;
  name?: string;
  condition?: string;
  inputs?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The steps of a job (a deployment job's runOnce deploy steps). */
export function stepsOf(j: Job): Step[] {
  return j.steps ?? j.strategy?.runOnce?.deploy?.steps ?? [];
}

/** A stage's effective dependencies: its dependsOn, or (when absent) the stage before it. */
export function dependenciesOf(stages: Stage[], i: number): string[] {
  const d = stages[i].dependsOn;
  if (d === undefined) return i === 0 ? [] : [stages[i - 1].stage];
  return Array.isArray(d) ? d : [d];
}

/** The sites parameter default of the example pipeline. */
export function exampleSitesParameter(): Record<string, unknown>[] {
  const doc = readYaml<{ parameters: { name: string; default: unknown }[] }>(EXAMPLE);
  return doc.parameters.find((p) => p.name === 'sites')!.default as Record<string, unknown>[];
}

const splitList = (v: string): string[] => v.split(/[,\s]+/).filter(Boolean);

/** The example's settings shared by the Azure Pipelines and GitHub examples (the release preflight's registries). */
export function examplePipelineSettings(): { allowedRegistries: string[]; githubAllowedRegistries: string[] } {
  const doc = readYaml<{ variables: ({ name: string; value: string } | { group: string })[] }>(EXAMPLE);
  const v = doc.variables.find((x) => 'name' in x && x.name === 'allowedRegistries') as { value: string } | undefined;
  if (!v) throw new Error(`${EXAMPLE}: no variable allowedRegistries`);
  const wf = readYaml<{ jobs: Record<string, { with?: Record<string, string> }> }>(EXAMPLE_WORKFLOW);
  const releaseInputs = JSON.parse(wf.jobs.release?.with?.['release-inputs'] ?? '{}') as { allowedRegistries?: string };
  return { allowedRegistries: splitList(v.value), githubAllowedRegistries: splitList(releaseInputs.allowedRegistries ?? '') };
}

/** YAML text of an expanded pipeline (to validate it against the schema too). */
export function toYaml(doc: unknown): string {
  return YAML.stringify(doc, { lineWidth: 0 });
}
