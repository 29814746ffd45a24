import { serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import type { SqlExecutor } from '../../bot/db/executor';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { freshPglite, migratedPostgres } from './databases';

const SECRET = 'suite-secret-0123456789abcdef0123456789';

export interface TestDb {
  db: Db;
  sql: SqlExecutor;
  close(): Promise<void>;
}

/** supabase-js over the embedded transport, on a fresh migrated PGlite. */
export async function pgliteDb(): Promise<TestDb> {
  const sql = await freshPglite();
  return { db: supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor: sql, jwtSecret: SECRET }).fetch), sql, close: () => sql.close() };
}

/** supabase-js over the same transport, on its own database in the suite's real PostgreSQL. */
export async function postgresDb(): Promise<TestDb & { url: string; client(): Db }> {
  const pg = await migratedPostgres();
  const client = () => supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor: pg.executor, jwtSecret: SECRET }).fetch);
  return { db: client(), client, sql: pg.executor, url: pg.url, close: pg.close };
}
