import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../support/door';

/**
 * One write path: while the router and the features decide a message, they only read; what the message
 * changes goes as effects to inbound_finish, in the transaction that stores the replies. Read from the
 * sources (every `db, '<function>'` a deciding file names) and from the database (each function's volatility,
 * and what a volatile one writes). One exception, by design: a staff read of personal data writes its own
 * audit line (`audit_log`), as one operation with the read.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Files that run while a message is decided: the router, the features' flows and staff commands, shared services. */
const DECIDING = /^bot\/(router|core|knowledge)\/|^bot\/features\/[a-z-]+\/(?!job\.ts$|import\.ts$|knowledge-import\.ts$)[\w-]+\.ts$/;
/** Not while deciding: the core's own two calls around the decision, and the jobs' pages. */
const AROUND = new Set(['inbound_begin', 'inbound_finish']);
const AROUND_FILES = new Set(['bot/core/paged.ts']);
/** A number taken from a sequence so the answer can name what the effect creates (N-12, F-7, B-3): no row is written. */
const NUMBERS = new Set(['need_ref_next', 'family_ref_next', 'broadcast_ref_next']);

function decidingCalls(): Map<string, string[]> {
  const calls = new Map<string, string[]>();
  const files = readdirSync(join(ROOT, 'bot'), { recursive: true, encoding: 'utf8' }).map((f) => `bot/${f}`);
  for (const file of files.filter((f) => DECIDING.test(f) && !AROUND_FILES.has(f))) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/\b[\w.]*db,\s*'([a-z_]+)'/g)) {
      if (AROUND.has(m[1]!)) continue;
      calls.set(m[1]!, [...(calls.get(m[1]!) ?? []), file]);
    }
  }
  return calls;
}

describe('one write path', () => {
  let t: TestDb;
  beforeAll(async () => { t = await pgliteDb(); });
  afterAll(async () => { await t?.close(); });

  it('reads the functions the deciding code calls', () => {
    const calls = decidingCalls();
    expect(calls.size).toBeGreaterThan(20);
    expect(calls.get('need_card')).toContain('bot/features/needs/staff.ts');
    expect(calls.has('reminders_enqueue')).toBe(false);
  });

  it('calls only functions that change nothing while deciding, but for the audit line of a staff read', async () => {
    const calls = decidingCalls();
    const names = [...calls.keys()];
    const rows = await t.sql.query<{ proname: string; provolatile: string; def: string }>(
      `select proname, provolatile, pg_get_functiondef(oid) as def from pg_proc where pronamespace = 'public'::regnamespace and prokind = 'f'`);
    const fns = new Map(rows.map((r) => [r.proname, r]));
    expect(names.filter((n) => !fns.has(n)), 'functions that do not exist').toEqual([]);
    /** the tables a function writes, itself or through the public functions it calls */
    const writes = (name: string, seen = new Set<string>()): string[] => {
      if (seen.has(name)) return [];
      seen.add(name);
      const def = fns.get(name)?.def ?? '';
      const direct = [...def.matchAll(/\b(?:insert\s+into|update|delete\s+from)\s+public\.(\w+)/gi)].map((m) => m[1]!);
      const nested = [...def.matchAll(/\bpublic\.(\w+)\s*\(/g)].map((m) => m[1]!).filter((f) => f !== name && fns.has(f));
      return [...direct, ...nested.flatMap((f) => writes(f, seen))];
    };
    const writing = names
      .filter((n) => fns.get(n)!.provolatile === 'v' && !NUMBERS.has(n))
      .map((n) => ({ n, tables: [...new Set(writes(n))].filter((table) => table !== 'audit_log') }))
      .filter((w) => w.tables.length)
      .map((w) => `${w.n} writes ${w.tables.join(', ')} (${calls.get(w.n)!.join(', ')})`);
    expect(writing).toEqual([]);
  });

  it('would see a write while deciding', async () => {
    const [row] = await t.sql.query<{ def: string }>(`select pg_get_functiondef('public.broadcast_cancel(uuid, bigint, timestamptz)'::regprocedure) as def`);
    expect(row!.def).toMatch(/update\s+public\.outbox/i);
  });
});
