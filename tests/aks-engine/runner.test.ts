/**
 * The aks-engine runner in process: the whole process tree is killed at the deadline (a hanging deploy and its
 * grandchild), heartbeats while quiet, ANSI stripped, and the private CWD/TMPDIR removed afterwards.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AksEngineRunner } from '../../src/aks-engine/runner';
import type { RunContext } from '../../src/platform/capability';
import { Summary } from '../../src/platform/summary';
import { TimeoutError } from '../../src/shared/errors';
import { exec } from '../../src/shared/exec';
import { Masker } from '../../src/shared/mask';
import { installDouble, type AksEngineDouble } from '../helpers/aks-engine-double';

function context(tempDir: string, lines: string[]): RunContext {
  const masker = new Masker();
  const log = {
    info: (m: string) => lines.push(m),
    debug: () => undefined,
    warning: (m: string) => lines.push(`warning: ${m}`),
    error: (m: string) => lines.push(`error: ${m}`),
    toolOutput: (m: string) => lines.push(m),
    group: <T>(_n: string, fn: () => Promise<T>) => fn(),
    progress: (_p: number | undefined, m: string) => lines.push(`progress: ${m}`),
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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('aks-engine runner', function () {
  this.timeout(60_000);
  let dir: string;
  let double: AksEngineDouble;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aks-runner-'));
    double = installDouble(path.join(dir, 'double'));
    process.env.AKS_DOUBLE_DIR = double.dir;
  });
  after(() => {
    delete process.env.AKS_DOUBLE_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('kills the whole process tree at the deadline, with heartbeats while it hangs', async () => {
    double.control({ hang: ['deploy'] });
    const tmp = fs.mkdtempSync(path.join(dir, 'run-'));
    const lines: string[] = [];
    const runner = new AksEngineRunner(context(tmp, lines), { binary: double.binary, caCertificates: [], deadline: Date.now() + 2500, heartbeatMs: 400 });
    await assert.rejects(runner.run(['deploy', '--location', 'local', '-m', '/nonexistent']), (e: Error) => {
      assert.ok(e instanceof TimeoutError);
      assert.match(e.message, /^aks-engine-azurestack deploy did not finish within 0 min \(timeoutMinutes\); its process tree was killed$/);
      return true;
    });
    assert.ok(lines.some((l) => /^progress: aks-engine-azurestack deploy: still running \(0m \ds\)$/.test(l)), lines.join('\n'));
    const gpid = Number(fs.readFileSync(path.join(double.dir, 'deploy.grandchild.pid'), 'utf8'));
    for (let i = 0; i < 50 && alive(gpid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(gpid), false, 'the grandchild was killed too');
    assert.deepEqual(fs.readdirSync(tmp), [], 'private CWD and TMPDIR removed');
  });

  it('strips ANSI from what it logs and removes what aks-engine leaves in its CWD', async () => {
    double.reset();
    double.control({ ansi: true });
    const tmp = fs.mkdtempSync(path.join(dir, 'run-'));
    const lines: string[] = [];
    const runner = new AksEngineRunner(context(tmp, lines), { binary: double.binary, caCertificates: [], deadline: Date.now() + 30_000 });
    const model = path.join(dir, 'm.json');
    fs.writeFileSync(model, JSON.stringify({ location: 'local', properties: { masterProfile: { count: 3, dnsPrefix: 'abc', distro: 'aks-ubuntu-22.04' }, linuxProfile: { ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAA' }] } }, customCloudProfile: { environment: Object.fromEntries(['name', 'managementPortalURL', 'serviceManagementEndpoint', 'resourceManagerEndpoint', 'activeDirectoryEndpoint', 'graphEndpoint', 'galleryEndpoint', 'storageEndpointSuffix', 'keyVaultDNSSuffix', 'resourceManagerVMDNSSuffix', 'tokenAudience'].map((k) => [k, 'x'])) } } }));
    await runner.run(['generate', '--api-model', model, '--output-directory', path.join(tmp, 'out'), '--parameters-only']);
    assert.ok(lines.some((l) => l.startsWith('INFO[0000] Generating assets')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('\u001b')), 'no ANSI in the log');
    const call = double.calls().at(-1)!;
    assert.ok(fs.existsSync(path.join(tmp, 'out', 'azuredeploy.parameters.json')));
    assert.ok(!fs.existsSync(call.cwd), 'translations/ went with the private CWD');
  });
});
