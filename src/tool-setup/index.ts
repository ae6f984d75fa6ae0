/**
 * Offline tool setup: helm, kubectl, aks-engine-azurestack and the MongoDB Database Tools from an explicit path,
 * PATH, the tool cache, an internal mirror (pinned) or the air-gap kit — never from the internet.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Capability } from '../platform/capability';
import { writeCaBundles } from '../shared/ca';
import { netOf } from '../shared/net';
import { openKit, type Kit } from '../shared/kit';
import { loadPublicKey } from '../shared/signing';
import { TOOLS } from '../shared/tools/catalog';
import { resolveTool, type ResolvedTool, type ToolSources } from '../shared/tools/resolve';
import { parseToolSetupInputs, toolSetupInputs, toolSetupOutputs, type ToolSetupInputs, type ToolSetupInputName } from './inputs';

/** Outputs of tool setup: `<prefix>Path`, `<prefix>Version` per tool, `tools` (JSON), `caBundle`. */
export type ToolSetupOutputs = Record<string, string | ResolvedTool[] | undefined>;

export const toolSetup: Capability<ToolSetupInputs, ToolSetupOutputs, ToolSetupInputName> = {
  name: 'setup-tools',
  title: 'Stack Hub tool setup',
  inputs: toolSetupInputs,
  outputs: toolSetupOutputs,
  parse: (read, platform) => parseToolSetupInputs(read, platform),
  async run(inputs, ctx) {
    const { platform, log, summary } = ctx;

    // CAs: the input's, plus the agent's own (ADO Agent.CAInfo)
    const net = netOf(ctx).withCa(inputs.caCertificates);
    const extraCas = net.ca;

    let kit: Promise<Kit> | undefined;
    const sources: ToolSources = {
      target: inputs.target,
      explicit: inputs.explicit,
      searchPath: inputs.searchPath,
      pathEnv: process.env.PATH,
      cacheRoot: platform.paths.toolCache,
      mirror: inputs.mirror && {
        template: inputs.mirror.template,
        pins: inputs.mirror.pins,
        pinInput: inputs.mirror.pinInput,
        http: {
          ...net.http(),
          timeoutMs: inputs.mirror.timeoutMs,
        },
      },
      kit: inputs.offlineBundle
        ? () =>
            (kit ??= (async () => {
              const k = await openKit(inputs.offlineBundle!, {
                publicKey: inputs.bundlePublicKey ? loadPublicKey(inputs.bundlePublicKey, 'bundlePublicKey') : undefined,
                workDir: fs.mkdtempSync(path.join(ctx.tempDir, 'kit-')),
              });
              if (!k.verifiedOrigin) {
                log.warning(`air-gap kit ${inputs.offlineBundle}: checksums verified, origin not verified (set bundlePublicKey)`);
              }
              return k;
            })())
        : undefined,
    };

    const resolved: ResolvedTool[] = [];
    for (const [i, req] of inputs.requests.entries()) {
      log.progress((i * 100) / inputs.requests.length, `resolving ${req.spec}`);
      const r = await log.group(`${req.tool.id} ${req.range}`, () => resolveTool(req, sources, ctx));
      log.info(`${r.tool} ${r.version} from ${r.source}: ${r.dir}`);
      resolved.push(r);
    }
    log.progress(100, 'tools resolved');

    const outputs: ToolSetupOutputs = { tools: resolved };
    for (const r of resolved) {
      const spec = TOOLS.find((t) => t.id === r.tool)!;
      outputs[`${spec.outputPrefix}Version`] = r.version;
      for (const b of spec.binaries) outputs[`${spec.binaries.length > 1 ? b : spec.outputPrefix}Path`] = r.binaries[b];
      if (inputs.addToPath && r.source !== 'PATH') platform.addPath(r.dir);
    }

    if (extraCas.length > 0) {
      const { sslCertFile, extraCaFile } = writeCaBundles(path.join(platform.paths.agentTemp, 'stackhub-ha-ca'), extraCas);
      platform.setVariable('SSL_CERT_FILE', sslCertFile);
      platform.setVariable('NODE_EXTRA_CA_CERTS', extraCaFile);
      outputs.caBundle = sslCertFile;
    }

    summary.table(
      ['tool', 'version', 'source', 'path'],
      resolved.map((r) => [r.tool, r.version, r.source, Object.values(r.binaries).join(', ')]),
    );
    if (outputs.caBundle) summary.text(`CA bundle for later steps: \`${outputs.caBundle}\` (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS)`);
    return outputs;
  },
};
