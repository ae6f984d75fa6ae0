/**
 * The CURRENT manifests of our capabilities, read from disk on every call (never from src/capabilities.ts): the
 * templates must work with what ships, and a renamed input must fail the template tests loudly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The owner/repository our actions and reusable workflows are referenced by (`<owner>/<repo>/actions/<dir>@v1`). */
export const ACTION_REPO = 'stackhub-ha/stackhub-ha';
/** The major version tag templates and workflows reference. */
export const ACTION_REF = 'v1';

export interface TaskInput {
  name: string;
  type: string;
  label?: string;
  required?: boolean;
  defaultValue?: string;
  helpMarkDown?: string;
  options?: Record<string, string>;
  visibleRule?: string;
}

export interface TaskJson {
  name: string;
  friendlyName: string;
  description: string;
  version: { Major: number; Minor: number; Patch: number };
  inputs: TaskInput[];
  outputVariables?: { name: string; description?: string }[];
  /** the folder under tasks/ */
  folder: string;
}

export interface ActionYml {
  name: string;
  description: string;
  inputs?: Record<string, { description: string; required?: boolean; default?: string; deprecationMessage?: string }>;
  outputs?: Record<string, { description: string; value?: string }>;
  runs: { using: string; main?: string; steps?: unknown[] };
  /** the folder under actions/ (e.g. `setup-tools`, `composite/site-release`) */
  dir: string;
}

/** Every tasks/<folder>/task.json, keyed by `<name>@<major>`. */
export function readTasks(): Map<string, TaskJson> {
  const out = new Map<string, TaskJson>();
  const dir = path.join(ROOT, 'tasks');
  for (const folder of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const file = path.join(dir, folder, 'task.json');
    if (!fs.existsSync(file)) continue;
    const t = JSON.parse(fs.readFileSync(file, 'utf8')) as Omit<TaskJson, 'folder'>;
    out.set(`${t.name}@${t.version.Major}`, { ...t, folder });
  }
  return out;
}

/** Every action.yml under actions/ (capabilities at actions/<dir>, composites at actions/composite/<name>). */
export function readActions(): Map<string, ActionYml> {
  const out = new Map<string, ActionYml>();
  const base = path.join(ROOT, 'actions');
  const visit = (rel: string, depth: number): void => {
    const abs = path.join(base, rel);
    for (const f of ['action.yml', 'action.yaml']) {
      if (rel && fs.existsSync(path.join(abs, f))) {
        const a = YAML.parse(fs.readFileSync(path.join(abs, f), 'utf8')) as Omit<ActionYml, 'dir'>;
        out.set(rel, { ...a, dir: rel });
        return;
      }
    }
    if (depth > 1) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'dist' && e.name !== 'node_modules') visit(rel ? `${rel}/${e.name}` : e.name, depth + 1);
    }
  };
  if (fs.existsSync(base)) visit('', 0);
  return out;
}

/** The capabilities and the names they ship under (architecture.md). */
export const CAPABILITY_NAMES = {
  toolSetup: { task: 'StackHubToolSetup@1', action: 'setup-tools' },
  mongoBackup: { task: 'StackHubMongoBackup@1', action: 'mongo-backup' },
  trafficSwap: { task: 'StackHubTrafficSwap@1', action: 'traffic-swap' },
  helmRelease: { task: 'StackHubHelmRelease@1', action: 'helm-release' },
  aksEngine: { task: 'StackHubAksEngine@1', action: 'aks-engine' },
} as const;
export type CapabilityKey = keyof typeof CAPABILITY_NAMES;

/** Whether a capability has landed (its task.json AND action.yml exist). */
export function landed(key: CapabilityKey): boolean {
  const n = CAPABILITY_NAMES[key];
  return readTasks().has(n.task) && readActions().has(n.action);
}

/** Lists files under a directory (relative to ROOT) matching a predicate, sorted. */
export function listFiles(relDir: string, match: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (match(r)) out.push(r);
    }
  };
  walk(relDir);
  return out.sort();
}

/** Reads a YAML file of the repo (relative path) as plain data. */
export function readYaml<T = unknown>(rel: string): T {
  return YAML.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as T;
}

/** The Azure Pipelines files: every template and the example pipelines (`azure-pipelines*.yml`). */
export function adoFiles(): string[] {
  return [
    ...listFiles('templates', (r) => /\.ya?ml$/.test(r)),
    ...listFiles('pipelines', (r) => /(^|\/)azure-pipelines[^/]*\.ya?ml$/.test(r)),
  ];
}

/** The GitHub files: every workflow and every composite action of ours. */
export function githubFiles(): string[] {
  return [...listFiles('.github/workflows', (r) => /\.ya?ml$/.test(r)), ...listFiles('actions/composite', (r) => /\/action\.ya?ml$/.test(r))];
}
