/**
 * The built AKS Engine bundles run the way the agents run them, on Node 20 and Node 24: the ADO task with an
 * `azurerm` service connection (environment AzureStack, certificate), the GitHub Action (deploy with a filesystem
 * state store) and the CLI (bad input), against the fake ADFS Hub and the aks-engine-azurestack double on PATH.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireBuilt, runAdoTask, runGitHubAction, runtimes } from '../helpers/harness';
import { CLIENT_ID, runCliAks, SECRET, SSH_KEY, startFixture, SUBSCRIPTION, walk, type Fixture } from './fixture';

const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('aks-engine bundles (ADO task, GitHub Action, CLI)', function () {
  this.timeout(120_000);
  let f: Fixture;
  before(async () => {
    requireBuilt();
    f = await startFixture();
  });
  after(async () => f?.close());
  beforeEach(() => f.double.reset());

  const pathWithDouble = (): string => `${f.double.binDir}:/usr/bin:/bin`;

  for (const rt of runtimes()) {
    describe(`on ${rt.name}`, () => {
      it('ADO: validate with an azurerm connection (AzureStack, certificate); aks-engine found on PATH; nothing secret on argv', async () => {
        const r = await runAdoTask({
          task: 'StackHubAksEngineV1',
          node: rt.path,
          inputs: { command: 'validate', azureStackConnection: 'hub', location: 'local', caCertificate: f.caFile, dnsPrefix: 'ratings-seattle', sshPublicKey: SSH_KEY, clientSecret: SECRET },
          endpoints: [
            {
              id: 'hub',
              url: f.adfs.armEndpoint,
              scheme: 'ServicePrincipal',
              parameters: { serviceprincipalid: CLIENT_ID, authenticationType: 'spnCertificate', servicePrincipalCertificate: f.sp.certPem + f.sp.keyPem, tenantid: 'adfs' },
              data: { environment: 'AzureStack', subscriptionId: SUBSCRIPTION },
            },
          ],
          env: { PATH: pathWithDouble(), ...f.double.env },
        });
        assert.equal(r.result, 'Succeeded', r.stdout);
        const out = r.variables.get('apiModelPath');
        assert.ok(out?.isOutput && fs.existsSync(out.value));
        assert.ok(!fs.readFileSync(out!.value, 'utf8').includes(SECRET));
        assert.equal(r.variables.get('apiServerFqdn')?.value, 'ratings-seattle.local.cloudapp.azurestack.external');
        const calls = f.double.calls();
        // get-versions, one generate dry run per known distro (what the binary accepts), then the images dry run
        assert.deepEqual(calls.map((c) => c.cmd), ['version', 'get-versions', 'generate', 'generate', 'generate']);
        for (const c of calls) assert.ok(!c.argv.join(' ').includes(SECRET) && !c.argv.join(' ').includes('PRIVATE KEY'));
        assert.ok(f.adfs.requests.some((q) => q.server === 'arm' && q.path.includes('/vmimage/')), 'marketplace checked with the connection\'s certificate');
        const summary = r.attachments.find((a) => a.type === 'Distributedtask.Core.Summary');
        assert.match(summary?.content ?? '', /Marketplace prerequisites/);
        assert.ok(r.secrets.includes(SECRET), 'the secret input is registered with the agent');
      });

      it('GitHub: deploy with a certificate secret and a filesystem store; state stored encrypted; kubeconfig path output', async () => {
        const root = path.join(f.dir, `gh-store-${rt.name}`);
        fs.mkdirSync(root, { recursive: true });
        const r = await runGitHubAction({
          action: 'aks-engine',
          node: rt.path,
          inputs: {
            command: 'deploy',
            armEndpoint: f.adfs.armEndpoint,
            location: 'local',
            subscriptionId: SUBSCRIPTION,
            clientId: CLIENT_ID,
            clientSecret: SECRET,
            clientCertificate: f.sp.certPem + f.sp.keyPem,
            caCertificate: f.caFile,
            dnsPrefix: `gh-${rt.name}`,
            sshPublicKey: SSH_KEY,
            storageKind: 'filesystem',
            storagePath: root,
            storageLocation: 'off-hub',
            encryptionRecipients: f.age.recipient,
          },
          env: { PATH: pathWithDouble(), ...f.double.env },
        });
        assert.equal(r.exitCode, 0, r.stdout + r.stderr);
        assert.equal(fs.statSync(r.outputs.get('kubeconfigPath')!).mode & 0o777, 0o600);
        assert.equal(r.outputs.get('clusterVersion'), '1.33.10');
        assert.ok(r.masks.includes(SECRET));
        const files = walk(root);
        assert.deepEqual(files.map((x) => path.basename(x)).sort(), ['manifest.json', 'state.tar.gz.age']);
        for (const x of files) assert.ok(!fs.readFileSync(x).includes('PRIVATE KEY'));
        const deploy = f.double.calls().find((c) => c.cmd === 'deploy')!;
        assert.ok(!deploy.argv.join(' ').includes(SECRET) && !deploy.argv.includes('--client-secret'));
        assert.match(r.summary, /Cluster state version `[^`]+` stored \(age-encrypted\)/);
      });

      it('CLI: bad input is one line naming the input, exit 1, no stack, nothing run', async () => {
        const r = await runCliAks(f, { command: 'validate', armEndpoint: f.adfs.armEndpoint, location: 'local', dnsPrefix: 'ratings-seattle', sshPublicKey: SSH_KEY, masterCount: '4', aksEnginePath: f.double.binary }, { node: rt.path });
        assert.equal(r.code, 1);
        assert.equal(r.error, "input 'masterCount': expected 3 or 5 (an odd etcd quorum; 1 only with allowNonHA), got 4");
        noStack(r.stderr);
        assert.deepEqual(f.double.calls(), []);
      });
    });
  }
});
