import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { romeDay } from '../../bot/time';
import { pgliteDb, postgresDb, type TestDb } from '../support/door';
import { familyWithChild } from '../support/families';

/**
 * child_plan holds its child and its calendar item by triggers, not foreign keys (a key's check per row cost more
 * than writing the row): erasing a child or her family takes her plan, a calendar item renamed or deleted takes
 * its rows along, and a child erased while her plan is being written leaves no plan behind.
 */

const clock = new FakeClock('2026-11-23T08:00:00Z');
const today = romeDay(clock.now());

const plan = (t: TestDb, ids: string[]) =>
  t.sql.query(`select public.care_plan_children($1::uuid[], $2::date, 7, $3::timestamptz)`, [ids, today, clock.now().toISOString()]);
const rowsOf = async (t: TestDb, childId: string) =>
  (await t.sql.query<{ n: number }>(`select count(*)::int as n from public.child_plan where child_id = $1`, [childId]))[0]!.n;
const codes = async (t: TestDb, childId: string) =>
  (await t.sql.query<{ item_code: string }>(`select item_code from public.child_plan where child_id = $1 order by item_code`, [childId])).map((r) => r.item_code);

describe('a child\'s plan and what it belongs to', () => {
  let t: TestDb;
  let kept: string;
  let gone: { family_id: string; child_id: string };
  beforeEach(async () => {
    t = await pgliteDb();
    kept = (await familyWithChild(t, { providerId: '5001', birth: '2026-05-10' })).child_id;
    gone = await familyWithChild(t, { providerId: '5002', birth: '2025-12-01' });
    await plan(t, [kept, gone.child_id]);
  });
  afterEach(() => t.close());

  it.each([
    ['her family is erased', (id: { family_id: string }) => `select public.families_erase('${id.family_id}', now())`],
    ['her family row is deleted', (id: { family_id: string }) => `delete from public.families where id = '${id.family_id}'`],
    ['she is deleted', (id: { child_id: string }) => `delete from public.children where id = '${id.child_id}'`],
  ])('erases a child\'s plan when %s, and no other child\'s', async (_case, statement) => {
    const before = await rowsOf(t, kept);
    expect(before).toBeGreaterThan(20);
    expect(await rowsOf(t, gone.child_id)).toBeGreaterThan(20);
    await t.sql.query(statement(gone));
    expect(await rowsOf(t, gone.child_id)).toBe(0);
    expect(await rowsOf(t, kept)).toBe(before);
  });

  it('moves the plan rows of a calendar item whose code changes, and drops them when the item is deleted', async () => {
    const [item] = await t.sql.query<{ code: string }>(`select item_code as code from public.child_plan where child_id = $1 order by item_code limit 1`, [kept]);
    const renamed = `${item!.code}-x`;
    await t.sql.query(`update public.care_items set code = $2 where code = $1`, [item!.code, renamed]);
    for (const child of [kept, gone.child_id]) {
      const now = await codes(t, child);
      expect(now).toContain(renamed);
      expect(now).not.toContain(item!.code);
    }
    const before = await rowsOf(t, kept);
    await t.sql.query(`delete from public.care_items where code = $1`, [renamed]);
    expect(await codes(t, kept)).not.toContain(renamed);
    expect(await rowsOf(t, kept)).toBe(before - 1);
  });
});

describe('a child erased while her plan is being written, on a real PostgreSQL', () => {
  let t: TestDb & { url: string };
  beforeEach(async () => {
    t = await postgresDb();
  });
  afterEach(() => t.close());

  it('waits for the plan to be stored, then takes it with her', async () => {
    const child = (await familyWithChild(t, { providerId: '5003', birth: '2026-08-01' })).child_id;
    const planner = new pg.Client({ connectionString: t.url });
    const eraser = new pg.Client({ connectionString: t.url });
    await Promise.all([planner.connect(), eraser.connect()]);
    try {
      await planner.query('begin');
      await planner.query(`select public.care_plan_children($1::uuid[], $2::date, 7, $3::timestamptz)`, [[child], today, clock.now().toISOString()]);
      // the erasure waits for the planner, which holds the child as a foreign key's check would
      let erased = false;
      const erasing = eraser.query(`delete from public.children where id = $1`, [child]).then(() => { erased = true; });
      await new Promise((r) => setTimeout(r, 300));
      expect(erased).toBe(false);
      await planner.query('commit');
      await erasing;
      expect(await rowsOf(t, child)).toBe(0);
    } finally {
      await Promise.all([planner.end(), eraser.end()]);
    }
  });
});
