import type { TestProject } from 'vitest/node';
import { findPostgres15, startEmbeddedPostgres, startPostgres15, type PostgresServer } from './postgres-servers';

declare module 'vitest' {
  export interface ProvidedContext {
    pg18Url: string;
    pg15Url: string | null;
  }
}

/** One PostgreSQL 18 (and a 15 where installed) for the whole run; each test file makes its own database in it. */
export default async function setup(project: TestProject) {
  const servers: PostgresServer[] = [await startEmbeddedPostgres()];
  project.provide('pg18Url', servers[0]!.url);
  const bin15 = findPostgres15();
  if (bin15) servers.push(await startPostgres15(bin15));
  else if (process.env.CI) throw new Error('CI needs PostgreSQL 15 (set PG15_BIN or install postgresql-15): the migrations promise to apply on it');
  project.provide('pg15Url', bin15 ? servers[1]!.url : null);
  return async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
}
