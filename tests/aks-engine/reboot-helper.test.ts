/**
 * The reboot helper's script (src/aks-engine/reboot/helper.ts) run as the DaemonSet runs it: /bin/sh, the REAL
 * kubectl of this machine against the HTTPS Kubernetes API stand-in (discovery, GET node, merge-patch annotate), and a
 * recording `nsenter` whose host filesystem is a temp dir (the only double: entering PID 1's namespaces needs root).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ANNOTATION, HELPER_SCRIPT } from '../../src/aks-engine/reboot/helper';
import { startKubeStandIn, type KubeStandIn } from '../helpers/aks-engine-double/kube';
import { makeCa, makeServerCert, type TestCa } from '../helpers/tls';
import { kubeconfigFor, TOKEN } from './reboot-fixture';

function which(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe('reboot helper script (sh + real kubectl → HTTPS stand-in)', function () {
  this.timeout(60_000);
  let dir: string;
  let ca: TestCa;
  let kube: KubeStandIn;
  let kubeconfig: string;
  const bootId = fs.existsSync('/proc/sys/kernel/random/boot_id') ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : '';
  before(async function () {
    if (!which('kubectl')) {
      console.log('    (skipped: no kubectl on PATH)');
      this.skip();
    }
    if (!bootId) {
      console.log('    (skipped: no /proc/sys/kernel/random/boot_id)');
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reboot-helper-'));
    ca = makeCa(path.join(dir, 'tls'));
    const cert = makeServerCert(ca, path.join(dir, 'tls'));
    kube = await startKubeStandIn({ tls: { key: cert.keyPem, cert: cert.certPem }, token: TOKEN });
    kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, kubeconfigFor(kube, ca), { mode: 0o600 });
    // nsenter: record the call, run `test`/`cat` against the fake host root, record systemctl
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'nsenter'),
      `#!/bin/sh\necho "nsenter $*" >> "$FAKE_LOG"\nwhile [ "$1" != "--" ]; do shift; done; shift\ncase "$1" in\n  test) test "$2" "$FAKE_HOST$3" ;;\n  cat) cat "$FAKE_HOST$2" ;;\n  systemctl) echo "REBOOT $*" >> "$FAKE_LOG" ;;\n  *) exit 127 ;;\nesac\n`,
      { mode: 0o755 },
    );
    fs.mkdirSync(path.join(dir, 'host', 'var', 'run'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'script.sh'), HELPER_SCRIPT);
  });
  after(async () => {
    await kube?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // async: the stand-in answers kubectl from this very process
  const runOnce = async (): Promise<{ log: string; stdout: string }> => {
    const log = path.join(dir, 'log');
    fs.writeFileSync(log, '');
    const { stdout } = await promisify(execFile)('sh', [path.join(dir, 'script.sh')], {
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, KUBECONFIG: kubeconfig, NODE_NAME: 'k8s-linuxpool-0-0', ONCE: '1', FAKE_HOST: path.join(dir, 'host'), FAKE_LOG: log, HOME: dir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { log: fs.readFileSync(log, 'utf8'), stdout };
  };

  it('publishes reboot-required, its packages, the boot id and the check time as node annotations', async () => {
    const node = kube.world.addNode('k8s-linuxpool-0-0', { bootId });
    fs.writeFileSync(path.join(dir, 'host/var/run/reboot-required'), '*** System restart required ***\n');
    fs.writeFileSync(path.join(dir, 'host/var/run/reboot-required.pkgs'), 'linux-image-6.8.0-1021-azure\nlinux-base\n');
    const r = await runOnce();
    assert.equal(node.annotations[ANNOTATION.required], 'true');
    assert.equal(node.annotations[ANNOTATION.packages], 'linux-image-6.8.0-1021-azure linux-base ');
    assert.equal(node.annotations[ANNOTATION.bootId], bootId);
    assert.match(node.annotations[ANNOTATION.checked], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(kube.world.patches.every((p) => p.contentType === 'application/merge-patch+json'), 'kubectl annotate sends a merge patch');
    assert.doesNotMatch(r.log, /REBOOT/);
    assert.match(r.log, /^nsenter --target 1 --mount --uts --ipc --net -- test -e \/var\/run\/reboot-required$/m);
  });

  it('reboots through nsenter … systemctl reboot only when the request names the current boot', async () => {
    const node = kube.world.nodes.get('k8s-linuxpool-0-0')!;
    node.annotations[ANNOTATION.request] = '00000000-0000-0000-0000-000000000000';
    assert.doesNotMatch((await runOnce()).log, /REBOOT/, 'a request from an earlier boot is ignored');
    node.annotations[ANNOTATION.request] = bootId;
    const r = await runOnce();
    assert.match(r.log, /^REBOOT systemctl reboot$/m);
    assert.match(r.log, /^nsenter --target 1 --mount --uts --ipc --net -- systemctl reboot$/m);
    assert.match(r.stdout, new RegExp(`reboot requested for boot ${bootId}: rebooting k8s-linuxpool-0-0`));
  });

  it('no sentinel: required=false, empty packages', async () => {
    fs.rmSync(path.join(dir, 'host/var/run/reboot-required'));
    fs.rmSync(path.join(dir, 'host/var/run/reboot-required.pkgs'));
    const node = kube.world.nodes.get('k8s-linuxpool-0-0')!;
    delete node.annotations[ANNOTATION.request];
    await runOnce();
    assert.equal(node.annotations[ANNOTATION.required], 'false');
    assert.equal(node.annotations[ANNOTATION.packages], '');
  });
});
