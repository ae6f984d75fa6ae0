/**
 * What reaches the user when aks-engine-azurestack fails (issue 10 §5). The double prints what the real v0.81.2
 * binary prints: cobra v0.0.3 writes `Error: <message>` and then the command's whole usage text (`UsageString()` +
 * newline, the reference help text from `Usage:` on) to stderr and exits 1; a Go panic writes `panic: ...` and the
 * goroutine trace and exits 2. The usage of deploy, scale and upgrade (24-28 lines) is longer than the bounded
 * 20-line stderr tail, so the `Error:` line is no longer in the tail when the tool exits: the one-line error must
 * still be aks-engine's own line, never `--debug   enable verbose debug logs`; the whole output goes to the debug log
 * only. Needs the help texts in ../shared/reference (skips with a printed reason without them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AksEngineRunner } from '../../src/aks-engine/runner';
import type { RunContext } from '../../src/platform/capability';
import { Summary } from '../../src/platform/summary';
import { ToolError } from '../../src/shared/errors';
import { exec } from '../../src/shared/exec';
import { Masker } from '../../src/shared/mask';
import { installDouble, type AksEngineDouble } from '../helpers/aks-engine-double';

const REFERENCE = path.resolve(__dirname, '../../../shared/reference/aks-engine-azurestack');
const UUID = '3f2b8c1e-9a4d-4e5f-8b7c-6d5e4f3a2b1c';
const SUB = '11111111-2222-3333-4444-555555555555';
const ENV_FIELDS = ['name', 'managementPortalURL', 'serviceManagementEndpoint', 'resourceManagerEndpoint', 'activeDirectoryEndpoint', 'graphEndpoint', 'galleryEndpoint', 'storageEndpointSuffix', 'keyVaultDNSSuffix', 'resourceManagerVMDNSSuffix', 'tokenAudience'];

/** cobra's usage text of a command as the real binary prints it after `Error:` (UsageString() + Println's newline). */
function usageOf(cmd: string): string {
  const help = fs.readFileSync(path.join(REFERENCE, `help-${cmd}.txt`), 'utf8');
  return `${help.slice(help.indexOf('Usage:')).replace(/\n*$/, '\n')}\n`;
}

interface Logs {
  info: string[];
  debug: string[];
}

function context(tempDir: string, logs: Logs): RunContext {
  const masker = new Masker();
  const log = {
    info: (m: string) => logs.info.push(m),
    debug: (m: string) => logs.debug.push(m),
    warning: (m: string) => logs.info.push(`warning: ${m}`),
    error: (m: string) => logs.info.push(`error: ${m}`),
    toolOutput: (m: string) => logs.info.push(m),
    group: <T>(_n: string, fn: () => Promise<T>) => fn(),
    progress: (_p: number | undefined, m: string) => logs.info.push(`progress: ${m}`),
  };
  return {
    platform: undefined as never,
    log,
    tempDir,
    masker,
    summary: new Summary(),
    mask: (s) => masker.add(s),
    secretFile: () => '',
    exec: (file, args, opts) => exec(file, args, { log, masker, ...opts }),
  };
}

