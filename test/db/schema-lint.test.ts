import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlExecutor } from '../../bot/db/executor';
import { freshPglite } from '../support/databases';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** SECURITY DEFINER is for what service_role itself may not do; today only the health check's catalog read. */
const DEFINER_ALLOWED = new Set(['public.health']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every quoted word in the app's TypeScript (bot/, functions/) that names a function: what `.rpc()` may call. */
function namesInSource(functions: Set<string>): Set<string> {
  const found = new Set<string>();
  for (const file of [...sourceFiles(join(ROOT, 'bot')), ...sourceFiles(join(ROOT, 'functions'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/'([a-z_][a-z0-9_]*)'/g)) if (functions.has(m[1]!)) found.add(m[1]!);
  }
  return found;
}

interface Fn {
  schema: string;
  name: string;
  retset: boolean;
  definer: boolean;
  args: string[] | null;
  modes: string[] | null;
  nargs: number;
  config: string[] | null;
}

describe('the schema, as real PostgREST and Supabase need it', () => {
  let db: SqlExecutor;
  let fns: Fn[];
  beforeAll(async () => {
    db = await freshPglite();
    fns = await db.query<Fn>(`
      select n.nspname as schema, p.proname as name, p.proretset as retset, p.prosecdef as definer, p.proargnames as args,
             p.proargmodes::text[] as modes, p.pronargs::int as nargs, p.proconfig as config
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ('public', 'private') and p.prokind = 'f'`);
  });
  afterAll(() => db.close());

  it('has no function the app calls that returns a set without a limit (PostgREST would cut it at max_rows, silently)', () => {
    const called = namesInSource(new Set(fns.filter((f) => f.schema === 'public').map((f) => f.name)));
    expect(called.size).toBeGreaterThan(50);
    const unbounded = fns.filter((f) => f.schema === 'public' && called.has(f.name) && f.retset && !(f.args ?? []).includes('p_limit'));
    expect(unbounded.map((f) => f.name)).toEqual([]);
  });

  it('has no overloaded function (PostgREST answers 300 when two could match)', () => {
    const seen = new Map<string, number>();
    for (const f of fns) seen.set(`${f.schema}.${f.name}`, (seen.get(`${f.schema}.${f.name}`) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1).map(([name]) => name)).toEqual([]);
  });

  it('names every argument of every public function (PostgREST calls by name)', () => {
    const unnamed = fns.filter((f) => f.schema === 'public' && f.nargs > 0 && (f.args ?? []).slice(0, f.nargs).some((a) => !a));
    expect(unnamed.map((f) => f.name)).toEqual([]);
  });

  it('has SECURITY DEFINER only where allowed, and pins search_path on every function', () => {
    expect(fns.filter((f) => f.definer && !DEFINER_ALLOWED.has(`${f.schema}.${f.name}`)).map((f) => `${f.schema}.${f.name}`)).toEqual([]);
    expect(fns.filter((f) => !(f.config ?? []).some((c) => c.startsWith('search_path='))).map((f) => `${f.schema}.${f.name}`)).toEqual([]);
  });

  it('grants service_role what the app uses, explicitly, and the public API roles nothing', async () => {
    // the bootstrap mirrors Supabase's revoked defaults, so what is granted here was granted by a migration
    const gaps = await db.query<{ what: string }>(`
      select 'table ' || c.relname as what from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' and not (has_table_privilege('service_role', c.oid, 'select') and has_table_privilege('service_role', c.oid, 'insert'))
      union all
      select 'sequence ' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'S' and not (case when c.relkind = 'S' then has_sequence_privilege('service_role', c.oid, 'usage') else true end)
      union all
      select 'function ' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype and not has_function_privilege('service_role', p.oid, 'execute')
      union all
      select 'open to ' || r.rolname || ': ' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace cross join (values ('anon'), ('authenticated')) r(rolname)
       where n.nspname = 'public' and c.relkind in ('r', 'S') and (has_table_privilege(r.rolname, c.oid, 'select') or has_table_privilege(r.rolname, c.oid, 'insert'))
      union all
      select 'callable by ' || r.rolname || ': ' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace cross join (values ('anon'), ('authenticated')) r(rolname)
       where n.nspname in ('public', 'private') and p.prokind = 'f' and has_function_privilege(r.rolname, p.oid, 'execute')
      union all
      select 'no row level security: ' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity
      union all
      select 'no comment: ' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' and obj_description(c.oid, 'pg_class') is null`);
    expect(gaps.map((g) => g.what)).toEqual([]);
  });
});
