/** esbuild settings shared by the build and the stale-dist check, so both produce the same bytes. */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CAPABILITIES } from '../src/capabilities';
import { ROOT, pkg } from './manifests';

/** Node versions the bundles must run on (ADO Node20_1/Node24 handlers, GitHub node24). */
export const TARGET = 'node20';

/** Modules replaced in every bundle (see each stub's comment). */
const ALIASES: Record<string, string> = {
  '@actions/http-client': './src/platform/http-client-stub.ts',
  '@actions/http-client/lib/auth': './src/platform/http-client-stub.ts',
};

function options(entry: string, outfile: string, external: string[], banner?: string): esbuild.BuildOptions {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'cjs',
    // @actions/core 3 is ESM-only: pick its "import" condition and bundle it into CJS
    conditions: ['import', 'node'],
    mainFields: ['module', 'main'],
    external,
    alias: ALIASES,
    legalComments: 'eof',
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    charset: 'utf8',
    // ESM packages bundled into CJS (e.g. @azure/storage-common's crc64) call createRequire(import.meta.url)
    define: { STACKHUB_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__stackhub_import_meta_url' },
    banner: { js: [banner, 'var __stackhub_import_meta_url=require("url").pathToFileURL(__filename).href;'].filter(Boolean).join('\n') },
    logLevel: 'warning',
  };
}

/** Bundles an action fully (users run it from the repo at a ref: nothing is installed). */
export async function bundleAction(dir: string, outfile = path.join(ROOT, 'actions', dir, 'dist', 'index.js')): Promise<string> {
  await esbuild.build(options(`actions/${dir}/index.ts`, outfile, []));
  return outfile;
}

/** Bundles a task; azure-pipelines-task-lib stays external (installed into the task folder). */
export async function bundleTask(folder: string): Promise<string> {
  const outfile = path.join(ROOT, 'tasks', folder, 'dist', 'index.js');
  await esbuild.build(options(`tasks/${folder}/index.ts`, outfile, ['azure-pipelines-task-lib', 'azure-pipelines-task-lib/*']));
  return outfile;
}

/** Bundles the CLI into one file that runs on any Node >= 20. */
export async function bundleCli(outfile = path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js')): Promise<string> {
  await esbuild.build(options('src/cli/main.ts', outfile, [], '#!/usr/bin/env node'));
  fs.chmodSync(outfile, 0o755);
  return outfile;
}

export const ACTION_DIRS = CAPABILITIES.map((e) => e.action.dir);
export const TASK_FOLDERS = CAPABILITIES.map((e) => e.task.folder);
