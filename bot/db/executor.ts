import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';

/** One connection inside one transaction. */
export interface SqlSession {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  exec(sql: string): Promise<void>;
}

/** What the RPC transport and the migration runner need from a database: PGlite or a real Postgres pool. */
export interface SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  transaction<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export function pgliteExecutor(db: PGlite, onClose?: () => Promise<void>): SqlExecutor {
  const session = (tx: Transaction | PGlite): SqlSession => ({
    query: async <R>(sql: string, params?: unknown[]) => (await tx.query<R>(sql, params)).rows,
    exec: async (sql: string) => void (await tx.exec(sql)),
  });
  return {
    kind: 'pglite',
    transaction: (fn) => db.transaction((tx) => fn(session(tx))),
    query: async (sql, params) => (await db.query<never>(sql, params)).rows,
    close: async () => {
      await db.close();
      await onClose?.();
    },
  };
}

// Postgres returns int8/numeric as strings; JSON-producing SQL does its own conversion, so only dates matter here.
pg.types.setTypeParser(1114, (v) => v);
pg.types.setTypeParser(1184, (v) => v);

export function postgresExecutor(connectionString: string, max = 10): SqlExecutor {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => undefined); // an idle client's dropped connection surfaces on the next query instead
  const session = (c: pg.PoolClient | pg.Pool): SqlSession => ({
    query: async <R>(sql: string, params?: unknown[]) => (await c.query(sql, params)).rows as R[],
    exec: async (sql: string) => void (await c.query(sql)),
  });
  return {
    kind: 'postgres',
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const out = await fn(session(client));
        await client.query('commit');
        return out;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    query: async (sql, params) => (await pool.query(sql, params)).rows as never[],
    close: () => pool.end(),
  };
}
