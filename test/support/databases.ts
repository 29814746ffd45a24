import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { inject } from 'vitest';
import { pgliteExecutor, postgresExecutor, type SqlExecutor } from '../../bot/db/executor';
import { migrate } from '../../bot/db/migrate';

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

/** An empty database of its own inside the suite's PostgreSQL server (18 by default). */
export async function freshPostgresDatabase(version: '18' | '15' = '18'): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = version === '18' ? inject('pg18Url') : inject('pg15Url');
  if (!serverUrl) throw new Error(`no PostgreSQL ${version} in this run`);
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = serverUrl.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function migratedPostgres(version: '18' | '15' = '18') {
  const db = await freshPostgresDatabase(version);
  const executor = postgresExecutor(db.url);
  await migrate(executor);
  return { executor, url: db.url, close: async () => { await executor.close(); await db.drop(); } };
}
