import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The project files a module loads when it is imported: static imports and re-exports, not `import type`, not `await import()`. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specs = [...source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((spec) => {
    const base = resolve(dirname(file), spec);
    const found = [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')].find((p) => existsSync(p) && p.endsWith('.ts'));
    if (!found) throw new Error(`${relative(ROOT, file)}: cannot resolve ${spec}`);
    return found;
  });
}

/** Every project file loaded, at start, from an entry point; with the chain that reached it. */
function loadedFrom(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    for (const next of staticImports(file)) {
      if (seen.has(next)) continue;
      seen.set(next, [...seen.get(file)!, next]);
      queue.push(next);
    }
  }
  return seen;
}

describe('dev-only code', () => {
  it.each(['functions/main.ts', 'functions/cli/job.ts', 'functions/cli/import.ts'])('%s loads no emulator and no playground at start (only local mode imports them)', (entry) => {
    const loaded = loadedFrom(resolve(ROOT, entry));
    expect(loaded.size).toBeGreaterThan(10);
    const local = [...loaded].filter(([file]) => relative(ROOT, file).startsWith('bot/local/')).map(([, chain]) => chain.map((f) => relative(ROOT, f)).join(' → '));
    expect(local).toEqual([]);
  });
});