function model(opts: { distro?: string; version?: string; pools?: number }): unknown {
  return {
    apiVersion: 'vlabs',
    location: 'local',
    properties: {
      orchestratorProfile: opts.version ? { orchestratorType: 'Kubernetes', orchestratorVersion: opts.version } : {},
      masterProfile: { count: 3, dnsPrefix: 'ratings', vmSize: 'Standard_D2_v2', distro: opts.distro ?? 'aks-ubuntu-20.04' },
      agentPoolProfiles: Array.from({ length: opts.pools ?? 1 }, (_, i) => ({ name: `pool${i + 1}`, count: 2, vmSize: 'Standard_D2_v2', distro: opts.distro ?? 'aks-ubuntu-20.04' })),
      linuxProfile: { adminUsername: 'azureuser', ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAA' }] } },
      customCloudProfile: { environment: Object.fromEntries(ENV_FIELDS.map((k) => [k, `https://${k}.local/`])) },
    },
  };
}

const AUTH = ['--azure-env', 'AzureStackCloud', '--identity-system', 'adfs', '--auth-method', 'client_secret', '--client-id', UUID, '--client-secret', 'not-a-real-secret', '--subscription-id', SUB];

describe('aks-engine failure output: aks-engine\'s own Error:/panic: line reaches the user (double prints what v0.81.2 prints)', function () {
  this.timeout(60_000);
  let dir: string;
  let double: AksEngineDouble;
  before(function () {
    if (!fs.existsSync(path.join(REFERENCE, 'help-deploy.txt'))) {
      console.log(`    skipped: ${REFERENCE} (the real aks-engine-azurestack help texts) is absent in this clone`);
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-fail-'));
    double = installDouble(path.join(dir, 'double'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, doc: unknown): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, JSON.stringify(doc));
    return f;
  };

  // [command, argv after the command, the message aks-engine returns (from the v0.81.2 source), usage lines]
  const cases: [string, () => string[], string][] = [
    ['deploy', () => ['--location', 'local', '-m', write('deploy.json', model({ distro: 'aks-ubuntu-22.04' })), ...AUTH], 'validating API model after populating values: The aks-ubuntu-22.04 distro is not supported'],
    ['scale', () => [...AUTH, '-m', write('scale.json', model({ pools: 2 })), '--location', 'local', '-g', 'ratings', '--new-node-count', '3'], '--node-pool is required if more than one agent pool is defined in the container service'],
    [
      'upgrade',
      () => [...AUTH, '-m', write('upgrade.json', model({ version: '1.28.15' })), '--location', 'local', '-g', 'ratings', '--upgrade-version', '1.30.6'],
      "upgrading from Kubernetes version 1.28.15 to version 1.30.6 is not supported. To see a list of available upgrades, use 'aks-engine-azurestack get-versions --version 1.28.15'",
    ],
    ['generate', () => ['--api-model', write('generate.json', model({ distro: 'aks-ubuntu-22.04' })), '--output-directory', path.join(dir, 'out'), '--parameters-only'], 'validating API model after populating values: The aks-ubuntu-22.04 distro is not supported'],
  ];

  for (const [cmd, argv, message] of cases) {
    it(`${cmd}: the double prints exactly cobra's output; the one-line error is the Error: line; the usage text only in the debug log`, async () => {
      double.reset();
      double.control({ version: '0.81.2' });
      const args = [cmd, ...argv()];
      // 1. the double's stderr byte for byte as the real binary's: Error line, then the whole usage text
      const direct = spawnSync(double.binary, args, { env: { ...process.env, ...double.env }, encoding: 'utf8' });
      assert.equal(direct.status, 1);
      assert.equal(direct.stderr, `Error: ${message}\n${usageOf(cmd)}`);
      const usageLines = usageOf(cmd).split('\n').filter((l) => l.trim() !== '');

      // 2. through the runner: one line, aks-engine's own
      double.reset();
      double.control({ version: '0.81.2' });
      const logs: Logs = { info: [], debug: [] };
      const tmp = fs.mkdtempSync(path.join(dir, 'run-'));
      const runner = new AksEngineRunner(context(tmp, logs), { binary: double.binary, caCertificates: [], deadline: Date.now() + 30_000, baseEnv: { ...process.env, ...double.env } });
      const err = await runner.run(args).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ToolError);
      assert.equal(err.message, `aks-engine-azurestack ${cmd} failed with exit code 1: Error: ${message}`);
      assert.doesNotMatch(err.message, /--debug|enable verbose debug logs|Usage:/);
      if (usageLines.length + 1 > 20) {
        // the case this is about: the Error line has already left the bounded tail when the tool exits
        assert.ok(!err.stderrTail.some((l) => l.startsWith('Error: ')), `${cmd}: usage of ${usageLines.length} lines pushes the Error line out of the tail`);
        assert.equal(err.stderrTail.filter((l) => l.trim()).at(-1)?.trim(), '--debug   enable verbose debug logs');
      }
      // 3. the full output in the debug log, none of it in the normal log
      for (const l of [`Error: ${message}`, ...usageLines]) assert.ok(logs.debug.includes(l), `debug log holds ${JSON.stringify(l)}`);
      for (const l of usageLines) assert.ok(!logs.info.includes(l), `normal log must not hold the usage line ${JSON.stringify(l)}`);
      assert.ok(!logs.info.some((l) => l.startsWith('Error: ')), 'the Error line is the failure message, not a log line');
    });
  }

  it('the usage texts that follow Error: are longer than the 20-line tail for deploy, scale and upgrade (24-28 lines)', () => {
    const n = (c: string) => usageOf(c).split('\n').length - 1;
    assert.deepEqual(['deploy', 'scale', 'upgrade'].map(n), [28, 24, 28]);
  });

  it('a Go panic: the panic: line is the reason (exit code 2); the goroutine trace only in the debug log', async () => {
    double.reset();
    double.control({ version: '0.81.2', panic: { upgrade: 'runtime error: invalid memory address or nil pointer dereference' } });
    const logs: Logs = { info: [], debug: [] };
    const tmp = fs.mkdtempSync(path.join(dir, 'run-'));
    const runner = new AksEngineRunner(context(tmp, logs), { binary: double.binary, caCertificates: [], deadline: Date.now() + 30_000, baseEnv: { ...process.env, ...double.env } });
    const args = ['upgrade', ...AUTH, '-m', write('panic.json', model({ version: '1.28.15' })), '--location', 'local', '-g', 'ratings', '--upgrade-version', '1.29.10'];
    await assert.rejects(runner.run(args), (e: Error) => {
      assert.ok(e instanceof ToolError);
      assert.equal(e.message, 'aks-engine-azurestack upgrade failed with exit code 2: panic: runtime error: invalid memory address or nil pointer dereference');
      return true;
    });
    assert.ok(logs.debug.includes('goroutine 1 [running]:'));
    assert.ok(logs.debug.includes('[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1f3c2d5]'));
    assert.ok(!logs.info.some((l) => /goroutine|panic:/.test(l)));
    // stdout (aks-engine's logrus lines) still reaches the normal log
    assert.ok(logs.info.some((l) => l.includes('Upgrading cluster from 1.28.15 to 1.29.10')), logs.info.join('\n'));
  });

  it('an ARM failure after the logrus ERRO line: still the Error: line, not the log line', async () => {
    double.reset();
    double.control({ version: '0.81.2', fail: { deploy: 'OS base image not available in target cloud: Code="NotFound" Message="Artifact: VMImage was not found."' } });
    const logs: Logs = { info: [], debug: [] };
    const tmp = fs.mkdtempSync(path.join(dir, 'run-'));
    const runner = new AksEngineRunner(context(tmp, logs), { binary: double.binary, caCertificates: [], deadline: Date.now() + 30_000, baseEnv: { ...process.env, ...double.env } });
    const args = ['deploy', '--location', 'local', '-m', write('arm.json', model({})), '-o', path.join(tmp, 'out'), ...AUTH];
    await assert.rejects(runner.run(args), (e: Error) => {
      assert.equal(e.message, 'aks-engine-azurestack deploy failed with exit code 1: Error: OS base image not available in target cloud: Code="NotFound" Message="Artifact: VMImage was not found."');
      return true;
    });
  });
});
