import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { inject } from 'vitest';
import { pgliteExecutor, postgresExecutor, type SqlExecutor } from '../../bot/db/executor';
import { migrate, SUPABASE_DIR } from '../../bot/db/migrate';

let template: Promise<Blob> | undefined;

/** A migrated and seeded in-memory PGlite; cloned from one dump per worker, since a cold start costs seconds. */
export async function freshPglite(): Promise<SqlExecutor> {
  template ??= (async () => {
    const db = await PGlite.create();
    await migrate(pgliteExecutor(db));
    const dump = await db.dumpDataDir('none');
    await db.close();
    return dump;
  })();
  const db = await PGlite.create({ loadDataDir: await template });
  return pgliteExecutor(db);
}

/** An empty database of its own inside the suite's PostgreSQL server (18 by default), or a copy of database `copyOf`. */
export async function freshPostgresDatabase(version: '18' | '15' = '18', copyOf?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = postgresServerUrl(version);
  const name = `t_${randomBytes(6).toString('hex')}`;
  await asAdmin(serverUrl, (admin) => admin.query(`create database ${name}${copyOf ? ` template ${copyOf}` : ''}`));
  const url = serverUrl.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    drop: () => asAdmin(serverUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

function postgresServerUrl(version: '18' | '15'): string {
  const serverUrl = version === '18' ? inject('pg18Url') : inject('pg15Url');
  if (!serverUrl) throw new Error(`no PostgreSQL ${version} in this run`);
  return serverUrl;
}

async function asAdmin<T>(serverUrl: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

export async function migratedPostgres(version: '18' | '15' = '18') {
  const db = await freshPostgresDatabase(version);
  const executor = postgresExecutor(db.url);
  await migrate(executor);
  return { executor, url: db.url, close: async () => { await executor.close(); await db.drop(); } };
}

/** Every SQL file `migrate` reads, hashed: a template built from other migrations is never reused. */
async function migrationsHash(): Promise<string> {
  const files = (await readdir(SUPABASE_DIR, { recursive: true })).filter((f) => f.endsWith('.sql')).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(f).update('\0').update(await readFile(join(SUPABASE_DIR, f))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

// Any fixed number works: every worker building the template of this server takes the same lock.
const TEMPLATE_LOCK = 7_340_130;
const templates = new Map<string, Promise<string>>();

/**
 * One migrated and seeded template database per server and migration set, shared by every worker of the run:
 * migrating costs seconds on a real server, `create database … template` a fraction of that. Built under another
 * name and renamed when complete, so a worker killed mid-build leaves no half-migrated template behind.
 */
function migratedTemplate(version: '18' | '15'): Promise<string> {
  const serverUrl = postgresServerUrl(version);
  let built = templates.get(serverUrl);
  if (!built) {
    built = (async () => {
      const name = `template_${await migrationsHash()}`;
      return asAdmin(serverUrl, async (admin) => {
        await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
        const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
        if (found.rowCount === 0) {
          // The suite's servers are thrown away after the run: without fsync a copy takes ~60 ms and a drop ~20 ms, not ~0.2-2 s each.
          await admin.query('alter system set fsync = off');
          await admin.query('select pg_reload_conf()');
          const building = await migratedPostgres(version);
          await building.executor.close();
          await admin.query(`alter database ${building.url.split('/').pop()} rename to ${name}`);
        }
        await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
        return name;
      });
    })();
    templates.set(serverUrl, built);
  }
  return built;
}

/** Like `migratedPostgres`, but a copy of the run's migrated template: the same database, made in milliseconds. */
export async function copiedMigratedPostgres(version: '18' | '15' = '18') {
  const db = await freshPostgresDatabase(version, await migratedTemplate(version));
  const executor = postgresExecutor(db.url);
  return { executor, url: db.url, close: async () => { await executor.close(); await db.drop(); } };
}
