import { cp, mkdir, mkdtemp, rm as removeDir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject, describe, expect, it } from 'vitest';
import { pgliteExecutor, postgresExecutor, type SqlExecutor } from '../../bot/db/executor';
import { listMigrations, migrate, SquashedHistoryError, SUPABASE_DIR } from '../../bot/db/migrate';
import { freshPostgresDatabase } from '../support/databases';

async function expectSupabaseShape(db: SqlExecutor) {
  const tables = await db.query<{ name: string; rls: boolean; comment: string | null }>(
    `select c.relname as name, c.relrowsecurity as rls, obj_description(c.oid, 'pg_class') as comment
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r'`,
  );
  expect(tables.map((t) => t.name)).toEqual(
    expect.arrayContaining(['contacts', 'families', 'children', 'staff', 'family_assignments', 'outbox', 'inbound_log', 'audit_log']),
  );
  for (const t of tables) {
    expect(t.rls, `RLS on ${t.name}`).toBe(true);
    expect(t.comment, `comment on ${t.name}`).toBeTruthy();
  }
  const functions = await db.query<{ name: string; anon: boolean; authn: boolean; pub: boolean; service: boolean; definer: boolean; config: string[] | null }>(
    `select p.oid::regprocedure::text as name,
            has_function_privilege('anon', p.oid, 'execute') as anon,
            has_function_privilege('authenticated', p.oid, 'execute') as authn,
            exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0 and a.privilege_type = 'EXECUTE') as pub,
            has_function_privilege('service_role', p.oid, 'execute') as service,
            p.prosecdef as definer, p.proconfig as config
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`,
  );
  expect(functions.length).toBeGreaterThan(0);
  for (const f of functions) {
    expect({ f: f.name, anon: f.anon, authenticated: f.authn, public: f.pub, service: f.service }).toEqual({ f: f.name, anon: false, authenticated: false, public: false, service: true });
    expect(f.config ?? [], `search_path pinned on ${f.name}`).toContain('search_path=""');
  }
}

describe('migrations', () => {
  it('apply from scratch on PGlite, and a second run applies nothing', async () => {
    const db = pgliteExecutor(await PGlite.create());
    const first = await migrate(db);
    const files = await listMigrations();
    expect(first.applied).toEqual(files.map((f) => `${f.version}_${f.name}`));
    expect(first.seeded).toBe(true);
    expect(first.schemaVersion).toBe(files.at(-1)!.version);
    const second = await migrate(db);
    expect(second).toEqual({ applied: [], seeded: false, seedsChanged: [], schemaVersion: first.schemaVersion });
    await expectSupabaseShape(db);
    const [{ n }] = (await db.query<{ n: number }>('select count(*)::int as n from public.districts')) as [{ n: number }];
    expect(n).toBeGreaterThan(0);
    await db.close();
  });

  it.each(['18', '15'] as const)('apply unchanged on a real PostgreSQL %s, twice, and from two processes at once', async (version) => {
    if (version === '15' && !inject('pg15Url')) {
      console.warn('PostgreSQL 15 is not installed here: set PG15_BIN or install postgresql-15 to run this case');
      return;
    }
    const target = await freshPostgresDatabase(version);
    const a = postgresExecutor(target.url);
    const b = postgresExecutor(target.url);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const files = await listMigrations();
      // each migration is applied by exactly one of the two
      expect([...ra.applied, ...rb.applied].sort()).toEqual(files.map((f) => `${f.version}_${f.name}`));
      const again = await migrate(a);
      expect(again.applied).toEqual([]);
      expect(again.seeded).toBe(false);
      await expectSupabaseShape(a);
    } finally {
      await a.close();
      await b.close();
      await target.drop();
    }
  });

  it('keep Supabase\'s own auth helpers: the bootstrap only creates what is missing', async () => {
    const target = await freshPostgresDatabase();
    const db = postgresExecutor(target.url);
    try {
      // as on Supabase, auth.uid() already exists with its own definition
      await db.query(`create schema auth; create function auth.uid() returns uuid language sql as $$ select '00000000-0000-0000-0000-00000000abcd'::uuid $$`);
      await migrate(db);
      const [row] = await db.query<{ uid: string }>('select auth.uid()::text as uid');
      expect(row?.uid).toBe('00000000-0000-0000-0000-00000000abcd');
      const [jwt] = await db.query<{ ok: boolean }>(`select to_regprocedure('auth.jwt()') is not null as ok`);
      expect(jwt?.ok).toBe(true);
    } finally {
      await db.close();
      await target.drop();
    }
  });
});

describe('a database from before the history was squashed', () => {
  it('stops with one line saying to delete DATA_DIR, and applies nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'familybot-squash-'));
    const db = pgliteExecutor(await PGlite.create());
    try {
      await cp(join(SUPABASE_DIR, 'bootstrap.sql'), join(dir, 'bootstrap.sql'));
      await mkdir(join(dir, 'migrations'));
      await writeFile(join(dir, 'seed.sql'), '');
      await writeFile(join(dir, 'migrations', '20260101000000_notes.sql'), 'create table public.notes (text text primary key);');
      await migrate(db, { dir });

      // the old history is gone from the folder, replaced by a baseline
      await removeDir(join(dir, 'migrations', '20260101000000_notes.sql'));
      await writeFile(join(dir, 'migrations', '20260201000000_baseline.sql'), 'create table public.baseline_notes (text text primary key);');
      const failure = await migrate(db, { dir }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SquashedHistoryError);
      const message = (failure as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain('20260101000000_notes');
      expect(message).toContain('delete DATA_DIR');
      const [row] = await db.query<{ found: boolean }>(`select to_regclass('public.baseline_notes') is not null as found`);
      expect(row?.found).toBe(false);
    } finally {
      await db.close();
      await removeDir(dir, { recursive: true, force: true });
    }
  });
});

describe('seeds, as the Supabase CLI treats them', () => {
  it('runs a seed file once; a changed one is recorded and not run again; a new one runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'familybot-seeds-'));
    const db = pgliteExecutor(await PGlite.create());
    try {
      await cp(join(SUPABASE_DIR, 'bootstrap.sql'), join(dir, 'bootstrap.sql'));
      await mkdir(join(dir, 'migrations'));
      await mkdir(join(dir, 'seeds'));
      await writeFile(join(dir, 'migrations', '20260101000000_notes.sql'), 'create table public.notes (text text primary key);');
      await writeFile(join(dir, 'seed.sql'), "insert into public.notes values ('first');");
      expect(await migrate(db, { dir })).toMatchObject({ seeded: true, seedsChanged: [] });

      await writeFile(join(dir, 'seed.sql'), "insert into public.notes values ('first'), ('edited later');");
      expect(await migrate(db, { dir })).toMatchObject({ seeded: false, seedsChanged: ['supabase/seed.sql'] });
      const notes = async () => (await db.query<{ text: string }>('select text from public.notes order by text')).map((r) => r.text);
      expect(await notes()).toEqual(['first']);
      // recorded: the next start is quiet
      expect(await migrate(db, { dir })).toMatchObject({ seeded: false, seedsChanged: [] });

      await writeFile(join(dir, 'seeds', 'more.sql'), "insert into public.notes values ('a new file');");
      expect(await migrate(db, { dir })).toMatchObject({ seeded: true, seedsChanged: [] });
      expect(await notes()).toEqual(['a new file', 'first']);
    } finally {
      await db.close();
      await removeDir(dir, { recursive: true, force: true });
    }
  });
});
