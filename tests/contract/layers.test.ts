/**
 * Imports point down only (CONTRIBUTING.md, "Layers"). Every file under src/ and every task/action entry is parsed
 * with the TypeScript compiler (static imports and re-exports, `import type`, `import x = require()`, `require()`,
 * `import()` and `import('…').T` types) and each import of another src/ file is checked against the layer order:
 *
 *   types (src/types) < shared (src/shared) < platform (src/platform) < capabilities (src/<capability>)
 *     < the capability table (src/capabilities.ts) < entries (src/cli, src/web, tasks/*, actions/*)
 *
 * A file may import its own unit (its src/ directory; each src/shared/<module> is one unit) and anything in a lower
 * layer; shared modules import each other freely. Beyond that, only the edges declared below: src/platform reaches
 * src/shared only for the services the frame uses, and capabilities import each other only through the modules
 * listed in {@link CAPABILITY_EDGES} (some of them for types only).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/** The layers, bottom first. */
const LAYERS = ['types', 'shared', 'platform', 'capability', 'table', 'entry'] as const;
type Layer = (typeof LAYERS)[number];

/** The src/ directories that are capabilities (or, for report, the record views that two capabilities share). */
const CAPABILITY_DIRS = ['tool-setup', 'mongo', 'aks-engine', 'traffic', 'helm-release', 'report'];
/** The src/ directories that are entries (besides tasks/* and actions/*). */
const ENTRY_DIRS = ['cli', 'web'];

/** The shared modules the frame (src/platform) uses: the run's exec, masker, network, secret resolution, errors. */
const PLATFORM_USES_SHARED = ['src/shared/errors.ts', 'src/shared/exec.ts', 'src/shared/http.ts' /* secure-file download through the run's network */, 'src/shared/mask.ts', 'src/shared/net.ts', 'src/shared/secrets/index.ts', 'src/shared/secrets/reference.ts'];

/** An allowed import of another capability's module. */
interface Edge {
  /** The module imported (its path from the repo root). */
  to: string;
  /** Only `import type` / `export type` (no run-time dependency). */
  typeOnly?: boolean;
}

/**
 * The declared imports between capabilities, by importing capability. Anything else between two capabilities fails:
 * declare it here (and say why in CONTRIBUTING.md) or move what both need into src/shared.
 */
const CAPABILITY_EDGES: Record<string, Edge[]> = {
  // the release drains and restores traffic through the traffic swap's controller and provider inputs, gates on the
  // MongoDB primary, and writes its record and the HTML page with the report's model
  'helm-release': [
    { to: 'src/traffic/index.ts' },
    { to: 'src/traffic/api.ts', typeOnly: true },
    { to: 'src/traffic/mongo-gate.ts' },
    { to: 'src/mongo/primary.ts' },
    { to: 'src/report/model.ts' },
    { to: 'src/report/page.ts' },
  ],
  // node reboots drain each site through the traffic swap's controller
  'aks-engine': [{ to: 'src/traffic/index.ts' }, { to: 'src/traffic/clock.ts' }, { to: 'src/traffic/api.ts', typeOnly: true }],
  // the MongoDB primary gate of a failover reads the replica set with the Mongo capability's mongosh status
  traffic: [{ to: 'src/mongo/args.ts' }, { to: 'src/mongo/inputs.ts', typeOnly: true }, { to: 'src/mongo/primary.ts' }],
  // the backup list attachment uses the report's document model
  mongo: [{ to: 'src/report/model.ts' }],
  // the report renders the release record and the traffic state: their types only
  report: [
    { to: 'src/helm-release/record.ts', typeOnly: true },
    { to: 'src/helm-release/state.ts', typeOnly: true },
    { to: 'src/traffic/api.ts', typeOnly: true },
  ],
};

/** Which layer and unit a file is in (undefined: not a layered file, e.g. a JSON schema next to its module). */
function classify(rel: string): { layer: Layer; unit: string } | undefined {
  const p = rel.split('/');
  if (p[0] === 'tasks' || p[0] === 'actions') return { layer: 'entry', unit: `${p[0]}/${p[1]}` };
  if (p[0] !== 'src') return undefined;
  if (p.length === 2) {
    if (p[1] === 'capabilities.ts') return { layer: 'table', unit: 'capabilities' };
    throw new Error(`${rel}: a file directly under src/ that is not src/capabilities.ts: give it a layer in tests/contract/layers.test.ts`);
  }
  const dir = p[1];
  if (dir === 'types') return { layer: 'types', unit: 'types' };
  if (dir === 'shared') return { layer: 'shared', unit: p.length === 3 ? `shared/${p[2].replace(/\.[a-z]+$/, '')}` : `shared/${p[2]}` };
  if (dir === 'platform') return { layer: 'platform', unit: 'platform' };
  if (CAPABILITY_DIRS.includes(dir)) return { layer: 'capability', unit: dir };
  if (ENTRY_DIRS.includes(dir)) return { layer: 'entry', unit: dir };
  throw new Error(`src/${dir}/ has no layer: add it to CAPABILITY_DIRS or ENTRY_DIRS in tests/contract/layers.test.ts (and CONTRIBUTING.md)`);
}

