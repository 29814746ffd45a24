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
  /**
   * Parameterless statements run in one transaction, sent as one message (one round trip to a server);
   * answers the rows of the last. On an error the transaction is rolled back. `timeoutMs`: what the script's
   * statement_timeout allows, for an engine that cannot interrupt a statement (PGlite) to fail it afterwards.
   */
  script<R = Record<string, unknown>>(statements: string[], opts?: { timeoutMs?: number }): Promise<R[]>;
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
    script: async <R>(statements: string[], opts?: { timeoutMs?: number }) => {
      const results = await db.transaction(async (tx) => {
        const started = performance.now();
        const out = await tx.exec(statements.join(';\n'));
        // PGlite runs in this thread and cannot be interrupted: a script that ran past its time-out fails
        // afterwards, rolled back, as PostgreSQL would have cancelled it
        if (opts?.timeoutMs && performance.now() - started > opts.timeoutMs) {
          throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
        }
        return out;
      });
      return (results.at(-1)?.rows ?? []) as R[];
    },
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
    async script<R>(statements: string[]) {
      const client = await pool.connect();
      try {
        // the simple-query protocol takes several statements in one message; each still gets its own statement_timeout
        const results = (await client.query(['begin', ...statements, 'commit'].join(';\n'))) as unknown as pg.QueryResult[];
        return results[results.length - 2]!.rows as R[];
      } catch (err) {
        // the error left the transaction open and failed: close it before the connection goes back to the pool
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
