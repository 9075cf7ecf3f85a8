import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

import ts from 'typescript';

/**
 * The import graph of the production code (what `lambda/`, `bin/`, `lib/`, `scripts/`, `bench/`
 * and `tools/` import, type-only imports included): it has no circle, and nothing in it imports
 * test code. Relative imports only; packages cannot import back.
 */
const ROOT = join(__dirname, '..', '..', '..');
const PRODUCTION_ROOTS = ['lambda', 'bin', 'lib', 'scripts', 'bench', 'tools'];
const SOURCE = /\.(ts|mts|js|mjs)$/;

function sourceFiles(folder: string): string[] {
  const absolute = join(ROOT, folder);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute).flatMap((name) => {
    const path = join(folder, name);
    if (name === 'node_modules' || name === 'results') return [];
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return SOURCE.test(name) && !name.endsWith('.d.ts') ? [normalize(path)] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = normalize(join(dirname(from), specifier));
  const candidates = [base, `${base}.ts`, `${base}.mts`, `${base}.js`, `${base}.mjs`, join(base, 'index.ts')];
  return candidates.find(
    (candidate) => existsSync(join(ROOT, candidate)) && statSync(join(ROOT, candidate)).isFile(),
  );
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of PRODUCTION_ROOTS.flatMap(sourceFiles)) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map(({ fileName }) => fileName)
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => resolveImport(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every circle, each once, as `a -> b -> a`. */
function circles(graph: Map<string, string[]>): string[] {
  const found = new Set<string>();
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): void => {
    path.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!graph.has(next)) continue;
      const at = path.indexOf(next);
      if (at >= 0) found.add([...path.slice(at), next].join(' -> '));
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) if (!done.has(node)) visit(node);
  return [...found].sort();
}

describe('Structure: the import graph of the production code', () => {
  const graph = importGraph();

  it('reads the production folders', () => {
    // Assess: a typo in PRODUCTION_ROOTS must not make the checks below pass on nothing.
    expect([...graph.keys()].some((file) => file.startsWith(`lambda${sep}registry${sep}`))).toBe(true);
  });

  it('has no import circle', () => {
    // Act
    const found = circles(graph);

    // Assess
    expect(found).toEqual([]);
  });

  it('imports point one way between the layers', () => {
    // Prepare: what each folder may not import (DESIGN.md, "Layers").
    const forbidden: Record<string, string[]> = {
      'lambda/domain': [
        'lambda/policy',
        'lambda/registry',
        'lambda/engine',
        'lambda/ledger',
        'lambda/handlers',
        'lambda/aws',
        'lambda/events',
        'bin',
        'lib',
      ],
      'lambda/policy': [
        'lambda/registry',
        'lambda/engine',
        'lambda/ledger',
        'lambda/handlers',
        'lambda/aws',
        'bin',
        'lib',
      ],
      'lambda/ledger': [
        'lambda/policy',
        'lambda/registry',
        'lambda/engine',
        'lambda/handlers',
        'lambda/aws',
        'lambda/events',
        'bin',
        'lib',
      ],
      'lambda/registry': ['lambda/engine', 'lambda/handlers', 'lambda/aws', 'bin', 'lib'],
      'lambda/engine': ['lambda/handlers', 'bin', 'lib'],
    };
    const folder = (file: string): string => file.split(sep).join('/');

    // Act
    const against = [...graph].flatMap(([file, targets]) => {
      const from = Object.keys(forbidden).find((layer) => folder(file).startsWith(`${layer}/`));
      if (from === undefined) return [];
      return targets
        .filter((target) => forbidden[from]!.some((layer) => folder(target).startsWith(`${layer}/`)))
        .map((target) => `${folder(file)} -> ${folder(target)}`);
    });

    // Assess
    expect(against).toEqual([]);
  });

  it('never imports test code', () => {
    // Act
    const intoTests = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => relative('test', target).split(sep)[0] !== '..')
        .map((target) => `${file} -> ${target}`),
    );

    // Assess
    expect(intoTests).toEqual([]);
  });
});
