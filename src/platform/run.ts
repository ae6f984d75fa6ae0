/**
 * The frame around every capability: mask secret inputs, parse once, make a private temp dir, run, set outputs,
 * publish the summary, turn any error into one failure line (a stack trace only in debug mode), clean up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, PreconditionError, StackHubError, oneLine } from '../shared/errors';
import { exec, killAllChildren } from '../shared/exec';
import type { Masker } from '../shared/mask';
import { netFromPlatform, type Net } from '../shared/net';
import { resolveSecretInputs } from '../shared/secrets';
import type { AnyCapability, RunContext } from './capability';
import { createInputReader, secureFileTarget } from './inputs';
import { Summary } from './summary';
import type { Platform } from './types';

/** Creates a private temp dir (0700) under `root`. */
export function makePrivateTempDir(root: string): string {
  let dir: string;
  try {
    fs.mkdirSync(root, { recursive: true });
    dir = fs.mkdtempSync(path.join(root, 'stackhub-ha-'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PreconditionError(`cannot create the run's private temp dir under ${root} (the agent's temp dir, TMPDIR on the CLI): ${err.code ?? err.message}`);
  }
  fs.chmodSync(dir, 0o700);
  return dir;
}

/** Writes a 0600 file in a fresh 0700 directory under `root` (see RunContext.secretFile). */
export function writeSecretFile(root: string, name: string, content: string | Buffer): string {
  if (name !== path.basename(name) || name === '' || name === '.' || name === '..') throw new Error(`bug: secret file name '${name}'`);
  const base = path.join(root, 'stackhub-ha-secrets');
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(base, 'f-'));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, name);
  fs.writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/**
 * Reads every secret input without the CI library logging it and resolves it with the shared resolver: the one
 * place where secret references enter a run. Vault settings come from the environment (VAULT_ADDR ...); the Hub
 * and cluster of keyvault:// / k8s:// from the capability's own inputs ({@link AnyCapability.secretSources}).
 */
async function resolveFrameSecrets(platform: Platform, capability: AnyCapability, net: Net, files: ReadonlyMap<string, string> = new Map()): Promise<{ names: Set<string>; values: Map<string, string> }> {
  const defs = capability.inputs.filter((d) => d.type === 'secret');
  const names = new Set(defs.map((d) => d.name));
  const values = await resolveSecretInputs(
    // a secure file's content is the value itself, never a reference
    defs.filter((d) => !files.has(d.name)).map((d) => ({ name: d.name, value: platform.secretInput ? platform.secretInput(d.name) : platform.input(d.name) })),
    {
      env: process.env,
      mask: (s) => platform.mask(s),
      proxyFor: (u) => net.proxyFor(u),
      debug: (l) => platform.log.debug(l),
      sources: capability.secretSources
        ? (value) =>
            capability.secretSources!(
              createInputReader(capability.inputs, (n) => files.get(n) ?? (names.has(n) ? value(n) : platform.input(n)), (s) => platform.mask(s)),
              platform,
            )
        : undefined,
    },
  );
  for (const [name, content] of files) values.set(name, content);
  return { names, values };
}

/**
 * The secure files that stand in for secret inputs (`<name>SecureFile`, see secureFileInput): downloaded by the
 * platform (Azure Pipelines) into the private temp dir, read, deleted and masked. Returns the secret inputs' values
 * by the secret input's name; a secret input and its secure file both set is an error naming the secure file.
 */
async function readSecureFiles(platform: Platform, capability: AnyCapability, net: Net, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of capability.inputs) {
    const target = secureFileTarget(d);
    if (!target || !platform.secureFile || !platform.input(d.name)) continue;
    const literal = platform.secretInput ? platform.secretInput(target) : platform.input(target);
    if (literal) {
      platform.mask(literal);
      throw new InputError(d.name, `set either ${target} or ${d.name}, not both`);
    }
    const content = await platform.secureFile(d.name, { dir, ...net.http() });
    if (content !== undefined) out.set(target, content);
  }
  return out;
}

/** Renders an output value as the string a pipeline variable holds. */
function outputString(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Runs a capability on a platform. Resolves to true on success; never throws (the platform is marked failed and
 * process.exitCode set instead).
 */
export async function runCapability(platform: Platform, capability: AnyCapability, masker: Masker): Promise<boolean> {
  let tempDir: string | undefined;
  const summary = new Summary();
  const cleanup = (): void => {
    if (tempDir) {
      fs.rmSync(tempDir, { recursive: true, force: true, maxRetries: 3 });
      tempDir = undefined;
    }
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    platform.log.error(`${capability.title}: cancelled (${sig}); stopping child processes`);
    killAllChildren('SIGTERM');
    setTimeout(() => killAllChildren('SIGKILL'), 3000).unref();
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let failure: string | undefined;
  let net: Net | undefined;
  try {
    // 1. secret inputs: literals masked before anything can be logged, references (keyvault://, k8s://, vault://)
    //    resolved once and masked as they arrive — see src/shared/secrets
    //    (through the run's one network: agent proxy / HTTPS_PROXY+NO_PROXY, see shared/net)
    net = netFromPlatform(platform, (s) => platform.mask(s));
    tempDir = makePrivateTempDir(platform.paths.agentTemp);
    //    (Azure Pipelines secure files in place of secret inputs: downloaded into the private temp dir first)
    const secrets = await resolveFrameSecrets(platform, capability, net, await readSecureFiles(platform, capability, net, tempDir));
    // 2. parse once
    const input = (n: string): string | undefined => (secrets.names.has(n) ? secrets.values.get(n) : platform.input(n));
    const reader = createInputReader(capability.inputs, input, (s) => platform.mask(s));
    const inputs = capability.parse(reader, platform);
    // 3. run
    const ctx: RunContext = {
      net,
      platform,
      log: platform.log,
      tempDir,
      masker,
      summary,
      mask: (s) => platform.mask(s),
      secretFile: (name, content) => writeSecretFile(platform.paths.agentTemp, name, content),
      exec: (file, args, opts) => exec(file, args, { log: platform.log, masker, ...opts }),
    };
    const outputs = (await capability.run(inputs, ctx)) as Record<string, unknown>;
    // 4. outputs
    for (const def of capability.outputs) {
      const v = outputs[def.name];
      if (v !== undefined && v !== null) platform.setOutput(def.name, outputString(v));
    }
  } catch (err) {
    const line = oneLine(err);
    failure = masker.scrub(err instanceof StackHubError ? line : `unexpected error: ${line}`);
    if (platform.debug && err instanceof Error && err.stack) platform.log.debug(err.stack);
    summary.text(`**Failed:** ${failure}`);
    // outputs that hold although the run failed (e.g. the previous state an undo needs)
    const partial = err instanceof StackHubError ? err.outputs : undefined;
    for (const def of partial ? capability.outputs : []) {
      const v = partial![def.name];
      if (v !== undefined && v !== null) platform.setOutput(def.name, masker.scrub(outputString(v)));
    }
  } finally {
    net?.close();
    cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  try {
    if (!summary.empty) await platform.writeSummary(capability.title, masker.scrub(summary.toMarkdown()));
  } catch (e) {
    platform.log.warning(`could not write the run summary: ${oneLine(e)}`);
  }
  if (failure === undefined) {
    platform.setSucceeded();
    return true;
  }
  platform.setFailed(failure);
  process.exitCode = 1;
  return false;
}
