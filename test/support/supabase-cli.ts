import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from './processes';

/** The CLI the project pins (`supabase@2.117.0`, dev dependency): the Go binary from `@supabase/cli-linux-x64`. */
export const SUPABASE_BIN = join(ROOT, 'node_modules', '.bin', 'supabase');

/**
 * A new Supabase project before its first push: the API roles (cluster-wide, so only where missing; a concurrent
 * test file may create them at the same moment), the `extensions` schema, and the default privileges Supabase
 * revokes from the API roles since 2026, so only a migration's explicit grant opens anything.
 */
export const SUPABASE_PROJECT_SQL = `
do $roles$
declare
  r record;
begin
  for r in select * from (values ('anon', 'nologin noinherit'), ('authenticated', 'nologin noinherit'), ('service_role', 'nologin noinherit bypassrls')) as v(name, options) loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r.name) then
      begin
        execute format('create role %I %s', r.name, r.options);
      exception when duplicate_object or unique_violation then
        null; -- another test file created it between the check and here
      end;
    end if;
  end loop;
end
$roles$;
create schema if not exists extensions;
grant usage on schema public, extensions to anon, authenticated, service_role;
alter default privileges in schema public revoke all on tables from anon, authenticated, service_role;
alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role;
alter default privileges in schema public revoke all on functions from anon, authenticated, service_role;
`;

/** Runs SQL on the database at `url` as the connecting role. */
export async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function hasPlpgsqlCheck(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`select 1 from pg_catalog.pg_available_extensions where name = 'plpgsql_check'`)).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** The `--db-url` the README gives the CLI: `postgresql://`, and `sslmode=disable` (a plain server has no SSL). */
export function cliDbUrl(url: string): string {
  const u = new URL(url);
  return `postgresql://${u.username}@${u.hostname}:${u.port}${u.pathname}?sslmode=disable`;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The real CLI from the repository root, as the README runs it. Its own files go to a throw-away HOME; the update
 * check (which writes supabase/.temp/cli-latest into the tree) and telemetry are switched off.
 */
export async function supabaseCli(args: string[]): Promise<CliRun> {
  const home = await mkdtemp(join(tmpdir(), 'familybot-supabase-home-'));
  const env = { ...process.env, HOME: home, SUPABASE_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' };
  const started = performance.now();
  try {
    return await new Promise<CliRun>((resolve, reject) => {
      const child = spawn(SUPABASE_BIN, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) }));
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

export interface LintIssue {
  level: string;
  message: string;
  sqlState?: string;
  detail?: string;
  context?: string;
  statement?: { lineNumber: string; text: string };
}

export interface LintFinding {
  function: string;
  issues: LintIssue[];
}

/** `db lint` prints a JSON array of findings on stdout, and nothing when there are none. */
export function lintFindings(stdout: string): LintFinding[] {
  const text = stdout.trim();
  return text ? (JSON.parse(text) as LintFinding[]) : [];
}

/** One line per issue, for the test's output. */
export const lintLines = (findings: LintFinding[]) =>
  findings.flatMap((f) => f.issues.map((i) => `${i.level}: ${f.function}: ${i.message}${i.detail ? ` (${i.detail})` : ''}${i.context ? ` [${i.context}]` : ''}`));
