import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { pgliteExecutor, type SqlExecutor } from '../../bot/db/executor';
import { listMigrations, migrate, SUPABASE_DIR } from '../../bot/db/migrate';
import { BASELINE, baselineSql, runSchema, schemaFiles } from '../../functions/cli/schema';
import { catalogDiff, readCatalog } from './catalog';

const files = schemaFiles();
const text = (path: string) => readFileSync(path, 'utf8');

/** The bootstrap, then each schema file in name order, each in its own transaction: what `supabase db diff` sees. */
async function fromSchemaFiles(): Promise<SqlExecutor> {
  const db = pgliteExecutor(await PGlite.create());
  for (const path of [join(SUPABASE_DIR, 'bootstrap.sql'), ...files]) await db.transaction((s) => s.exec(text(path)));
  return db;
}

async function fromMigrations(): Promise<SqlExecutor> {
  const db = pgliteExecutor(await PGlite.create());
  await migrate(db, { seed: false });
  return db;
}

/** `create function <schema>.<name>(` of every file, as [file, name]. */
function createdFunctions(): [string, string][] {
  return files.flatMap((path) =>
    [...text(path).matchAll(/^create\s+(?:or\s+replace\s+)?function\s+([a-z_]+\.[a-z0-9_]+)\s*\(/gim)].map((m) => [basename(path), m[1]!] as [string, string]),
  );
}

describe('supabase/schemas, the source of truth', () => {
  it('gives the same database as the migrations: tables, columns, constraints, indexes, policies, grants, comments, functions', async () => {
    const [migrated, declared] = await Promise.all([fromMigrations(), fromSchemaFiles()]);
    try {
      const diff = catalogDiff(await readCatalog(migrated), await readCatalog(declared), ['migrations', 'schemas']);
      expect(diff).toEqual([]);
    } finally {
      await migrated.close();
      await declared.close();
    }
  });

  it('defines each function exactly once', () => {
    const seen = new Map<string, string[]>();
    for (const [file, name] of createdFunctions()) seen.set(name, [...(seen.get(name) ?? []), file]);
    expect(seen.size).toBeGreaterThan(100);
    expect([...seen].filter(([, where]) => where.length > 1).map(([name, where]) => `${name}: ${where.join(', ')}`)).toEqual([]);
  });

  it('keeps each area\'s effects, export and erasure in that area\'s file', () => {
    const misplaced = createdFunctions()
      .map(([file, name]) => ({ file, name, area: /^public\.([a-z]+)_(?:effect_apply|export|erase)$/.exec(name)?.[1] }))
      .filter((f) => f.area && f.file.replace(/^\d+_/, '').replace(/\.sql$/, '') !== f.area)
      .map((f) => `${f.name} in ${f.file}`);
    expect(misplaced).toEqual([]);
  });

  it('routes every area of `area.verb` to its own function in one dispatcher, the only place an unknown effect is raised', () => {
    const areaFunctions = createdFunctions().map(([, name]) => /^public\.([a-z]+)_effect_apply$/.exec(name)?.[1]).filter((a): a is string => !!a);
    const dispatcher = files.map(text).join('\n').match(/create function public\.effect_apply\(.*?\n\$\$;/s)?.[0] ?? '';
    const routed = [...dispatcher.matchAll(/when '([a-z]+)' then public\.([a-z]+)_effect_apply\(/g)];
    expect(routed.every((m) => m[1] === m[2])).toBe(true);
    expect(routed.map((m) => m[1]).sort()).toEqual([...areaFunctions].sort());
    expect(dispatcher).toContain("case split_part(v_op, '.', 1)");
    const raised = files.flatMap((path) => text(path).split('\n').filter((line) => /raise exception 'unknown effect/.test(line)).map(() => basename(path)));
    expect(raised).toEqual(['19_conversation.sql']);
  });

  it('grants and revokes in one file only', () => {
    const granting = files.filter((path) => /^\s*(grant|revoke)\s/im.test(text(path))).map((path) => basename(path));
    expect(granting).toEqual(['99_grants.sql']);
  });
});

describe('the baseline migration', () => {
  const migrations = readdirSync(join(SUPABASE_DIR, 'migrations')).filter((n) => n.endsWith('.sql'));

  // `npm run schema -- check` holds only while the baseline is the only migration: later ones run ahead of it on purpose
  it.runIf(migrations.length === 1)('is the schema files concatenated in order (npm run schema -- check)', async () => {
    expect((await listMigrations()).map((m) => `${m.version}_${m.name}.sql`)).toEqual([BASELINE]);
    expect(text(join(SUPABASE_DIR, 'migrations', BASELINE))).toBe(baselineSql());
    const lines: string[] = [];
    expect(runSchema(['check'], { out: (l) => lines.push(l), err: (l) => lines.push(l) })).toBe(0);
  });

  it('check fails, naming the fix, when the baseline differs; baseline writes it again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'familybot-schema-'));
    try {
      mkdirSync(join(dir, 'schemas'));
      mkdirSync(join(dir, 'migrations'));
      writeFileSync(join(dir, 'schemas', '01_notes.sql'), 'create table public.notes (text text primary key);\n');
      writeFileSync(join(dir, 'schemas', '02_more.sql'), 'create table public.more_notes (text text primary key);\n');
      writeFileSync(join(dir, 'migrations', BASELINE), 'create table public.notes (text text primary key);\n');
      const errors: string[] = [];
      const io = { out: () => undefined, err: (l: string) => errors.push(l) };
      expect(runSchema(['check'], io, dir)).toBe(1);
      expect(errors.join('\n')).toContain('npm run schema -- baseline');
      expect(runSchema(['baseline'], io, dir)).toBe(0);
      expect(runSchema(['check'], io, dir)).toBe(0);
      const written = readFileSync(join(dir, 'migrations', BASELINE), 'utf8');
      expect(written.indexOf('public.notes')).toBeLessThan(written.indexOf('public.more_notes'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
