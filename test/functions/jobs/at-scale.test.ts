import { TZDate } from '@date-fns/tz';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { createLogger } from '../../../bot/logger';
import { supabaseLimits } from '../../../bot/db/rpc-transport';
import { calls, FAMILIES_PER_PAGE } from '../../../bot/features/calls/job';
import { CHILDREN_PER_PAGE, reminders } from '../../../bot/features/care/job';
import { i18n } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';

const rome = (day: string, hour: number) => { const [y, m, d] = day.split('-').map(Number); return new Date(new TZDate(y!, m! - 1, d!, hour, 0, 0, 'Europe/Rome').getTime()); };

/** More families than PostgREST's max_rows and than one page of the jobs, each with one child born on `birth`. */
const FAMILIES = Math.max(supabaseLimits().maxRows ?? 0, CHILDREN_PER_PAGE, FAMILIES_PER_PAGE) + 50;

async function seed(t: TestDb, birth: string) {
  await t.sql.query(`
    with f as (insert into public.families (district_code) select 'milano-' || (1 + g % 9) from generate_series(1, $1::int) g returning id, ref)
    , c as (insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
            select 'telegram', (300000000 + f.ref)::text, 'it', true, 'given', f.id, null from f)
    insert into public.children (family_id, name, birth_date) select f.id, 'Bimbo ' || f.ref, $2::date from f`, [FAMILIES, birth]);
}

const deps = (t: TestDb) => ({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n });
const reached = async (t: TestDb, kind: string) =>
  Number((await t.sql.query<{ n: string }>(`select count(distinct contact_id)::text as n from public.outbox where kind = $1`, [kind]))[0]!.n);

describe(`the daily jobs over ${FAMILIES} families, more than one capped result or one page holds`, () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await pgliteDb();
  });
  afterAll(() => t.close());

  it('the reminders job reaches every child due, not the first thousand', async () => {
    await seed(t, '2026-01-10');
    // the first run plans every child; the first item falls due on the same day for all
    await reminders.run(deps(t), rome('2026-01-11', 10));
    const [{ first }] = (await t.sql.query<{ first: string }>(`select min(due_on)::text as first from public.child_plan`)) as [{ first: string }];
    const summary = await reminders.run(deps(t), rome(first, 10));
    expect(summary.planned).toBe(0);
    expect(await reached(t, 'reminder')).toBe(FAMILIES);
  }, 180_000);

  it('the calls job tells every family a call fits, not the first thousand', async () => {
    // 10 months old when the nido call opens (seed: nido-2027, 3 to 24 February 2027)
    await t.sql.query(`delete from public.outbox`);
    await t.sql.query(`update public.children set birth_date = '2026-04-10'`);
    const summary = await calls.run(deps(t), rome('2027-02-03', 10));
    expect(summary.fitting).toBeGreaterThanOrEqual(FAMILIES);
    expect(await reached(t, 'call_notice')).toBe(FAMILIES);
  }, 180_000);
});
