/**
 * The one-file CLI (`dist/cli/stackhub-ha.js`, any Node >= 20; operators copy one file to a jump box). Layout:
 *
 *   #!/usr/bin/env node
 *   var __stackhub_payload = {id, start, mods: {name: [offset, length]}};   (offsets into the comment below)
 *   <src/cli/entry.ts bundled: dispatcher, help table, loader>              (all that start-up parses)
 *   /*STACKHUB-PAYLOAD
 *   <one module after the other, each brotli-compressed and base64-encoded>
 *   *\/
 *
 * Modules: `group:<group>` per command group (the capability with the CLI platform and everything it imports, one
 * self-contained bundle each, so a run compiles its own group only), `vendor:<package>` for the SDKs
 * ({@link SIDECARS}, compiled on first use from any group), and `help-options` (the options of every command, JSON).
 * Node reads the whole file at start, so the payload is compressed: that read is what `--help` pays for it.
 * Everything is ASCII (non-ASCII is escaped): one non-ASCII byte would make V8 hold the file as UTF-16.
 */
import { createHash } from 'node:crypto';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CAPABILITIES, type CapabilityEntry } from '../src/capabilities';
import { helpTable } from '../src/platform/cli-help';
import { SIDECARS, options } from './bundle';
import { ROOT, pkg } from './manifests';

const PAYLOAD_MARK = '\n/*STACKHUB-PAYLOAD\n';

/** esbuild options of every module of the CLI: ASCII, and no `import()` left (vm.Script has no loader for it). */
function cliOptions(outfile: string): esbuild.BuildOptions {
  return { ...options('', outfile, []), entryPoints: undefined, charset: 'ascii', write: false, supported: { 'dynamic-import': false } };
}

/**
 * Resolves sidecar packages to a stub that returns the embedded module (`globalThis.__stackhub_vendor(name)`,
 * defined by src/cli/entry.ts). Records the packages it saw in `seen`.
 */
function embedPlugin(seen: Set<string>, self?: string): esbuild.Plugin {
  const filter = new RegExp(`^(${SIDECARS.map((p) => p.replace(/[/.-]/g, '\\$&')).join('|')})$`);
  return {
    name: 'stackhub-embed',
    setup(build) {
      build.onResolve({ filter }, (args) => {
        if (args.path === self) return undefined;
        seen.add(args.path);
        return { path: args.path, namespace: 'stackhub-embedded' };
      });
      build.onLoad({ filter: /.*/, namespace: 'stackhub-embedded' }, (args) => ({
        contents: `module.exports = globalThis.__stackhub_vendor(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/** The source module (`./src/<dir>`) that exports the entry's capability, and the name it exports it under. */
function capabilityModule(entry: CapabilityEntry): { from: string; name: string } {
  for (const dir of fs.readdirSync(path.join(ROOT, 'src')).sort()) {
    const index = path.join(ROOT, 'src', dir, 'index.ts');
    if (!fs.existsSync(index)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(index) as Record<string, unknown>;
    const name = Object.keys(mod).find((k) => mod[k] === entry.capability);
    if (name) return { from: `./src/${dir}`, name };
  }
  throw new Error(`no src/<dir>/index.ts exports the capability of CLI group ${entry.cli.group}`);
}

async function build(opts: esbuild.BuildOptions): Promise<string> {
  const r = await esbuild.build(opts);
  return r.outputFiles![0].text;
}

/** The modules of the payload, in the order they are stored. */
async function payloadModules(outfile: string): Promise<Map<string, string>> {
  const mods = new Map<string, string>();
  const seen = new Set<string>();
  for (const e of CAPABILITIES) {
    const { from, name } = capabilityModule(e);
    const contents = [
      `import { runFromCommandLine } from './src/platform/cli';`,
      `import { ${name} as capability } from '${from}';`,
      `export function run(usage, argv, fixed) { return runFromCommandLine(usage, capability, argv, fixed); }`,
    ].join('\n');
    const file = path.join(path.dirname(outfile), 'groups', `${e.cli.group}.js`);
    mods.set(`group:${e.cli.group}`, await build({ ...cliOptions(file), stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: `${e.cli.group} (CLI group)` }, plugins: [embedPlugin(seen)] }));
  }
  const todo = [...seen];
  while (todo.length) {
    const name = todo.shift()!;
    if (mods.has(`vendor:${name}`)) continue;
    const found = new Set<string>();
    const file = path.join(path.dirname(outfile), 'vendor', `${name.replace(/^@/, '').replace(/\//g, '-')}.js`);
    mods.set(
      `vendor:${name}`,
      await build({ ...cliOptions(file), stdin: { contents: `export * from '${name}';`, resolveDir: ROOT, loader: 'js', sourcefile: `${name} (embedded)` }, plugins: [embedPlugin(found, name)] }),
    );
    todo.push(...found);
  }
  return mods;
}

/** Brotli (quality 9: within 12% of 11 at a tenth of the build time) then base64: ASCII without `*` for the comment. */
function encode(name: string, s: string): Buffer {
  // the loader decodes modules as latin1 (a copy, where utf8 is a decode)
  if (Buffer.byteLength(s, 'utf8') !== s.length) throw new Error(`CLI module ${name} is not ASCII`); // a UTF-16 unit above 0x7f takes 2+ bytes
  const b = Buffer.from(s, 'latin1');
  const z = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_LGWIN]: 24, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length } });
  return Buffer.from(z.toString('base64'), 'ascii');
}

/** Bundles the CLI into one file (see the file comment). */
export async function bundleCli(outfile = path.join(ROOT, 'dist', 'cli', 'stackhub-ha.js')): Promise<string> {
  const { table, options: helpOptions } = helpTable(CAPABILITIES, pkg.version);
  const mods = await payloadModules(outfile);
  mods.set('help-options', JSON.stringify(helpOptions).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const startup = await build({ ...cliOptions(outfile), entryPoints: ['src/cli/entry.ts'], banner: undefined, define: { ...options('', outfile, []).define, STACKHUB_CLI_TABLE: JSON.stringify(table) } });

  const parts: Buffer[] = [];
  const at: Record<string, [number, number]> = {};
  let offset = 0;
  for (const [name, src] of mods) {
    const b = encode(name, src);
    at[name] = [offset, b.length];
    parts.push(b);
    offset += b.length;
  }
  const payload = Buffer.concat(parts);
  const id = createHash('sha256').update(startup).update(JSON.stringify(at)).update(payload).digest('hex').slice(0, 16);
  // the payload's offset is written padded to a fixed width, so writing it does not move the payload
  const head = (start: number): string =>
    `#!/usr/bin/env node\nvar __stackhub_payload={"id":"${id}","start":${String(start).padStart(12)},"mods":${JSON.stringify(at)}};\n${startup}${PAYLOAD_MARK}`;
  const start = Buffer.byteLength(head(0));
  const file = Buffer.concat([Buffer.from(head(start), 'ascii'), payload, Buffer.from('\n*/\n')]);
  if (file.some((c) => c > 0x7f)) throw new Error('the CLI bundle must be ASCII');
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  fs.writeFileSync(outfile, file);
  fs.chmodSync(outfile, 0o755);
  return outfile;
}
