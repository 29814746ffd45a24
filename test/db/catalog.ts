import type { SqlExecutor } from '../../bot/db/executor';

/** One line per catalog object of the app's schemas (public, private): its key and everything that defines it. */
export type Catalog = Map<string, string>;

const SCHEMAS = `('public', 'private')`;

/** An ACL as sorted "grantee:privilege" words (PUBLIC for the pseudo-role), so the order of grants does not matter. */
const acl = (column: string, kind: string, owner: string) => `
  (select coalesce(string_agg(coalesce(r.rolname, 'PUBLIC') || ':' || a.privilege_type || case when a.is_grantable then '*' else '' end, ' '
                     order by coalesce(r.rolname, 'PUBLIC'), a.privilege_type), '-')
     from aclexplode(coalesce(${column}, acldefault(${kind}, ${owner}))) a left join pg_roles r on r.oid = a.grantee)`;

const QUERIES: Record<string, string> = {
  schema: `
    select n.nspname as key, 'acl ' || ${acl('n.nspacl', "'n'", 'n.nspowner')} as value
      from pg_namespace n where n.nspname in ${SCHEMAS}`,
  relation: `
    select n.nspname || '.' || c.relname as key,
           concat_ws(' | ', 'kind ' || c.relkind::text, 'rls ' || c.relrowsecurity::text, 'force ' || c.relforcerowsecurity::text,
                     'comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-'), 'acl ' || ${acl('c.relacl', "case when c.relkind = 'S' then 's' else 'r' end::\"char\"", 'c.relowner')}) as value
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'S')`,
  column: `
    select n.nspname || '.' || c.relname || '.' || a.attname as key,
           concat_ws(' | ', 'position ' || (select count(*) from pg_attribute b where b.attrelid = a.attrelid and b.attnum > 0 and not b.attisdropped and b.attnum <= a.attnum),
                     format_type(a.atttypid, a.atttypmod), case when a.attnotnull then 'not null' else 'null' end,
                     'default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), 'identity ' || a.attidentity::text, 'generated ' || a.attgenerated::text,
                     'comment ' || coalesce(col_description(c.oid, a.attnum), '-'), 'acl ' || coalesce(a.attacl::text, '-')) as value
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm') and a.attnum > 0 and not a.attisdropped`,
  constraint: `
    select n.nspname || '.' || c.relname || '.' || k.conname as key, k.contype::text || ' ' || pg_get_constraintdef(k.oid) as value
      from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS}`,
  index: `
    select n.nspname || '.' || i.relname as key, pg_get_indexdef(i.oid) as value
      from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
     where n.nspname in ${SCHEMAS}`,
  policy: `
    select n.nspname || '.' || c.relname || '.' || p.polname as key,
           concat_ws(' | ', p.polcmd::text, p.polpermissive::text, p.polroles::regrole[]::text, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)) as value
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS}`,
  trigger: `
    select n.nspname || '.' || c.relname || '.' || t.tgname as key, pg_get_triggerdef(t.oid) as value
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS} and not t.tgisinternal`,
  function: `
    select p.oid::regprocedure::text as key,
           concat_ws(' | ', pg_get_functiondef(p.oid), 'comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-'),
                     'acl ' || ${acl('p.proacl', "'f'", 'p.proowner')}) as value
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ${SCHEMAS}`,
  type: `
    select n.nspname || '.' || t.typname as key, t.typtype::text as value
      from pg_type t join pg_namespace n on n.oid = t.typnamespace
     where n.nspname in ${SCHEMAS} and t.typtype in ('e', 'd', 'c') and not exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind <> 'c')`,
  default_acl: `
    select coalesce(n.nspname, '*') || '.' || d.defaclobjtype::text || '.' || pg_get_userbyid(d.defaclrole) as key, d.defaclacl::text as value
      from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace`,
};

export async function readCatalog(db: SqlExecutor): Promise<Catalog> {
  const out: Catalog = new Map();
  for (const [kind, sql] of Object.entries(QUERIES)) {
    for (const row of await db.query<{ key: string; value: string }>(sql)) out.set(`${kind} ${row.key}`, row.value);
  }
  return out;
}

/** Every object missing on one side or defined differently, one line each (a changed definition shows both). */
export function catalogDiff(a: Catalog, b: Catalog, names: [string, string] = ['a', 'b']): string[] {
  const diffs: string[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(key);
    const y = b.get(key);
    if (x === y) continue;
    if (x === undefined) diffs.push(`only in ${names[1]}: ${key}`);
    else if (y === undefined) diffs.push(`only in ${names[0]}: ${key}`);
    else diffs.push(`differs: ${key}\n  ${names[0]}: ${x}\n  ${names[1]}: ${y}`);
  }
  return diffs;
}
