/**
 * Tool setup, run as the agents run it: the built ADO task, GitHub Action and CLI bundles on Node 20 and Node 24,
 * against a local mirror (HTTP, and HTTPS with a throwaway CA behind a CONNECT proxy), the tool cache, PATH and a
 * signed air-gap kit, with the real helm and kubectl binaries.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeKit } from '../../src/shared/kit';
import { generateKeyPair, loadPrivateKey } from '../../src/shared/signing';
import { listFiles, requireBuilt, runAdoTask, runCli, runGitHubAction, runtimes } from '../helpers/harness';
import { startConnectProxy, startHttpServer, type TestServer } from '../helpers/servers';
import { makeCa, makeServerCert } from '../helpers/tls';
import {
  aksEngineRelease,
  helmRelease,
  kubectlRelease,
  layer,
  mongoToolsRelease,
  pinsFor,
  type Layer,
  type ReleaseFile,
} from '../helpers/tool-fixtures';

const TASK = 'StackHubToolSetupV1';
const ACTION = 'setup-tools';

/** A mirror serving release files at /tools/<asset id>; records every request path. */
async function startMirror(files: ReleaseFile[], tlsOpts?: { key: string; cert: string }): Promise<TestServer & { requests: string[] }> {
  const requests: string[] = [];
  const byPath = new Map(files.map((f) => [`/tools/${f.assetId}`, f.path]));
  const server = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push(req.url ?? '');
    const file = byPath.get(req.url ?? '');
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  }, tlsOpts ? { tls: tlsOpts } : {});
  return Object.assign(server, { requests });
}

const template = (base: string): string => `${base}/tools/{tool}/{version}/{os}-{arch}/{file}`;
const noStack = (s: string): void => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, 'no stack trace expected');

