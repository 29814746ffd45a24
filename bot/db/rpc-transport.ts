import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlExecutor } from './executor';
import { verifyJwt } from './jwt';
import { SUPABASE_DIR } from './migrate';

/**
 * PostgREST's RPC endpoint, in process: what supabase-js `.rpc()` talks to when the database is
 * embedded (PGlite) or a Postgres reached by connection string. Only `/rest/v1/rpc/{fn}` is
 * implemented; nothing in the app uses any other part of PostgREST.
 */
export interface RpcTransportOptions {
  executor: SqlExecutor;
  jwtSecret: string;
  schema?: string;
  anonRole?: string;
  nowSeconds?: () => number;
  /** what Supabase's PostgREST enforces; by default read from supabase/config.toml and Supabase's role settings */
  limits?: PostgrestLimits;
}

/**
 * The limits real PostgREST on Supabase applies to every RPC, so local runs fail where Supabase would:
 * `maxRows` caps the rows of a set-returning function's result, silently (`[api] max_rows`; null: no cap);
 * `statementTimeout` per role (Supabase: anon 3 s, authenticated 8 s, service_role inherits authenticator's
 * 8 s), unless the function sets its own.
 */
export interface PostgrestLimits {
  maxRows: number | null;
  statementTimeout: Record<string, string>;
}

export const SUPABASE_STATEMENT_TIMEOUTS: Record<string, string> = { anon: '3s', authenticated: '8s', service_role: '8s' };

/** `[api] max_rows` from a Supabase config.toml (the CLI's default, 1000, when absent). */
export function maxRowsFromConfig(toml: string): number | null {
  const api = /^\[api\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? '';
  const m = /^\s*max_rows\s*=\s*(\d+)\s*(?:#.*)?$/m.exec(api);
  return m ? Number(m[1]) : 1000;
}

let configured: PostgrestLimits | undefined;
/** The limits of this project's Supabase: its config.toml's max_rows and Supabase's role timeouts. */
export function supabaseLimits(): PostgrestLimits {
  configured ??= { maxRows: maxRowsFromConfig(readFileSync(join(SUPABASE_DIR, 'config.toml'), 'utf8')), statementTimeout: SUPABASE_STATEMENT_TIMEOUTS };
  return configured;
}

export interface RpcTransport {
  handle(req: Request): Promise<Response>;
  /** A `fetch` for `createClient(url, key, { global: { fetch } })`. */
  fetch: typeof fetch;
  /** Forget cached function signatures (PostgREST's "reload schema"). */
  reloadSchema(): void;
}

interface FunctionInfo {
  name: string;
  argNames: string[];
  argTypes: string[];
  required: number;
  volatility: 'i' | 's' | 'v';
  returnsSet: boolean;
  returnsVoid: boolean;
  /** the names of its OUT/TABLE columns: its result is an object with these keys, even with one column */
  outNames: string[];
  /** its own `set statement_timeout`, which PostgREST applies instead of the role's */
  statementTimeout: string | null;
}

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

type ErrorBody = { code: string; message: string; details: string | null; hint: string | null };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
const RPC_PATH = /^\/rest\/v1\/rpc\/([^/]+)\/?$/;

/** PostgREST's SQLSTATE → HTTP status table (src/PostgREST/Error.hs, `pgErrorStatus`). */
export function httpStatusFor(code: string, anonymous: boolean, message = ''): number {
  if (/^PT\d{3}$/.test(code)) return Number(code.slice(2));
  // a cardinality violation is the function's fault, except pg-safeupdate's refusal
  if (code === '21000') return message.endsWith('requires a WHERE clause') ? 400 : 500;
  // the JWT names a role the database does not have
  if (code === '22023') return /^role .* does not exist$/.test(message) ? 401 : 400;
  const exact: Record<string, number> = {
    '23503': 409, '23505': 409, '25006': 405, '53400': 500, '57P01': 503, P0001: 400,
    '42883': 404, '42P01': 404, '42P17': 500, '42501': anonymous ? 401 : 403,
  };
  if (exact[code] !== undefined) return exact[code];
  const byClass: Record<string, number> = {
    '08': 503, '09': 500, '0L': 403, '0P': 403, '25': 500, '28': 403, '2D': 500, '38': 500, '39': 500,
    '3B': 500, '40': 500, '53': 503, '54': 500, '55': 500, '57': 500, '58': 500, F0: 500, HV: 500, P0: 500, XX: 500,
  };
  return byClass[code.slice(0, 2)] ?? 400;
}

/** A driver error that is not the database's answer: an errno code (ECONNREFUSED, ETIMEDOUT, …) or node-postgres' own words. */
export function connectionFailure(err: PgError): boolean {
  if (err.code) return /^E[A-Z]+$/.test(err.code);
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused/i.test(err.message ?? '');
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** A PostgreSQL duration setting ("8s", "500ms", "2min", "8000") in milliseconds. */
export function durationMs(setting: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$/.exec(setting);
  if (!m) return 0;
  const unit = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'min' | 'h'];
  return Number(m[1]) * unit;
}

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

function errorResponse(status: number, body: ErrorBody, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...extra } });
}

