import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layering rules of docs/ARCHITECTURE.md, checked on the import lines of every file in src/:
 * Koa only in the HTTP layer, no import cycles, and the admin API never imported by the features.
 * Imports are read with TypeScript's pre-processor (import, `import type`, export-from and
 * dynamic import specifiers; comments and strings are not mistaken for imports).
 */

const ROOT = resolve(import.meta.dirname, '../..');

/** Files that may import koa or @koa/router for good: the HTTP layer. */
const KOA_ALLOWED = ['src/http/**'];

const KOA_PACKAGES = /^(koa|@koa\/[^/]+)(\/|$)/;

/** The feature folders, which the admin API may use but never the other way round. */
const FEATURES = ['kyc', 'oidc', 'vci', 'credentials', 'keys', 'store', 'http'];

/** The admin API: HTTP, but only the composition root builds it (src/compose.ts). */
const ADMIN = 'src/http/admin/';

/**
 * Feature files that may still import the admin API. Empty since the composition root (src/compose.ts,
 * issue 11) builds the admin routers; the kyc, oidc and vci module factories needed it before.
 */
const ADMIN_IMPORT_ALLOWED: readonly string[] = [];

interface SourceFile {
  /** Path from the repository root, with forward slashes (`src/oidc/cors.ts`). */
  readonly path: string;
  /** Every import specifier, as written. */
  readonly specifiers: readonly string[];
  /** The relative imports, resolved to paths from the repository root. */
  readonly imports: readonly string[];
}

function readSources(): SourceFile[] {
  const src = join(ROOT, 'src');
  return readdirSync(src, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => {
      const file = join(src, name);
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const specifiers = importedFiles.map((i) => i.fileName);
      return {
        path: repoPath(file),
        specifiers,
        imports: specifiers.filter((s) => s.startsWith('.')).map((s) => repoPath(resolve(dirname(file), s))),
      };
    });
}

const repoPath = (file: string): string => relative(ROOT, file).split('\\').join('/');

/** `dir/**` matches everything below dir; anything else matches that one path. */
const matches = (path: string, patterns: readonly string[]): boolean =>
  patterns.some((p) => (p.endsWith('/**') ? path.startsWith(p.slice(0, -2)) : path === p));

/** `file: specifier` for every import of Koa from a file the patterns do not allow. */
function koaOutsideHttp(files: readonly SourceFile[], allowed: readonly string[]): string[] {
  return files.flatMap((f) =>
    matches(f.path, allowed)
      ? []
      : f.specifiers.filter((s) => KOA_PACKAGES.test(s)).map((s) => `${f.path}: ${s}`),
  );
}

/** Every cycle a depth-first walk meets, as `a → b → a`; [] when the graph has none. */
function importCycles(files: readonly SourceFile[]): string[] {
  const edges = new Map(files.map((f) => [f.path, f.imports]));
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const cycles: string[] = [];
  const visit = (node: string): void => {
    path.push(node);
    onPath.add(node);
    for (const next of edges.get(node) ?? []) {
      if (onPath.has(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
      else if (!done.has(next) && edges.has(next)) visit(next);
    }
    path.pop();
    onPath.delete(node);
    done.add(node);
  };
  for (const file of edges.keys()) if (!done.has(file)) visit(file);
  return cycles;
}

/** `file → admin file` for every import of the admin API from a feature folder the list does not allow. */
function adminImportsFromFeatures(files: readonly SourceFile[], allowed: readonly string[]): string[] {
  const features = FEATURES.map((f) => `src/${f}/**`);
  return files.flatMap((f) =>
    matches(f.path, features) && !f.path.startsWith(ADMIN) && !allowed.includes(f.path)
      ? f.imports.filter((i) => i.startsWith(ADMIN)).map((i) => `${f.path} → ${i}`)
      : [],
  );
}

describe('source structure (docs/ARCHITECTURE.md layers)', () => {
  const files = readSources();

  it('reads the source tree', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.find((f) => f.path === 'src/http/app.ts')?.specifiers).toContain('koa');
  });

  it('imports koa and @koa/router only in the HTTP layer', () => {
    expect(koaOutsideHttp(files, KOA_ALLOWED)).toEqual([]);
  });

  it('has no import cycle in src/', () => {
    expect(importCycles(files)).toEqual([]);
  });

  it('never imports the admin API (src/http/admin) from a feature folder', () => {
    expect(adminImportsFromFeatures(files, ADMIN_IMPORT_ALLOWED)).toEqual([]);
  });
});

describe('the structure checks themselves', () => {
  const file = (path: string, specifiers: string[]): SourceFile => ({
    path,
    specifiers,
    imports: specifiers
      .filter((s) => s.startsWith('.'))
      .map((s) => join(dirname(path), s).split('\\').join('/')),
  });

  it('report a Koa import outside the allowed paths, and only that one', () => {
    const files = [
      file('src/http/a.ts', ['koa']),
      file('src/oidc/b.ts', ['@koa/router', 'jose']),
      file('src/oidc/c.ts', ['koa-compose-not-koa']),
    ];
    expect(koaOutsideHttp(files, KOA_ALLOWED)).toEqual(['src/oidc/b.ts: @koa/router']);
  });

  it('report the path of a cycle', () => {
    const files = [
      file('src/a.ts', ['./b/c.ts']),
      file('src/b/c.ts', ['../d.ts']),
      file('src/d.ts', ['./a.ts']),
      file('src/e.ts', ['./a.ts']),
    ];
    expect(importCycles(files)).toEqual(['src/a.ts → src/b/c.ts → src/d.ts → src/a.ts']);
    expect(importCycles(files.slice(1))).toEqual([]);
  });

  it('report a feature importing the admin API unless it is allowed', () => {
    const files = [
      file('src/vci/x.ts', ['../http/admin/y.ts']),
      file('src/http/admin/y.ts', ['../../vci/x.ts', './z.ts']),
      file('src/http/admin/z.ts', []),
    ];
    expect(adminImportsFromFeatures(files, [])).toEqual(['src/vci/x.ts → src/http/admin/y.ts']);
    expect(adminImportsFromFeatures(files, ['src/vci/x.ts'])).toEqual([]);
  });
});