/** One import of a file. */
export interface Import {
  from: string;
  /** Repo-relative path of the imported src file, or the bare specifier of a package. */
  to: string;
  typeOnly: boolean;
  line: number;
}

/** Why `imp` breaks the layering, or undefined when it is allowed. */
export function violation(imp: Import): string | undefined {
  const a = classify(imp.from);
  const b = classify(imp.to);
  if (!a || !b) return undefined;
  const where = `${imp.from}:${imp.line} imports ${imp.to}`;
  if (a.unit === b.unit) return undefined;
  const ra = LAYERS.indexOf(a.layer);
  const rb = LAYERS.indexOf(b.layer);
  if (rb > ra) return `${where}: ${a.layer} must not import ${b.layer} (upward)`;
  if (a.layer === 'types') return `${where}: src/types imports nothing else from src/`;
  if (a.layer === 'platform' && b.layer === 'shared' && !PLATFORM_USES_SHARED.includes(imp.to)) {
    return `${where}: the frame uses only ${PLATFORM_USES_SHARED.join(', ')} of src/shared`;
  }
  if (rb < ra || a.layer === 'shared') return undefined;
  if (a.layer === 'capability') {
    const edge = (CAPABILITY_EDGES[a.unit] ?? []).find((e) => e.to === imp.to);
    if (!edge) return `${where}: capabilities import each other only through the modules declared in CAPABILITY_EDGES (tests/contract/layers.test.ts)`;
    if (edge.typeOnly && !imp.typeOnly) return `${where}: declared for types only (use import type)`;
    return undefined;
  }
  return `${where}: two ${a.layer} units (${a.unit}, ${b.unit}) do not import each other`;
}

/** Resolves a relative specifier of `fromAbs` to a repo-relative file path (the file itself, .ts or /index.ts). */
function resolve(fromAbs: string, spec: string): string {
  const base = path.resolve(path.dirname(fromAbs), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return path.relative(ROOT, c).split(path.sep).join('/');
  }
  throw new Error(`${path.relative(ROOT, fromAbs)}: cannot resolve '${spec}'`);
}