describe('tool setup bundles (ADO task, GitHub Action, CLI)', function () {
  this.timeout(120_000);
  let work: string;
  let v31: Layer;
  let v34: Layer;
  let helm3: ReleaseFile;
  let kubectl131: ReleaseFile;
  let helm4: ReleaseFile;
  let kubectl134: ReleaseFile;
  let aks: ReleaseFile;
  let mongo: ReleaseFile;
  let mirror: Awaited<ReturnType<typeof startMirror>>;
  let kitFile: string;
  let kitKeys: ReturnType<typeof generateKeyPair>;

  before(async function () {
    this.timeout(300_000);
    requireBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tool-setup-bundles-'));
    const rel = path.join(work, 'releases');
    v31 = await layer('v31');
    v34 = await layer('v34');
    helm3 = await helmRelease(rel, v31);
    kubectl131 = kubectlRelease(rel, v31);
    helm4 = await helmRelease(rel, v34);
    kubectl134 = kubectlRelease(rel, v34);
    aks = await aksEngineRelease(rel, '0.85.0');
    mongo = await mongoToolsRelease(rel, '100.10.0');
    mirror = await startMirror([helm3, kubectl131, helm4, kubectl134, aks, mongo]);
    kitKeys = generateKeyPair();
    kitFile = path.join(work, 'kit', 'stackhub-ha-airgap.tar.gz');
    const staging = fs.mkdtempSync(path.join(work, 'kit-staging-'));
    fs.writeFileSync(path.join(staging, 'README.txt'), 'kit\n');
    fs.mkdirSync(path.dirname(kitFile));
    await writeKit({
      outFile: kitFile,
      stagingDir: staging,
      version: '0.1.0',
      signingKey: loadPrivateKey(kitKeys.privateKeyPem, 'test'),
      tools: [helm4, kubectl134, aks, mongo].map((f) => ({ ...f, sourcePath: f.path })),
    });
  });

  after(async () => {
    await mirror?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const fresh = (name: string): string => fs.mkdtempSync(path.join(work, `${name}-`));

  for (const rt of runtimes()) {
    describe(`on ${rt.name}`, () => {
      it('ADO: takes helm from PATH when it reports a matching version; summary attached; private temp removed', async () => {
        const r = await runAdoTask({
          task: TASK,
          node: rt.path,
          inputs: { tools: 'helm@3.17' },
          env: { PATH: `${path.dirname(v31.helm)}:/usr/bin:/bin` },
        });
        assert.equal(r.result, 'Succeeded', r.stdout);
        assert.deepEqual(r.variables.get('helmVersion'), { value: v31.helmVersion, isOutput: true, isSecret: false });
        assert.equal(r.variables.get('helmPath')?.value, v31.helm);
        assert.deepEqual(r.prependPath, [], 'a PATH hit is already on PATH');
        const summary = r.attachments.find((a) => a.type === 'Distributedtask.Core.Summary');
        assert.ok(summary?.content?.includes(`| helm | ${v31.helmVersion} | PATH | ${v31.helm} |`), summary?.content);
        assert.deepEqual(listFiles(r.agentTemp).filter((f) => /^stackhub-ha-[^/]+\/$/.test(f) && !f.startsWith('stackhub-ha-summaries')), []);
      });

      it('ADO: installs from a pinned mirror into the agent tool cache, then reuses the cache without a request', async () => {
        const tools = fresh('tools');
        const inputs = {
          tools: 'helm@3.17.x\nkubectl@1.31.9',
          searchPath: 'false',
          mirrorUrl: template(mirror.url),
          checksums: pinsFor([helm3, kubectl131, helm4]),
        };
        const before = mirror.requests.length;
        const r = await runAdoTask({ task: TASK, node: rt.path, inputs, toolsDir: tools });
        assert.equal(r.result, 'Succeeded', r.stdout);
        assert.deepEqual(mirror.requests.slice(before), [`/tools/${helm3.assetId}`, `/tools/${kubectl131.assetId}`]);
        for (const [tool, v, bin] of [['helm', '3.17.3', 'helm'], ['kubectl', '1.31.9', 'kubectl']]) {
          assert.ok(fs.existsSync(path.join(tools, tool, v, 'x64.complete')), `${tool} marker`);
          assert.equal(fs.statSync(path.join(tools, tool, v, 'x64', bin)).mode & 0o111, 0o111);
          assert.ok(r.prependPath.includes(path.join(tools, tool, v, 'x64')));
        }
        assert.equal(r.variables.get('kubectlVersion')?.value, '1.31.9');
        assert.equal(JSON.parse(r.variables.get('tools')!.value).map((t: { source: string }) => t.source).join(), 'mirror,mirror');

        const again = await runAdoTask({ task: TASK, node: rt.path, inputs, toolsDir: tools });
        assert.equal(again.result, 'Succeeded', again.stdout);
        assert.equal(mirror.requests.length, before + 2, 'second run must not contact the mirror');
        assert.match(again.attachments[0].content ?? '', /\| helm \| 3\.17\.3 \| tool cache \|/);
      });

      it('GitHub: installs every tool from a signed air-gap kit; outputs, PATH and step summary', async () => {
        const r = await runGitHubAction({
          action: ACTION,
          node: rt.path,
          inputs: {
            tools: 'helm@4, kubectl@1.34, aks-engine-azurestack@0.85.0, mongodump@100.10',
            offlineBundle: kitFile,
            bundlePublicKey: kitKeys.publicKeyPem,
            distro: 'debian12',
            searchPath: 'false',
          },
        });
        assert.equal(r.exitCode, 0, r.stdout + r.stderr);
        assert.equal(r.outputs.get('helmVersion'), '4.1.4');
        assert.equal(r.outputs.get('kubectlVersion'), '1.34.5');
        assert.equal(r.outputs.get('aksEngineVersion'), '0.85.0');
        assert.equal(r.outputs.get('mongoToolsVersion'), '100.10.0');
        assert.ok(fs.existsSync(r.outputs.get('mongorestorePath')!));
        assert.equal(r.path.length, 4);
        assert.match(r.summary, /## Stack Hub tool setup/);
        assert.match(r.summary, /\| aks-engine-azurestack \| 0\.85\.0 \| air-gap kit \|/);
        assert.deepEqual(r.warnings, [], 'a signed kit verified with its key gives no origin warning');
      });

      it('CLI: HTTPS mirror with a private CA through a CONNECT proxy; exports SSL_CERT_FILE = system bundle + CA', async () => {
        const dir = fresh('tls');
        const ca = makeCa(dir);
        const cert = makeServerCert(ca, dir, ['127.0.0.1', 'localhost']);
        const secure = await startMirror([helm3], { key: cert.keyPem, cert: cert.certPem });
        const proxy = await startConnectProxy();
        try {
          const pins = path.join(dir, 'SHA256SUMS');
          fs.writeFileSync(pins, pinsFor([helm3]));
          const envFile = path.join(dir, 'env.sh');
          const outFile = path.join(dir, 'outputs.json');
          const res = await runCli(
            ['tools', 'install', '--tools', 'helm@3.17.3', '--search-path', 'false', '--mirror-url', template(secure.url),
              '--checksums-file', pins, '--ca-certificate', ca.certFile, '--tool-cache', path.join(dir, 'cache'),
              '--exports-file', envFile, '--outputs-file', outFile],
            { node: rt.path, env: { HTTPS_PROXY: proxy.url, NO_PROXY: '' } },
          );
          assert.equal(res.exitCode, 0, res.stderr);
          assert.deepEqual(proxy.connects, [`127.0.0.1:${secure.port}`]);
          assert.match(res.stdout, /\| helm \| 3\.17\.3 \| mirror \|/);
          const outputs = JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, string>;
          assert.equal(outputs.helmVersion, '3.17.3');
          const env = fs.readFileSync(envFile, 'utf8');
          const sslCertFile = /export SSL_CERT_FILE='([^']+)'/.exec(env)?.[1];
          assert.ok(sslCertFile, env);
          const bundle = fs.readFileSync(sslCertFile, 'utf8');
          assert.ok(bundle.includes(ca.certPem.trim()), 'bundle holds the CA');
          assert.ok((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length > 10, 'bundle keeps the system roots');
          const extra = /export NODE_EXTRA_CA_CERTS='([^']+)'/.exec(env)?.[1];
          assert.equal(fs.readFileSync(extra!, 'utf8').trim(), ca.certPem.trim());
          assert.match(env, /export PATH='[^']+helm\/3\.17\.3\/x64':"\$PATH"/);
        } finally {
          await proxy.close();
          await secure.close();
        }
      });
    });
  }

  describe('faults and bad input leave nothing half-installed', () => {
    const node = (): string => runtimes()[0].path;

    it('a checksum mismatch fails naming the pins input; nothing enters the cache', async () => {
      const tools = fresh('tools');
      const r = await runAdoTask({
        task: TASK,
        node: node(),
        toolsDir: tools,
        inputs: { tools: 'helm@3.17.3', searchPath: 'false', mirrorUrl: template(mirror.url), checksums: pinsFor([helm3], { [helm3.assetId]: 'a'.repeat(64) }) },
      });
      assert.equal(r.result, 'Failed');
      assert.equal(r.resultMessage, `input 'checksums': checksum mismatch for ${helm3.assetId}: pinned ${'a'.repeat(64)}, downloaded file has ${helm3.sha256}`);
      assert.deepEqual(listFiles(tools), []);
      noStack(r.stdout);
    });

    it('a missing mirror file (404) fails listing every place tried', async () => {
      const cache = fresh('cache');
      const r = await runCli(['tools', 'install', '--tools', 'kubectl@1.30.0', '--search-path', 'false', '--mirror-url', template(mirror.url),
        '--checksums', `${'b'.repeat(64)}  kubectl/1.30.0/linux-amd64/kubectl`, '--tool-cache', cache], { node: node() });
      assert.equal(r.exitCode, 1);
      assert.equal(
        r.stderr.split('\n').slice(-2).join('\n'),
        `error: kubectl (kubectl@1.30.0) not found for linux-amd64. Tried: path input: not set; PATH: not searched (searchPath is false); ` +
          `tool cache ${cache}: no complete kubectl matching 1.30.0; mirror: ${mirror.url}/tools/kubectl/1.30.0/linux-amd64/kubectl answered 404; ` +
          `air-gap kit: not configured (offlineBundle)\n`,
      );
    });

    it('an archive without the expected binary fails naming mirrorUrl; nothing cached', async () => {
      const rel = fresh('rel');
      const broken = await mongoToolsRelease(rel, '100.9.0', 'debian12', 'mongorestore');
      const m = await startMirror([broken]);
      try {
        const tools = fresh('tools');
        const r = await runAdoTask({ task: TASK, node: node(), toolsDir: tools, inputs: { tools: 'mongodb-database-tools@100.9.0', distro: 'debian12', searchPath: 'false', mirrorUrl: template(m.url), checksums: pinsFor([broken]) } });
        assert.equal(r.result, 'Failed');
        assert.equal(r.resultMessage, `input 'mirrorUrl': ${broken.file} holds no mongorestore binary`);
        assert.deepEqual(listFiles(tools), []);
      } finally {
        await m.close();
      }
    });

    it('a release whose binary reports another version is refused; nothing cached', async () => {
      const rel = fresh('rel');
      const liar = await aksEngineRelease(rel, '0.84.0', '0.83.1');
      const m = await startMirror([liar]);
      try {
        const tools = fresh('tools');
        const r = await runGitHubAction({ action: ACTION, node: node(), toolCache: tools, inputs: { tools: 'aks-engine-azurestack@0.84.0', searchPath: 'false', mirrorUrl: template(m.url), checksums: pinsFor([liar]) } });
        assert.equal(r.exitCode, 1);
        assert.deepEqual(r.errors, [`input 'mirrorUrl': ${liar.file}: aks-engine-azurestack reports version 0.83.1, expected 0.84.0`]);
        assert.deepEqual(listFiles(tools), []);
      } finally {
        await m.close();
      }
    });

    it('an unsigned or tampered kit is refused when a public key is configured', async () => {
      const keys = generateKeyPair();
      const other = generateKeyPair();
      const kitFile = path.join(fresh('kit'), 'kit.tar.gz');
      await writeKit({ outFile: kitFile, stagingDir: fresh('staging'), version: '0.1.0', signingKey: loadPrivateKey(other.privateKeyPem, 'k'), tools: [{ ...helm3, sourcePath: helm3.path }] });
      const tools = fresh('tools');
      const r = await runCli(['tools', 'install', '--tools', 'helm@3.17.3', '--search-path', 'false', '--offline-bundle', kitFile, '--bundle-public-key', keys.publicKeyPem, '--tool-cache', tools], { node: node() });
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /^error: input 'offlineBundle': air-gap kit .*SHA256SUMS signature/m);
      assert.deepEqual(listFiles(tools), []);
    });

    it('a certificate the agent does not trust fails in one line that names caCertificate', async () => {
      const dir = fresh('tls');
      const ca = makeCa(dir);
      const cert = makeServerCert(ca, dir, ['127.0.0.1']);
      const secure = await startMirror([helm3], { key: cert.keyPem, cert: cert.certPem });
      try {
        const r = await runCli(['tools', 'install', '--tools', 'helm@3.17.3', '--search-path', 'false', '--mirror-url', template(secure.url), '--checksums', pinsFor([helm3]), '--tool-cache', path.join(dir, 'c')], { node: node() });
        assert.equal(r.exitCode, 1);
        assert.match(r.stderr, /caCertificate/);
        noStack(r.stderr);
      } finally {
        await secure.close();
      }
    });

    it('an explicit path wins; a mismatching one fails naming toolPaths', async () => {
      const ok = await runCli(['tools', 'install', '--tools', 'helm@4', '--tool-paths', `helm=${v34.helm}`], { node: node() });
      assert.equal(ok.exitCode, 0, ok.stderr);
      assert.match(ok.stdout, /\| helm \| 4\.1\.4 \| path input \|/);
      const bad = await runCli(['tools', 'install', '--tools', 'helm@3', '--tool-paths', `helm=${path.dirname(v34.helm)}`], { node: node() });
      assert.equal(bad.exitCode, 1);
      assert.equal(bad.stderr.trim().split('\n').pop(), `error: input 'toolPaths': helm at ${path.dirname(v34.helm)} reports version 4.1.4, which does not satisfy helm@3`);
    });

    it("ADO: honours the agent's own proxy (Agent.ProxyUrl, credentials masked) and CA (Agent.CAInfo) settings", async () => {
      const proxy = await startConnectProxy({ auth: { user: 'agent', pass: 'AgentProxyPw1' } });
      const dir = fresh('agent-tls');
      const ca = makeCa(dir);
      const cert = makeServerCert(ca, dir, ['127.0.0.1']);
      const secure = await startMirror([kubectl131], { key: cert.keyPem, cert: cert.certPem });
      try {
        const r = await runAdoTask({
          task: TASK,
          node: node(),
          toolsDir: path.join(dir, 'tools'),
          // the agent passes its proxy and CA settings to tasks as these variables (the password as a secret
          // variable); no HTTPS_PROXY, no caCertificate input
          env: { AGENT_PROXYURL: proxy.url, AGENT_PROXYUSERNAME: 'agent', SECRET_AGENT_PROXYPASSWORD: 'AgentProxyPw1', AGENT_PROXYBYPASSLIST: '["nothing-bypassed"]', AGENT_CAINFO: ca.certFile },
          inputs: { tools: 'kubectl@1.31.9', searchPath: 'false', mirrorUrl: template(secure.url), checksums: pinsFor([kubectl131]) },
        });
        assert.equal(r.result, 'Succeeded', r.stdout);
        assert.deepEqual(proxy.connects, [`127.0.0.1:${secure.port}`]);
        assert.ok(r.secrets.includes('AgentProxyPw1'), 'proxy password registered as a secret');
        // task-lib's own debug lines print variable values (the agent masks its secret variables there)
        const ours = r.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]') && !l.startsWith('##vso[task.debug]'));
        assert.ok(!ours.join('\n').includes('AgentProxyPw1'));
        assert.ok(r.variables.get('SSL_CERT_FILE'), 'the agent CA is exported to later steps too');
      } finally {
        await proxy.close();
        await secure.close();
      }
    });

    it('a proxy password from HTTPS_PROXY never reaches the log, even in debug mode', async () => {
      const proxy = await startConnectProxy({ auth: { user: 'svc', pass: 'Pr0xyPassw0rd' } });
      const dir = fresh('tls');
      const ca = makeCa(dir);
      const cert = makeServerCert(ca, dir, ['127.0.0.1']);
      const secure = await startMirror([kubectl131], { key: cert.keyPem, cert: cert.certPem });
      try {
        const r = await runGitHubAction({
          action: ACTION,
          node: node(),
          debug: true,
          env: { HTTPS_PROXY: proxy.url.replace('http://', 'http://svc:Pr0xyPassw0rd@') },
          inputs: { tools: 'kubectl@1.31.9', searchPath: 'false', mirrorUrl: template(secure.url), checksums: pinsFor([kubectl131]), caCertificate: ca.certFile },
        });
        assert.equal(r.exitCode, 0, r.stdout);
        assert.ok(r.masks.includes('Pr0xyPassw0rd'));
        const shown = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n') + r.stderr + r.summary;
        assert.ok(!shown.includes('Pr0xyPassw0rd'));
        assert.equal(proxy.proxyAuthorizations[0], `Basic ${Buffer.from('svc:Pr0xyPassw0rd').toString('base64')}`);
      } finally {
        await proxy.close();
        await secure.close();
      }
    });

    const bad: [string, string[], string][] = [
      ['unknown tool', ['--tools', 'terraform@1.9'], "input 'tools': unknown tool 'terraform': expected one of helm, kubectl, aks-engine-azurestack (aks-engine), mongodb-database-tools (mongodump, mongorestore, mongo-tools)"],
      ['malformed range', ['--tools', 'helm@3..x'], "input 'tools': 'helm@3..x': expected a version or semver range after @, e.g. helm@1.2.3 or helm@1.2.x"],
      ['mirror without a pin', ['--tools', 'helm', '--mirror-url', 'https://mirror.corp.local/tools/{tool}/{version}/{os}-{arch}/{file}'], "input 'mirrorUrl': a SHA-256 pin is required for every file: set checksums or checksumsFile"],
      ['pin not 64 hex', ['--tools', 'helm', '--mirror-url', 'https://m/{file}', '--checksums', 'abc123  helm/3.17.3/linux-amd64/helm-v3.17.3-linux-amd64.tar.gz'], `input 'checksums': line 1: expected "<64 hex characters>  <file name>"`],
      ['unknown placeholder', ['--tools', 'helm', '--mirror-url', 'https://m/{tool}/{ver}/{file}', '--checksums', `${'c'.repeat(64)}  x`], "input 'mirrorUrl': unknown placeholder {ver}: expected {tool} {version} {os} {arch} {distro} {file}"],
      ['mirror not http(s)', ['--tools', 'helm', '--mirror-url', 'ftp://m/{file}', '--checksums', `${'c'.repeat(64)}  x`], "input 'mirrorUrl': expected an http(s) URL template, got 'ftp://m/{file}'"],
      ['unreadable CA', ['--tools', 'helm', '--ca-certificate', '/nonexistent/ca.pem'], "input 'caCertificate': expected a readable file, cannot read /nonexistent/ca.pem"],
      ['CA not PEM', ['--tools', 'helm', '--ca-certificate', __filename], `input 'caCertificate': expected a PEM file with at least one CERTIFICATE, got none in ${__filename}`],
      ['toolPaths malformed', ['--tools', 'helm', '--tool-paths', 'helm:/usr/bin/helm'], "input 'toolPaths': 'helm:/usr/bin/helm': expected tool=path with a tool among helm, kubectl, aks-engine-azurestack (aks-engine), mongodb-database-tools (mongodump, mongorestore, mongo-tools)"],
      ['kit missing', ['--tools', 'helm', '--offline-bundle', '/nonexistent/kit.tar.gz'], "input 'offlineBundle': expected the air-gap kit (.tar.gz or directory), cannot find /nonexistent/kit.tar.gz"],
      ['timeout not a number', ['--tools', 'helm', '--download-timeout-seconds', 'soon'], "input 'downloadTimeoutSeconds': expected a whole number of at least 1, got 'soon'"],
      ['no tools', ['--tools', ' , '], "input 'tools': is required: name at least one of helm, kubectl, aks-engine-azurestack (aks-engine), mongodb-database-tools (mongodump, mongorestore, mongo-tools)"],
    ];
    for (const [what, args, message] of bad) {
      it(`bad input: ${what}`, async () => {
        const cache = fresh('cache');
        const r = await runCli(['tools', 'install', ...args, '--tool-cache', cache], { node: node() });
        assert.equal(r.exitCode, 1, r.stderr);
        assert.equal(r.stderr, `error: ${message}\n`);
        assert.equal(r.stdout, `## Stack Hub tool setup\n\n**Failed:** ${message}\n`);
        assert.deepEqual(listFiles(cache), []);
      });
    }

    it('an unknown CLI option is a usage error (exit 2) naming the option', async () => {
      const r = await runCli(['tools', 'install', '--tools', 'helm', '--mirror', 'x'], { node: node() });
      assert.equal(r.exitCode, 2);
      assert.equal(r.stderr, 'error: unknown option --mirror (see --help)\n');
    });
  });
});
