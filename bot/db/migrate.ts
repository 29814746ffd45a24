import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlExecutor } from './executor';

export const SUPABASE_DIR = fileURLToPath(new URL('../../supabase/', import.meta.url));

export interface MigrationFile {
  version: string;
  name: string;
  path: string;
}

export interface MigrationResult {
  applied: string[];
  seeded: boolean;
  /** seed files changed since they ran: recorded, not run again (as `supabase db push --include-seed` does) */
  seedsChanged: string[];
  schemaVersion: string | null;
}

const MIGRATION_NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/;
// Any fixed number works: it only has to be the same for every process migrating this database.
const MIGRATION_LOCK = 7_340_129;

export async function listMigrations(dir = join(SUPABASE_DIR, 'migrations')): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  return names.map((n) => {
    const m = MIGRATION_NAME.exec(n);
    if (!m) throw new Error(`migration file name ${n} is not <YYYYMMDDHHMMSS>_<name>.sql`);
    return { version: m[1]!, name: m[2]!, path: join(dir, n) };
  });
}

/** seed.sql, then supabase/seeds/*.sql in name order: the same files config.toml's [db.seed] lists. */
async function seedFiles(dir: string): Promise<string[]> {
  const extra = await readdir(join(dir, 'seeds')).catch(() => [] as string[]);
  return ['seed.sql', ...extra.filter((n) => n.endsWith('.sql')).sort().map((n) => `seeds/${n}`)];
}

/**
 * A database whose recorded migrations are no longer in the folder: the history was squashed into one baseline
 * (nothing was deployed), so a local database built before then cannot be migrated, only rebuilt.
 */
export class SquashedHistoryError extends Error {
  constructor(readonly unknown: string[]) {
    super(
      `this database was built with migrations that no longer exist (${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? `, ${unknown.length - 3} more` : ''}): ` +
        'the history was squashed into one baseline; delete DATA_DIR (default .data/) or drop this database, and start again',
    );
    this.name = 'SquashedHistoryError';
  }
}

/** The same bookkeeping tables the Supabase CLI keeps, so both tools agree on what is applied. */
const TRACKING_SQL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
  create table if not exists supabase_migrations.seed_files (path text not null primary key, hash text not null);
`;

/**
 * Applies the bootstrap (non-Supabase databases only), every migration not yet recorded, and each seed file
 * not yet seen. As the Supabase CLI does, a seed file whose content changed after it ran is recorded (its new
 * hash) and NOT run again: content that must reach an existing database ships as a migration or through the
 * import commands. Each step is one transaction under an advisory lock, so two processes starting together
 * apply each migration once.
 */
export async function migrate(db: SqlExecutor, opts: { seed?: boolean; dir?: string } = {}): Promise<MigrationResult> {
  const dir = opts.dir ?? SUPABASE_DIR;
  const locked = async <T>(fn: (s: Parameters<Parameters<SqlExecutor['transaction']>[0]>[0]) => Promise<T>) =>
    db.transaction(async (s) => {
      await s.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      return fn(s);
    });

  await locked(async (s) => {
    await s.exec(TRACKING_SQL);
    await s.exec(await readFile(join(dir, 'bootstrap.sql'), 'utf8'));
  });

  const migrations = await listMigrations(join(dir, 'migrations'));
  const known = new Set(migrations.map((m) => m.version));
  const recorded = await db.query<{ version: string; name: string | null }>('select version, name from supabase_migrations.schema_migrations order by version');
  const unknown = recorded.filter((r) => !known.has(r.version)).map((r) => (r.name ? `${r.version}_${r.name}` : r.version));
  if (unknown.length) throw new SquashedHistoryError(unknown);

  const applied: string[] = [];
  for (const m of migrations) {
    const sql = await readFile(m.path, 'utf8');
    const did = await locked(async (s) => {
      const seen = await s.query('select 1 from supabase_migrations.schema_migrations where version = $1', [m.version]);
      if (seen.length > 0) return false;
      await s.exec(sql);
      await s.query('insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)', [m.version, m.name, [sql]]);
      return true;
    });
    if (did) applied.push(`${m.version}_${m.name}`);
  }

  let seeded = false;
  const seedsChanged: string[] = [];
  if (opts.seed !== false) {
    for (const file of await seedFiles(dir)) {
      const seedSql = await readFile(join(dir, file), 'utf8');
      const hash = createHash('sha256').update(seedSql).digest('hex');
      const path = `supabase/${file}`;
      const did = await locked(async (s) => {
        const rows = await s.query<{ hash: string }>('select hash from supabase_migrations.seed_files where path = $1', [path]);
        if (rows[0]?.hash === hash) return 'same';
        if (!rows[0]) await s.exec(seedSql);
        await s.query(
          'insert into supabase_migrations.seed_files (path, hash) values ($1, $2) on conflict (path) do update set hash = excluded.hash',
          [path, hash],
        );
        return rows[0] ? 'changed' : 'ran';
      });
      if (did === 'ran') seeded = true;
      if (did === 'changed') seedsChanged.push(path);
    }
  }

  const [row] = await db.query<{ v: string | null }>('select max(version) as v from supabase_migrations.schema_migrations');
  return { applied, seeded, seedsChanged, schemaVersion: row?.v ?? null };
}
