import { inject } from 'vitest';
import { serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import type { SqlExecutor } from '../../bot/db/executor';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { copiedMigratedPostgres, freshPglite, migratedPostgres } from './databases';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The database behind `pgliteDb()`: the `pg15` project runs the same flow tests on PostgreSQL 15. */
    flowDatabase?: 'pglite' | 'pg15';
  }
}

const SECRET = 'suite-secret-0123456789abcdef0123456789';

export interface TestDb {
  db: Db;
  sql: SqlExecutor;
  close(): Promise<void>;
}

const embeddedClient = (executor: SqlExecutor): Db =>
  supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor, jwtSecret: SECRET }).fetch);

/**
 * supabase-js over the embedded transport, on a fresh migrated PGlite; in the `pg15` project, on a fresh
 * migrated database of its own in the suite's PostgreSQL 15, dropped on close.
 */
export async function pgliteDb(): Promise<TestDb> {
  if (inject('flowDatabase') === 'pg15') {
    const pg = await copiedMigratedPostgres('15');
    return { db: embeddedClient(pg.executor), sql: pg.executor, close: pg.close };
  }
  const sql = await freshPglite();
  return { db: embeddedClient(sql), sql, close: () => sql.close() };
}

/** supabase-js over the same transport, on its own database in the suite's real PostgreSQL. */
export async function postgresDb(): Promise<TestDb & { url: string; client(): Db }> {
  const pg = await migratedPostgres();
  const client = () => embeddedClient(pg.executor);
  return { db: client(), client, sql: pg.executor, url: pg.url, close: pg.close };
}
