import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Dependencies point one way: entry points → the composed bot → features and the router → core services →
 * db, i18n, config, time. Read from the sources themselves (every import, type-only ones too).
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const LAYERS: [number, string, RegExp][] = [
  [0, 'base (db, i18n, config, time, logger, locales)', /^bot\/(db\/|locales\/|types\/|http\/|i18n\.ts|config\.ts|clock\.ts|time\.ts|logger\.ts)/],
  [1, 'core services', /^bot\/(core|care|knowledge|safety|outbox|channels|import)\//],
  [2, 'features', /^bot\/features\/[a-z-]+\//],
  [2, 'router', /^bot\/router\//],
  [3, 'the feature list', /^bot\/features\/index\.ts$/],
  [4, 'the composed bot', /^bot\/app\.ts$/],
  [5, 'entry points (server, webhooks, jobs, CLI, local emulators)', /^(functions\/|bot\/local\/)/],
];

function layerOf(file: string): { rank: number; name: string } {
  const found = LAYERS.find(([, , re]) => re.test(file));
  if (!found) throw new Error(`${file} belongs to no layer: add it to LAYERS or move it`);
  return { rank: found[0], name: found[1] };
}

const featureOf = (file: string) => /^bot\/features\/([a-z-]+)\//.exec(file)?.[1];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => `${dir}/${f}`);
}

/** Every relative import of a file (static, re-exports and dynamic), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((spec) => {
    const base = relative(ROOT, resolve(ROOT, dirname(file), spec));
    for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
      try {
        readFileSync(join(ROOT, candidate));
        return candidate;
      } catch { /* next */ }
    }
    throw new Error(`${file}: cannot resolve ${spec}`);
  });
}

const FILES = [...sources('bot'), ...sources('functions')];
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

/** Tarjan's strongly connected components of more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('the direction of dependencies', () => {
  it('finds every file of bot/ and functions/ in a layer, and reads their imports', () => {
    for (const f of FILES) layerOf(f);
    expect(FILES.length).toBeGreaterThan(80);
    expect(GRAPH.get('bot/app.ts')).toContain('bot/features/index.ts');
  });

  it('has no import cycle', () => {
    expect(cycles(GRAPH)).toEqual([]);
  });

  it('has no import that runs upward', () => {
    const upward = [...GRAPH].flatMap(([from, tos]) => tos
      .filter((to) => layerOf(to).rank > layerOf(from).rank)
      .map((to) => `${from} (${layerOf(from).name}) → ${to} (${layerOf(to).name})`));
    expect(upward).toEqual([]);
  });

  it('keeps features apart: no feature imports another feature, the router or the feature list', () => {
    const crossing = [...GRAPH].flatMap(([from, tos]) => {
      const mine = featureOf(from);
      if (!mine) return [];
      return tos.filter((to) => (featureOf(to) && featureOf(to) !== mine) || to.startsWith('bot/router/') || to === 'bot/features/index.ts').map((to) => `${from} → ${to}`);
    });
    expect(crossing).toEqual([]);
  });

  it('keeps the router off the features: it is handed the list', () => {
    const reaching = [...GRAPH].flatMap(([from, tos]) => (from.startsWith('bot/router/') ? tos.filter((to) => to.startsWith('bot/features/')).map((to) => `${from} → ${to}`) : []));
    expect(reaching).toEqual([]);
  });

  it('would catch a cycle and an upward import', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['d']], ['e', ['a']]]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(layerOf('bot/core/context.ts').rank).toBeLessThan(layerOf('bot/features/needs/flow.ts').rank);
    expect(() => layerOf('bot/somewhere.ts')).toThrow(/no layer/);
  });
});
