/**
 * GitHub Actions adapter on @actions/core (ESM-only since 3.x: it is bundled into each action's dist).
 * GitHub has no secret outputs: a secret for later steps goes into a 0600 file whose path is the output.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { Masker } from '../shared/mask';
import type { AnyCapability } from './capability';
import { fitSummary } from './github-summary';
import { MaskingLogger } from './logger';
import { runCapability } from './run';
import type { AgentTls, AzureRmConnection, KubernetesConnection, Platform, ProxySettings } from './types';

/** The GitHub Actions platform. */
export class GitHubPlatform implements Platform {
  readonly name = 'github-actions' as const;
  readonly masker = new Masker();
  readonly debug = core.isDebug();
  readonly log = new MaskingLogger(
    {
      info: (l) => core.info(l),
      debug: (l) => core.debug(l),
      warning: (l) => core.warning(l),
      error: (l) => core.error(l),
      startGroup: (n) => core.startGroup(n),
      endGroup: () => core.endGroup(),
    },
    this.masker,
    // core.debug lines are shown by the runner only in debug mode; our filter agrees with it
    this.debug,
  );
  readonly paths = (() => {
    const agentTemp = process.env.RUNNER_TEMP || os.tmpdir();
    return { agentTemp, toolCache: process.env.RUNNER_TOOL_CACHE || path.join(agentTemp, '_tool') };
  })();

  input(name: string): string | undefined {
    const v = core.getInput(name, { trimWhitespace: false });
    return v === '' ? undefined : v;
  }

  mask(secret: string): void {
    for (const piece of this.masker.add(secret)) if (!/[\r\n]/.test(piece)) core.setSecret(piece);
  }

  kubernetesConnection(): KubernetesConnection | undefined {
    return undefined;
  }

  azureRmConnection(): AzureRmConnection | undefined {
    return undefined;
  }

  setOutput(name: string, value: string): void {
    core.setOutput(name, value);
  }

  setVariable(name: string, value: string): void {
    core.exportVariable(name, value);
  }

  addPath(dir: string): void {
    core.addPath(dir);
  }

  async writeSummary(title: string, markdown: string): Promise<void> {
    const file = process.env.GITHUB_STEP_SUMMARY;
    const text = fitSummary(`## ${title}\n\n${markdown}`);
    if (file) fs.appendFileSync(file, text);
    else core.info(text);
  }

  setFailed(message: string): void {
    core.setFailed(this.masker.scrub(message));
  }

  setSucceeded(): void {
    /* the runner takes exit code 0 as success */
  }

  agentProxy(): ProxySettings | undefined {
    return undefined;
  }

  agentTls(): AgentTls {
    return {};
  }
}

/** Entry point of every action: `runOnGitHub(capability)`. */
export function runOnGitHub(capability: AnyCapability): Promise<boolean> {
  const platform = new GitHubPlatform();
  return runCapability(platform, capability, platform.masker);
}