const pgrst = (code: string, message: string, details: string | null = null, hint: string | null = null): ErrorBody => ({ code, message, details, hint });

export function createRpcTransport(opts: RpcTransportOptions): RpcTransport {
  const schema = opts.schema ?? 'public';
  const anonRole = opts.anonRole ?? 'anon';
  const nowSeconds = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const limits = opts.limits ?? supabaseLimits();
  const cache = new Map<string, FunctionInfo[]>();

  async function lookup(name: string): Promise<FunctionInfo[]> {
    const hit = cache.get(name);
    if (hit) return hit;
    const rows = await opts.executor.query<{
      proname: string; names: string[] | null; modes: string[] | null; in_types: string[] | null;
      nargs: number; ndefaults: number; provolatile: string; proretset: boolean; returns_void: boolean; config: string[] | null;
    }>(
      `select p.proname, p.proargnames as names, p.proargmodes::text[] as modes, p.proconfig as config,
              (select array_agg(format_type(t, null) order by i) from unnest(p.proargtypes::oid[]) with ordinality as u(t, i)) as in_types,
              p.pronargs::int as nargs, p.pronargdefaults::int as ndefaults, p.provolatile::text as provolatile, p.proretset,
              p.prorettype = 'void'::regtype as returns_void
         from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'`,
      [schema, name],
    );
    const infos = rows.map((r): FunctionInfo => {
      const all = r.names ?? [];
      const names = r.modes ? all.filter((_, i) => ['i', 'b', 'v'].includes(r.modes![i]!)) : all.slice(0, r.nargs);
      return {
        name: r.proname,
        argNames: Array.from({ length: r.nargs }, (_, i) => names[i] ?? ''),
        argTypes: r.in_types ?? [],
        required: r.nargs - r.ndefaults,
        volatility: r.provolatile as FunctionInfo['volatility'],
        returnsSet: r.proretset,
        returnsVoid: r.returns_void,
        outNames: r.modes ? all.filter((_, i) => ['o', 't', 'b'].includes(r.modes![i]!)) : [],
        statementTimeout: (r.config ?? []).find((c) => c.startsWith('statement_timeout='))?.slice('statement_timeout='.length) ?? null,
      };
    });
    if (infos.length > 0) cache.set(name, infos);
    return infos;
  }

  const takesWholeBody = (f: FunctionInfo) => f.argNames.length === 1 && f.argNames[0] === '' && ['json', 'jsonb'].includes(f.argTypes[0]!);

  function matches(f: FunctionInfo, keys: string[]): boolean {
    if (takesWholeBody(f)) return true;
    if (f.argNames.some((n) => n === '')) return false;
    return keys.every((k) => f.argNames.includes(k)) && f.argNames.slice(0, f.required).every((n) => keys.includes(n));
  }

  function buildSql(f: FunctionInfo, keys: string[]): string {
    const target = `${quoteIdent(schema)}.${quoteIdent(f.name)}`;
    let call: string;
    let from = '';
    if (takesWholeBody(f)) {
      call = `${target}($1::${f.argTypes[0]})`;
    } else if (keys.length === 0) {
      call = `${target}()`;
    } else {
      const used = f.argNames.map((n, i) => ({ n, t: f.argTypes[i]! })).filter((a) => keys.includes(a.n));
      // jsonb_to_record converts JSON values to the declared types exactly as PostgREST does
      from = ` from jsonb_to_record($1::jsonb) as _a(${used.map((a) => `${quoteIdent(a.n)} ${a.t}`).join(', ')})`;
      call = `${target}(${used.map((a) => `${quoteIdent(a.n)} => _a.${quoteIdent(a.n)}`).join(', ')})`;
    }
    if (f.returnsVoid && !f.returnsSet) return `select ${call}${from}`;
    const source = from ? `${from}, lateral ${call} as _r` : ` from ${call} as _r`;
    // OUT/TABLE columns always come back as an object, even one column alone
    const value = f.outNames.length === 1 ? `jsonb_build_object(${quoteLiteral(f.outNames[0]!)}, _r)` : 'to_jsonb(_r)';
    if (f.returnsSet) {
      // PostgREST's max_rows: the first rows only, silently
      const cap = limits.maxRows === null ? '' : ` limit ${limits.maxRows}`;
      return `select coalesce(jsonb_agg(_s.v), '[]'::jsonb)::text as body, count(*)::int as n from (select ${value} as v${source}${cap}) _s`;
    }
    return `select ${value}::text as body${source}`;
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const m = RPC_PATH.exec(url.pathname);
    if (!m) return errorResponse(404, pgrst('PGRST125', `Invalid path specified in request URL`));
    const fnName = decodeURIComponent(m[1]!);
    const method = req.method.toUpperCase();
    if (!['GET', 'HEAD', 'POST'].includes(method)) {
      return errorResponse(405, pgrst('PGRST117', `Unsupported HTTP method: ${method}`));
    }
    const profile = req.headers.get(method === 'POST' ? 'content-profile' : 'accept-profile');
    if (profile && profile !== schema) {
      return errorResponse(406, pgrst('PGRST106', `The schema must be one of the following: ${schema}`));
    }

    // Role from the JWT, as PostgREST does; no token at all means the anonymous role.
    let role = anonRole;
    let claims: Record<string, unknown> = { role: anonRole };
    const auth = req.headers.get('authorization');
    if (auth) {
      const token = auth.replace(/^Bearer\s+/i, '');
      const check = verifyJwt(token, opts.jwtSecret, nowSeconds());
      if (!check.ok) {
        const code = check.reason === 'JWT expired' ? 'PGRST303' : 'PGRST301';
        return errorResponse(401, pgrst(code, check.reason), { 'www-authenticate': `Bearer error="invalid_token", error_description="${check.reason}"` });
      }
      claims = check.claims;
      role = typeof claims.role === 'string' ? claims.role : anonRole;
    }
    const anonymous = role === anonRole;

    let args: Record<string, unknown>;
    if (method === 'POST') {
      const text = await req.text();
      try {
        const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        args = parsed as Record<string, unknown>;
      } catch {
        return errorResponse(400, pgrst('PGRST102', 'Empty or invalid json'));
      }
    } else {
      args = Object.fromEntries(url.searchParams.entries());
    }
    const keys = Object.keys(args);

    let candidates: FunctionInfo[];
    try {
      candidates = (await lookup(fnName)).filter((f) => matches(f, keys));
    } catch (err) {
      return dbError(err as PgError, anonymous);
    }
    // a function whose argument names match wins over one taking the whole body as json
    const named = candidates.filter((f) => !takesWholeBody(f));
    if (named.length > 0) candidates = named;
    const signature = `${schema}.${fnName}(${[...keys].sort().join(', ')})`;
    if (candidates.length === 0) {
      return errorResponse(404, pgrst(
        'PGRST202',
        `Could not find the function ${signature} in the schema cache`,
        `Searched for the function ${schema}.${fnName} with ${keys.length ? `parameters ${[...keys].sort().join(', ')}` : 'no parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
      ));
    }
    if (candidates.length > 1) {
      return errorResponse(300, pgrst('PGRST203', `Could not choose the best candidate function between: ${candidates.map((c) => `${schema}.${c.name}(${c.argNames.map((n, i) => `${n} => ${c.argTypes[i]}`).join(', ')})`).join(', ')}`, null, 'Try renaming the parameters or the function itself in the database so function overloading can be resolved'));
    }
    const fn = candidates[0]!;
    const readOnly = method !== 'POST' || fn.volatility !== 'v';
    const sql = buildSql(fn, keys);
    // the arguments go in as one JSON literal: the whole call is one message to the database, not five
    const call = takesWholeBody(fn) || keys.length > 0 ? sql.replace('$1', quoteLiteral(JSON.stringify(args))) : sql;
    // PostgREST's per-request settings: role, claims, method, path, search_path, and the statement time-out
    // (the function's own, else the role's)
    const timeout = fn.statementTimeout ?? limits.statementTimeout[role] ?? null;
    const settings = [
      ['search_path', 'public, extensions'], ['role', role], ['request.jwt.claims', JSON.stringify(claims)],
      ['request.method', method], ['request.path', url.pathname], ...(timeout ? [['statement_timeout', timeout]] : []),
    ].map(([k, v]) => `set_config(${quoteLiteral(k!)}, ${quoteLiteral(v!)}, true)`);

    try {
      const statements = [...(readOnly ? ['set transaction read only'] : []), `select ${settings.join(', ')}`, call];
      const result = await opts.executor.script<{ body: string | null; n?: number }>(statements, timeout ? { timeoutMs: durationMs(timeout) } : {});
      if (fn.returnsVoid && !fn.returnsSet) return new Response(null, { status: 204 });
      const row = result[0];
      const body = row?.body ?? 'null';
      const headers: Record<string, string> = { ...JSON_HEADERS };
      if (fn.returnsSet) {
        const n = row?.n ?? 0;
        headers['content-range'] = n > 0 ? `0-${n - 1}/*` : '*/*';
      }
      return new Response(method === 'HEAD' ? null : body, { status: 200, headers });
    } catch (err) {
      return dbError(err as PgError, anonymous);
    }
  }

  function dbError(err: PgError, anonymous: boolean): Response {
    // no SQLSTATE: the driver could not reach the server (ECONNREFUSED, a dropped connection, the pool's time-out);
    // PostgREST answers that with 503 PGRST000/PGRST001, which callers read as "unreachable", not as a bad request
    if (connectionFailure(err)) {
      const body = err.code ? pgrst('PGRST000', 'Could not connect with the database', err.message ?? null) : pgrst('PGRST001', 'Database client error', err.message ?? null);
      return errorResponse(503, body);
    }
    const code = err.code ?? 'XX000';
    const status = httpStatusFor(code, anonymous, err.message ?? '');
    // PostgREST sends the custom status of a PTxyz error but not a meaningless code in the body
    return errorResponse(status, { code, message: err.message ?? 'unknown database error', details: err.detail ?? null, hint: err.hint ?? null });
  }

  return {
    handle,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => handle(new Request(input, init))) as typeof fetch,
    reloadSchema: () => cache.clear(),
  };
}