/** Every import of one TypeScript file. */
export function importsOf(fileAbs: string, text = fs.readFileSync(fileAbs, 'utf8')): Import[] {
  const sf = ts.createSourceFile(fileAbs, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const from = path.relative(ROOT, fileAbs).split(path.sep).join('/');
  const out: Import[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, node: ts.Node): void => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const s = spec.text;
    out.push({ from, to: s.startsWith('.') ? resolve(fileAbs, s) : s, typeOnly, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const allTypes = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier, allTypes, n);
    } else if (ts.isExportDeclaration(n)) {
      const named = n.exportClause && ts.isNamedExports(n.exportClause) ? n.exportClause.elements : undefined;
      add(n.moduleSpecifier, n.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)), n);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      add(n.moduleReference.expression, n.isTypeOnly, n);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) {
      add(n.argument.literal, true, n);
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      add(n.arguments[0], false, n);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The layered files: src/**, tasks/<Task>/index.ts, actions/<name>/index.ts. */
function layeredFiles(): string[] {
  const entries = ['tasks', 'actions'].flatMap((d) =>
    fs.readdirSync(path.join(ROOT, d)).map((t) => path.join(ROOT, d, t, 'index.ts')).filter((f) => fs.existsSync(f)),
  );
  return [...walk(path.join(ROOT, 'src')), ...entries].sort();
}

describe('contract: layers point down only', () => {
  const files = layeredFiles();
  const imports = files.flatMap((f) => importsOf(f));

  it('parses the imports of every src file and entry', () => {
    assert.ok(files.length > 100, `only ${files.length} files found`);
    assert.ok(files.some((f) => f.endsWith(path.join('src', 'types', 'inputs.ts'))));
    // the parser sees every kind of import (a check of the checker: each of these exists in the tree)
    const kinds = (pred: (i: Import) => boolean): number => imports.filter(pred).length;
    assert.ok(kinds((i) => i.typeOnly && i.to.startsWith('src/types/')) > 10, 'type-only imports of src/types');
    assert.ok(kinds((i) => i.from === 'src/shared/storage/index.ts' && i.to === 'src/shared/storage/s3.ts') > 0, 'require() of a lazy backend');
    assert.ok(kinds((i) => i.to === 'age-encryption') > 0, "import('age-encryption')");
  });

  it('no import points up a layer or sideways outside the declared edges', () => {
    const bad = imports.map(violation).filter((v): v is string => v !== undefined);
    assert.deepEqual(bad, []);
  });

  it('src/shared never imports src/platform; src/types imports nothing but itself', () => {
    assert.deepEqual(imports.filter((i) => i.from.startsWith('src/shared/') && i.to.startsWith('src/platform/')).map((i) => `${i.from}:${i.line}`), []);
    assert.deepEqual(imports.filter((i) => i.from.startsWith('src/types/') && !i.to.startsWith('src/types/')).map((i) => `${i.from}:${i.line} ${i.to}`), []);
  });

  it('src/types holds types only (no run-time code)', () => {
    for (const f of files.filter((x) => x.includes(`${path.sep}src${path.sep}types${path.sep}`))) {
      const sf = ts.createSourceFile(f, fs.readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
      for (const s of sf.statements) {
        const ok =
          ts.isInterfaceDeclaration(s) ||
          ts.isTypeAliasDeclaration(s) ||
          (ts.isImportDeclaration(s) && !!s.importClause?.isTypeOnly) ||
          (ts.isExportDeclaration(s) && s.isTypeOnly);
        assert.ok(ok, `${path.relative(ROOT, f)}:${sf.getLineAndCharacterOfPosition(s.getStart(sf)).line + 1}: run-time code in src/types`);
      }
    }
  });

  it('only src/platform imports azure-pipelines-task-lib or @actions/*', () => {
    const ci = imports.filter((i) => /^(azure-pipelines-task-lib|@actions\/)/.test(i.to) && !i.from.startsWith('src/platform/'));
    assert.deepEqual(ci.map((i) => `${i.from}:${i.line} ${i.to}`), []);
  });

  it('every declared capability edge is still used (the list stays the truth)', () => {
    const unused = Object.entries(CAPABILITY_EDGES).flatMap(([cap, edges]) =>
      edges.filter((e) => !imports.some((i) => i.from.startsWith(`src/${cap}/`) && i.to === e.to)).map((e) => `${cap} -> ${e.to}`),
    );
    assert.deepEqual(unused, []);
  });

  it('the checker refuses what it should (upward, sideways, runtime through a type-only edge)', () => {
    const imp = (from: string, to: string, typeOnly = false): Import => ({ from, to, typeOnly, line: 1 });
    assert.match(violation(imp('src/shared/net.ts', 'src/platform/types.ts', true)) ?? '', /upward/);
    assert.match(violation(imp('src/types/inputs.ts', 'src/shared/errors.ts', true)) ?? '', /types must not import shared/);
    assert.match(violation(imp('src/platform/run.ts', 'src/mongo/index.ts')) ?? '', /upward/);
    assert.match(violation(imp('src/platform/run.ts', 'src/shared/storage/index.ts')) ?? '', /the frame uses only/);
    assert.match(violation(imp('src/mongo/index.ts', 'src/traffic/index.ts')) ?? '', /CAPABILITY_EDGES/);
    assert.match(violation(imp('src/report/model.ts', 'src/helm-release/record.ts')) ?? '', /types only/);
    assert.match(violation(imp('src/capabilities.ts', 'src/cli/main.ts')) ?? '', /upward/);
    assert.match(violation(imp('src/web/results-tab.ts', 'src/cli/main.ts')) ?? '', /two entry units/);
    assert.equal(violation(imp('src/report/model.ts', 'src/helm-release/record.ts', true)), undefined);
    assert.equal(violation(imp('src/shared/storage/index.ts', 'src/shared/net.ts')), undefined);
    assert.equal(violation(imp('tasks/StackHubMongoBackupV1/index.ts', 'src/platform/azure-pipelines.ts')), undefined);
    const parsed = importsOf(path.join(ROOT, 'src', 'shared', 'x.ts'), "import type { A } from '../types';\nimport { b, type C } from './errors';\nexport type { D } from '../types/inputs';\nconst s = require('./mask');\nlet t: import('./net').Net;\n");
    assert.deepEqual(
      parsed.map((i) => [i.to, i.typeOnly]),
      [
        ['src/types/index.ts', true],
        ['src/shared/errors.ts', false],
        ['src/types/inputs.ts', true],
        ['src/shared/mask.ts', false],
        ['src/shared/net.ts', true],
      ],
    );
  });
});
