import { serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import type { TestDb } from './door';

const SECRET = 'cuttable-secret-0123456789abcdef012345678';

/** How the data door fails while cut: no answer at all (what supabase-js reports as `TypeError: fetch failed`) or PostgREST's 503. */
export type Cut = 'refused' | '503' | 'hang';

/**
 * supabase-js over the embedded transport of `t`, with a switch in the wire: `cut()` makes every rpc fail the way an
 * unreachable database does, `restore()` lets them through again. Counts the rpc calls by function.
 */
export function cuttableDb(t: TestDb) {
  const transport = createRpcTransport({ executor: t.sql, jwtSecret: SECRET });
  let cut: Cut | null = null;
  const hung: (() => void)[] = [];
  const calls = new Map<string, number>();
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const fn = /\/rpc\/([^/?]+)/.exec(String(input instanceof Request ? input.url : input))?.[1] ?? '?';
    calls.set(fn, (calls.get(fn) ?? 0) + 1);
    if (cut === 'hang') await new Promise<void>((resolve) => hung.push(resolve));
    if (cut === 'refused') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }) });
    if (cut === '503') {
      return new Response(JSON.stringify({ code: 'PGRST000', message: 'Could not connect with the database due to an incorrect db-uri or due to the PostgreSQL service not running.', details: null, hint: null }), { status: 503, headers: { 'content-type': 'application/json' } });
    }
    return transport.fetch(input, init);
  }) as typeof fetch;
  const db: Db = supabaseClient('http://embedded.local', serviceKey(SECRET), fetchImpl);
  return {
    db,
    calls,
    get isCut() {
      return cut !== null;
    },
    cut(how: Cut = 'refused') {
      cut = how;
    },
    restore() {
      cut = null;
      hung.splice(0).forEach((go) => go());
    },
  };
}
