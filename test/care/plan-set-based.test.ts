import { addDays, format, parseISO } from 'date-fns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DEFAULT_PLAN_RULES, type CareItem } from '../../bot/care/plan';
import { DEFAULT_RULES, reminderMessages, sendTime, type Candidate } from '../../bot/care/reminders';
import { FakeClock } from '../../bot/clock';
import type { SqlExecutor } from '../../bot/db/executor';
import { createTranslator } from '../../bot/i18n';
import { romeDay } from '../../bot/time';
import { CHILDREN_PER_PAGE, planPending } from '../../bot/features/care/job';
import type { Page } from '../../bot/core/paged';
import { serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { copiedMigratedPostgres, freshPglite } from '../support/databases';
import { pendingChildren, planRows, referencePlan, REFERENCE_ENQUEUE_SQL, type PlanRow } from '../support/care-reference';

/**
 * The set-based planner (care_plan_pending / care_plan_children) against today's planner (planChild, stored by
 * plan_store's rules: test/support/care-reference.ts), and the set-based reminders_enqueue against its old
 * per-message loop, on PGlite and on PostgreSQL 15.
 */

const SECRET = 'plan-set-based-secret-0123456789abcdef';
const i18n = createTranslator();
const plusDays = (day: string, n: number) => format(addDays(parseISO(day), n), 'yyyy-MM-dd');
const byKey = (a: PlanRow, b: PlanRow) => (a.child_id + a.code < b.child_id + b.code ? -1 : a.child_id + a.code > b.child_id + b.code ? 1 : 0);
const sorted = (rows: PlanRow[]) => [...rows].sort(byKey);

/** A seeded PRNG (mulberry32): a failure is reproduced by running again. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Kid { family: number; name: string | null; birth: string | null; due: string | null }

/** Families with one to three children each; `kids` in order, family numbers from 1. */
async function seed(sql: SqlExecutor, kids: Kid[]): Promise<string[]> {
  const families = Math.max(...kids.map((k) => k.family));
  await sql.query(`
    with f as (insert into public.families (district_code) select 'milano-' || (1 + g % 9) from generate_series(1, $1::int) g returning id, ref)
    insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
    select 'telegram', (400000000 + f.ref)::text, (array['it', 'ar', 'en', 'uk'])[1 + f.ref % 4], true, 'given', f.id, now() from f`, [families]);
  const rows = await sql.query<{ id: string }>(`
    insert into public.children (family_id, name, birth_date, due_date)
    select f.id, k.name, k.birth, k.due
      from unnest($1::int[], $2::text[], $3::date[], $4::date[]) with ordinality k (family, name, birth, due, n)
      join (select id, row_number() over (order by ref) as family from public.families) f on f.family = k.family
     order by k.n
    returning id`, [kids.map((k) => k.family), kids.map((k) => k.name), kids.map((k) => k.birth), kids.map((k) => k.due)]);
  return rows.map((r) => r.id);
}

/** 1,000 children: born over the last six and a half years, a few not born yet, so every calendar row is due for someone. */
function randomKids(today: string, random: () => number): Kid[] {
  const kids: Kid[] = [];
  let family = 0;
  while (kids.length < 1000) {
    family++;
    const children = random() < 0.75 ? 1 : random() < 0.7 ? 2 : 3;
    for (let c = 0; c < children && kids.length < 1000; c++) {
      if (random() < 0.12) kids.push({ family, name: null, birth: null, due: plusDays(today, Math.floor(random() * 340) - 60) });
      else kids.push({ family, name: `Bimbo ${kids.length}`, birth: plusDays(today, -Math.floor(random() * 2400)), due: null });
    }
  }
  return kids;
}

/** The reference's expectation and the set-based planner's result for what is pending now, planned at `today`. */
async function planBoth(sql: SqlExecutor, db: Db, calendar: CareItem[], today: string, bulk: (db: Db) => Promise<number>) {
  const pending = await pendingChildren(sql);
  const expected = referencePlan(await planRows(sql), pending, calendar, today, DEFAULT_PLAN_RULES);
  const planned = await bulk(db);
  return { pending: pending.length, planned, expected, actual: sorted(await planRows(sql)) };
}

/** The day's messages from the candidates, page by page, each queued by `enqueue`; the outbox rows after. */
async function runDay(db: Db, now: Date, enqueue: (messages: unknown[], nowIso: string) => Promise<number>) {
  const today = romeDay(now);
  let after: string | null = null;
  let queued = 0;
  do {
    const { data, error } = await db.rpc('reminders_candidates', { p_today: today, p_before_days: DEFAULT_RULES.beforeDays, p_followup_days: DEFAULT_RULES.followupDays, p_after: after, p_limit: CHILDREN_PER_PAGE });
    if (error) throw new Error(error.message);
    const page = data as Page<Candidate>;
    const { messages } = reminderMessages(i18n, page.rows, now, today, DEFAULT_RULES);
    for (let i = 0; i < messages.length; i += 500) queued += await enqueue(messages.slice(i, i + 500), now.toISOString());
    after = page.next;
  } while (after);
  return queued;
}

interface Queued { key: string; contact_id: string; channel: string; kind: string; payload: unknown; question: unknown; not_before: string; status: string }
const outbox = (sql: SqlExecutor) => sql.query<Queued>(`select idempotency_key as key, contact_id::text, channel, kind, payload, question, not_before::text, status from public.outbox order by id`);

const databases: [string, () => Promise<{ sql: SqlExecutor; close(): Promise<void> }> | null][] = [
  ['PGlite', async () => { const sql = await freshPglite(); return { sql, close: () => sql.close() }; }],
  ['PostgreSQL 15', inject('pg15Url') ? async () => { const pg = await copiedMigratedPostgres('15'); return { sql: pg.executor, close: pg.close }; } : () => null],
];

describe.each(databases)('set-based care plans on %s', (_name, open) => {
  let sql: SqlExecutor;
  let db: Db;
  let close: () => Promise<void>;
  let calendar: CareItem[];
  let available = true;
  beforeAll(async () => {
    const opened = await open();
    if (!opened) { available = false; return; }
    ({ sql, close } = opened);
    db = supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor: sql, jwtSecret: SECRET }).fetch);
    calendar = (await db.rpc('care_items_list')).data as CareItem[];
  }, 120_000);
  afterAll(async () => { if (available) await close(); });

  it('plans the existing fixtures as today\'s planner does, one child at a time or in bulk', async (ctx) => {
    if (!available) return ctx.skip();
    await sql.query(`delete from public.families`);
    const clock = new FakeClock('2026-11-23T08:00:00Z');
    const today = romeDay(clock.now());
    // the cases of test/care/plan.test.ts: at two months, at 86 days, at 12 and 14 months, on 29 February, a pregnancy
    const ids = await seed(sql, [
      { family: 1, name: 'A', birth: '2026-09-23', due: null },
      { family: 1, name: 'B', birth: '2026-08-29', due: null },
      { family: 2, name: 'C', birth: '2025-09-20', due: null },
      { family: 3, name: 'D', birth: '2025-11-13', due: null },
      { family: 4, name: 'E', birth: '2024-02-29', due: null },
      { family: 5, name: null, birth: null, due: '2027-03-15' },
      { family: 6, name: null, birth: null, due: '2026-11-10' },
      { family: 7, name: 'F', birth: '2026-11-22', due: null },
    ]);
    // one child alone through care_plan_children, the others through the job's pages: the same plans
    const one = async (d: Db) => {
      const { data, error } = await d.rpc('care_plan_children', { p_child_ids: [ids[2]], p_today: today, p_soon_days: DEFAULT_PLAN_RULES.soonDays, p_now: clock.now().toISOString() });
      if (error) throw new Error(error.message);
      return data as number;
    };
    const alone = await planBoth(sql, db, calendar, today, one);
    expect(alone.planned).toBe(1);
    expect(alone.actual).toEqual(alone.expected.filter((r) => r.child_id === ids[2]));
    const rest = await planBoth(sql, db, calendar, today, (d) => planPending(d, today, clock.now().toISOString()));
    expect(rest).toMatchObject({ pending: 7, planned: 7 });
    expect(rest.actual).toEqual(rest.expected);
    expect(rest.actual.filter((r) => r.late_at_registration).length).toBeGreaterThan(10);

    // she says a dose was done late and a birth date is corrected: planned again from what was done
    await sql.query(`update public.child_plan set status = 'done', done_on = '2026-11-20' where child_id = $1 and item_code = 'menb-1'`, [ids[2]]);
    await sql.query(`update public.children set planned_for = null where id = $1`, [ids[2]]);
    await sql.query(`update public.children set birth_date = '2026-09-03' where id = $1`, [ids[0]]);
    const again = await planBoth(sql, db, calendar, plusDays(today, 3), (d) => planPending(d, plusDays(today, 3), clock.now().toISOString()));
    expect(again).toMatchObject({ pending: 2, planned: 2 });
    expect(again.actual).toEqual(again.expected);
    // 60 days after the dose done on 20 November, not at 151 days from the birth
    expect(again.actual.find((r) => r.child_id === ids[2] && r.code === 'menb-2')!.due_on).toBe('2027-01-19');
  }, 120_000);

  it('plans 1,000 random children, and re-plans them after answers and corrections, as today\'s planner does', async (ctx) => {
    if (!available) return ctx.skip();
    await sql.query(`delete from public.families`);
    const random = prng(22);
    const clock = new FakeClock('2026-11-23T06:00:00Z');
    const today = romeDay(clock.now());
    const ids = await seed(sql, randomKids(today, random));
    const first = await planBoth(sql, db, calendar, today, (d) => planPending(d, today, clock.now().toISOString()));
    expect(first).toMatchObject({ pending: 1000, planned: 1000 });
    expect(first.actual.length).toBe(first.expected.length);
    expect(first.actual).toEqual(first.expected);
    // every calendar row is open (due within the week, window not closed) for someone, and in someone's catch-up
    const open = new Set(first.actual.filter((r) => r.due_on <= plusDays(today, 7) && r.window_end >= today).map((r) => r.code));
    expect(calendar.map((i) => i.code).filter((c) => !open.has(c))).toEqual([]);
    expect(new Set(first.actual.filter((r) => r.late_at_registration).map((r) => r.code)).size).toBeGreaterThan(15);

    // a month on: doses done (some late), appointments booked, birth dates corrected, pregnancies born
    const later = plusDays(today, 30);
    const rows = first.actual;
    for (const r of rows) {
      const roll = random();
      if (roll < 0.15) await sql.query(`update public.child_plan set status = 'done', done_on = $3::date, updated_at = now() where child_id = $1 and item_code = $2`, [r.child_id, r.code, plusDays(r.due_on, Math.floor(random() * 90) - 10)]);
      else if (roll < 0.2) await sql.query(`update public.child_plan set status = 'booked', booked_on = $3::date where child_id = $1 and item_code = $2`, [r.child_id, r.code, plusDays(today, 5)]);
    }
    await sql.query(`update public.children set planned_for = null where id in (select distinct child_id from public.child_plan where status = 'done')`);
    for (const id of ids) {
      const roll = random();
      if (roll < 0.05) await sql.query(`update public.children set birth_date = birth_date + $2::int where id = $1 and birth_date is not null`, [id, Math.floor(random() * 41) - 20]);
      else if (roll < 0.1) await sql.query(`update public.children set birth_date = due_date - 3, name = 'Nato' where id = $1 and birth_date is null`, [id]);
    }
    const second = await planBoth(sql, db, calendar, later, (d) => planPending(d, later, clock.now().toISOString()));
    expect(second.pending).toBeGreaterThan(100);
    expect(second.planned).toBe(second.pending);
    expect(second.actual).toEqual(second.expected);
  }, 300_000);

  it('queues the same reminders as the old per-message enqueue over ten days on the random children', async (ctx) => {
    if (!available) return ctx.skip();
    // the plans of the test before; the old enqueue beside the new one
    for (const statement of REFERENCE_ENQUEUE_SQL) await sql.query(statement);
    const days = Array.from({ length: 10 }, (_, d) => new Date(Date.parse('2026-12-23T06:00:00Z') + d * 86_400_000));
    const run = async (enqueue: (messages: unknown[], nowIso: string) => Promise<number>) => {
      await sql.query(`delete from public.outbox`);
      let queued = 0;
      // twice a day: the second run queues nothing new
      for (const now of days) for (const at of [now, new Date(now.getTime() + 4 * 3_600_000)]) queued += await runDay(db, at, enqueue);
      return { queued, rows: await outbox(sql) };
    };
    const old = await run(async (messages, nowIso) => (await sql.query<{ n: number }>(`select care_reference.reminders_enqueue($1::jsonb, $2::timestamptz) as n`, [JSON.stringify(messages), nowIso]))[0]!.n);
    const fresh = await run(async (messages, nowIso) => {
      const { data, error } = await db.rpc('reminders_enqueue', { p_messages: messages, p_now: nowIso });
      if (error) throw new Error(error.message);
      return data as number;
    });
    expect(old.rows.length).toBeGreaterThan(300);
    expect(fresh.queued).toBe(old.queued);
    expect(fresh.queued).toBe(fresh.rows.length);
    expect(fresh.rows.map((r) => r.key)).toEqual(old.rows.map((r) => r.key));
    expect(fresh.rows).toEqual(old.rows);
    // some questions waited for the next free day: the case the loop was for
    const firstDay = sendTime(days[0]!).toISOString();
    expect(fresh.rows.filter((r) => r.question !== null && new Date(r.not_before).toISOString() > firstDay).length).toBeGreaterThan(0);
    expect(new Set(fresh.rows.map((r) => r.key)).size).toBe(fresh.rows.length);
  }, 300_000);
});
