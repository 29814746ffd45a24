import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { pgliteExecutor, postgresExecutor, type SqlExecutor } from './executor';
import { newJwtSecret, signJwt } from './jwt';
import { migrate } from './migrate';
import { createRpcTransport, type RpcTransport } from './rpc-transport';

export type Db = SupabaseClient;

export interface DataDoor {
  supabase: Db;
  /** embedded: PGlite in DATA_DIR; postgres: DATABASE_URL; supabase: a real project; server: through the running server's loopback RPC. */
  mode: 'embedded' | 'postgres' | 'supabase' | 'server';
  schemaVersion: string | null;
  /** Present when this process owns the database: the server exposes it on loopback for one-shot commands. */
  transport?: RpcTransport;
  executor?: SqlExecutor;
  close(): Promise<void>;
}

const SERVER_FILE = 'server.json';
const LOCK_FILE = 'db.lock';
const SECRET_FILE = 'jwt-secret';

export function supabaseClient(url: string, key: string, fetchImpl?: typeof fetch): Db {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: ws as never },
    global: fetchImpl ? { fetch: fetchImpl } : {},
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The signing secret of the embedded API lives in DATA_DIR: whoever can read the data can call it. */
export async function embeddedSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, SECRET_FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const secret = newJwtSecret();
    await writeFile(path, secret, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(path, 'utf8')).trim();
  }
}

export const serviceKey = (secret: string) => signJwt({ role: 'service_role', iss: 'family-bot' }, secret);
export const anonKey = (secret: string) => signJwt({ role: 'anon', iss: 'family-bot' }, secret);

/** PGlite admits one process: a lock file with our pid, taken over only when its owner is gone. */
async function takeLock(dataDir: string): Promise<{ ok: true } | { ok: false; pid: number }> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return { ok: true };
    } catch {
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid)) return { ok: false, pid };
      await rm(path, { force: true });
    }
  }
  return { ok: false, pid: 0 };
}

/** Called by the server once it listens: one-shot commands find it here. */
export async function announceServer(dataDir: string, port: number): Promise<void> {
  await writeFile(join(resolve(dataDir), SERVER_FILE), JSON.stringify({ pid: process.pid, port }), { mode: 0o600 });
}

async function localDoor(executor: SqlExecutor, mode: 'embedded' | 'postgres', secret: string, onClose: () => Promise<void>, seed: boolean, logger?: Logger): Promise<DataDoor> {
  const { schemaVersion, seedsChanged } = await migrate(executor, { seed });
  // as on Supabase: a seed runs once; edits to it reach this database only through a migration or an import
  if (seedsChanged.length) logger?.warn({ seeds: seedsChanged }, 'seed files changed since they ran and were not run again: ship content changes as a migration or with npm run import');
  const transport = createRpcTransport({ executor, jwtSecret: secret });
  return {
    supabase: supabaseClient('http://embedded.local', serviceKey(secret), transport.fetch),
    mode,
    schemaVersion,
    transport,
    executor,
    close: async () => {
      await executor.close();
      await onClose();
    },
  };
}

export interface OpenOptions {
  /** One-shot commands: when the server holds the embedded database, go through it. */
  viaServer?: boolean;
  logger?: Logger;
}

/** The data door: the one place that decides which database the app talks to. */
export async function openDataDoor(config: Config, opts: OpenOptions = {}): Promise<DataDoor> {
  const db = config.database;
  if (db.kind === 'supabase') {
    return { supabase: supabaseClient(db.url, db.serviceRoleKey), mode: 'supabase', schemaVersion: null, close: async () => undefined };
  }
  if (db.kind === 'postgres') {
    // a shared Postgres has no DATA_DIR secret of its own; the key only guards the in-process transport
    return localDoor(postgresExecutor(db.url, db.poolSize), 'postgres', newJwtSecret(), async () => undefined, true, opts.logger);
  }

  const dataDir = resolve(db.dataDir);
  await mkdir(dataDir, { recursive: true });
  const secret = await embeddedSecret(dataDir);
  const lock = await takeLock(dataDir);
  if (!lock.ok) {
    const server = await readJson<{ pid: number; port: number }>(join(dataDir, SERVER_FILE));
    if (opts.viaServer && server && server.pid === lock.pid) {
      opts.logger?.debug({ port: server.port }, 'embedded database held by the server: going through its loopback API');
      return { supabase: supabaseClient(`http://127.0.0.1:${server.port}`, serviceKey(secret)), mode: 'server', schemaVersion: null, close: async () => undefined };
    }
    throw new Error(`the embedded database in ${dataDir} is in use by process ${lock.pid}${server ? '' : ' (not a server this command can go through)'}`);
  }
  try {
    const pglite = await PGlite.create(join(dataDir, 'pgdata'));
    const release = async () => {
      await rm(join(dataDir, SERVER_FILE), { force: true });
      await rm(join(dataDir, LOCK_FILE), { force: true });
    };
    return await localDoor(pgliteExecutor(pglite), 'embedded', secret, release, true, opts.logger);
  } catch (err) {
    await rm(join(dataDir, LOCK_FILE), { force: true });
    throw err;
  }
}
