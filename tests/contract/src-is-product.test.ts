/**
 * src/ is the product: every value an src/ module exports (function, class, constant) is used by the product —
 * another src/ module, a task or action entry, or a build script — not only by tests/ or bench/. Reference
 * implementations, fake clients and simulators that only tests use belong under tests/helpers/ (or bench/).
 *
 * Uses are found with the TypeScript checker over the whole project (tsconfig.json plus bench/): every import
 * (named, default, namespace, `import()` and `import('…')` types) is resolved through re-export chains to the
 * declaration it names. A namespace or dynamic import uses every export of its module. Types and interfaces are not
 * checked (a parameter type is part of its function's API even when only a test names it).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Exports of src/ used only by tests or benches, on purpose: `<file relative to src/>#<export>` → the reason.
 * Keep each reason specific; an entry whose export is gone or is used by the product fails the test too.
 */
const ALLOWED: Record<string, string> = {
  'shared/signing.ts#generateKeyPair': 'public API of src/shared/signing.ts: Ed25519 keys in the PEM forms loadPrivateKey/loadPublicKey read; tests make kit-signing keys with it rather than a second implementation',
  'shared/crypto/keys.ts#recipientOf': 'public API of src/shared/crypto (age identity to recipient, as `age-keygen -y`), re-exported by its index; tests derive recipients with it',
  'aks-engine/args.ts#versionArgs': 'an argv builder of args.ts, the one place argv shapes live; the aks-engine double contract test checks it (the product probes versions through tools/resolve)',
  'helm-release/args.ts#showChartArgs': 'an argv builder of args.ts (src/helm-release is split on branch parse-ready: decide there); the helm double contract test checks it',
};

type Use = 'product' | 'test';

function kindOf(file: string): Use | undefined {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  if (rel.startsWith('node_modules/') || rel.startsWith('..')) return undefined;
  if (rel.startsWith('tests/') || rel.startsWith('bench/')) return 'test';
  return 'product';
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every value export of src/ (declared there, not re-exported) → where it is used. */
function exportUses(): Map<string, Set<Use>> {
  const cfg = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const program = ts.createProgram({ rootNames: [...cfg.fileNames, ...walk(path.join(ROOT, 'bench'))], options: { ...cfg.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const uses = new Map<ts.Symbol, Set<Use>>();
  const use = (s: ts.Symbol | undefined, kind: Use): void => {
    if (!s) return;
    const r = resolve(s);
    if (!uses.has(r)) uses.set(r, new Set());
    uses.get(r)!.add(kind);
  };
  const useModule = (spec: ts.Node, kind: Use): void => {
    const m = checker.getSymbolAtLocation(spec);
    if (m) for (const e of checker.getExportsOfModule(m)) use(e, kind);
  };
  for (const sf of program.getSourceFiles()) {
    const kind = kindOf(sf.fileName);
    if (!kind || sf.isDeclarationFile) continue;
    const visit = (n: ts.Node): void => {
      if (ts.isImportDeclaration(n) && n.importClause) {
        const c = n.importClause;
        if (c.name) use(checker.getSymbolAtLocation(c.name), kind);
        const b = c.namedBindings;
        if (b && ts.isNamespaceImport(b)) useModule(n.moduleSpecifier, kind);
        else if (b) for (const el of b.elements) use(checker.getSymbolAtLocation(el.name), kind);
      } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require')) && n.arguments[0] && ts.isStringLiteralLike(n.arguments[0])) {
        useModule(n.arguments[0], kind);
      } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
        useModule(n.argument.literal, kind);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  const out = new Map<string, Set<Use>>();
  for (const sf of program.getSourceFiles()) {
    const rel = path.relative(path.join(ROOT, 'src'), sf.fileName).split(path.sep).join('/');
    if (rel.startsWith('..') || sf.isDeclarationFile) continue;
    const m = checker.getSymbolAtLocation(sf);
    if (!m) continue;
    // an export its own module uses is product code (exported so that a test can reach the unit)
    const local = new Set<ts.Symbol>();
    const visit = (n: ts.Node): void => {
      if (ts.isIdentifier(n) && !(n.parent && (n.parent as ts.NamedDeclaration).name === n)) {
        const s = checker.getSymbolAtLocation(n);
        if (s) local.add(s);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
    for (const e of checker.getExportsOfModule(m)) {
      if (!e.declarations?.some((d) => d.getSourceFile() === sf)) continue; // `export *`: checked where it is declared
      if (e.flags & ts.SymbolFlags.Alias) continue; // a re-export: checked where it is declared
      if (!(e.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable | ts.SymbolFlags.Enum))) continue;
      const u = new Set(uses.get(e) ?? []);
      if (local.has(e)) u.add('product');
      out.set(`${rel}#${e.name}`, u);
    }
  }
  return out;
}

describe('contract: src/ is the product (no test-only code in src/)', function () {
  this.timeout(300_000);
  let uses: Map<string, Set<Use>>;
  before(() => {
    uses = exportUses();
  });

  it('finds the exports of src/ and their uses (the check itself works)', () => {
    assert.ok(uses.size > 200, `only ${uses.size} value exports found in src/`);
    assert.deepEqual([...(uses.get('shared/crypto/streams.ts#encryptStream') ?? [])].sort(), ['product', 'test']);
    assert.deepEqual([...(uses.get('aks-engine/index.ts#aksEngine') ?? [])].sort(), ['product', 'test']);
  });

  it('no value export of src/ is used only by tests/ or bench/ (move it under tests/helpers/ or bench/)', () => {
    const testOnly = [...uses].filter(([, u]) => u.has('test') && !u.has('product')).map(([k]) => k);
    const unexpected = testOnly.filter((k) => !(k in ALLOWED));
    assert.deepEqual(unexpected, [], `exports of src/ used only by tests or benches:\n  ${unexpected.join('\n  ')}`);
  });

  it('every allow-list entry still names an export used only by tests, with a reason', () => {
    for (const [k, why] of Object.entries(ALLOWED)) {
      assert.ok(why.trim().length > 20, `${k}: give a reason`);
      const u = uses.get(k);
      assert.ok(u, `${k}: no such value export in src/ (remove it from the allow-list)`);
      assert.ok(!u.has('product'), `${k}: the product uses it now (remove it from the allow-list)`);
    }
  });
});
