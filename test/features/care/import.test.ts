import { describe, expect, it } from 'vitest';
import { itemLabel } from '../../../bot/care/reminders';
import { createTranslator } from '../../../bot/i18n';
import { parseCalendarCsv } from '../../../bot/features/care/import';
import { createLogger } from '../../../bot/logger';
import { loadConfig } from '../../../bot/config';
import { reminders } from '../../../bot/features/care/job';
import { pgliteDb } from '../../support/door';
import { familyWithChild } from '../../support/families';

const HEADER = 'code,kind,group_key,dose,name_it,offset_months,offset_days,window_days,min_gap_days,mandatory,verified,source,checked_on';
const i18n = createTranslator();

describe('the calendar a coordinator edits', () => {
  it('refuses bad rows with their line and reason', () => {
    const out = parseCalendarCsv([
      HEADER,
      'hexa-1,vaccine,hexa,1,Esavalente 1ª dose,0,65,30,,yes,yes,ATS Milano,2026-11-20',
      'Hexa 2,shot,hexa,x,,0,121,999,0,maybe,yes,,2026-02-30',
      'hexa-1,vaccine,hexa,1,again,0,61,30,,yes,yes,x,2026-11-20',
    ].join('\n'));
    expect(out.rows).toHaveLength(1);
    expect(out.errors).toEqual([
      { line: 3, reason: expect.stringMatching(/^code "Hexa 2" must be .*; kind "shot" must be .*; dose "x" must be 1–9; name_it is required; window_days "999" must be 0–730; min_gap_days "0" must be .*; mandatory, verified and active must be yes, no or empty; source is required.*; checked_on "2026-02-30" must be a date YYYY-MM-DD$/) },
      { line: 4, reason: 'code hexa-1 is already on line 2' },
    ]);
  });

  it('changes a row and adds a regional variant without code: children are planned again, a new group shows its Italian name', async () => {
    const t = await pgliteDb();
    try {
      const { child_id } = await familyWithChild(t, { providerId: '1001', birth: '2026-09-20' });
      const run = (iso: string) => reminders.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, new Date(iso));
      await run('2026-11-23T08:00:00Z');
      const due = async (code: string) => (await t.sql.query<{ d: string }>(`select due_on::text as d from public.child_plan where child_id = $1 and item_code = $2`, [child_id, code]))[0]?.d;
      expect(await due('hexa-2')).toBe('2027-01-19');

      const { rows } = parseCalendarCsv([
        HEADER,
        'hexa-2,vaccine,hexa,2,Esavalente 2ª dose (variante ATS),0,125,30,,yes,yes,ATS Milano circolare 2026,2026-11-23',
        'rsv-1,vaccine,rsv,1,Anticorpo monoclonale RSV (nirsevimab),0,0,30,,no,no,DGR Lombardia RSV,2026-11-23',
      ].join('\n'));
      const result = await t.db.rpc('care_items_upsert', { p_items: rows, p_now: '2026-11-23T09:00:00Z' });
      expect(result.data).toEqual({ added: 1, updated: 1, unchanged: 0 });
      const again = await t.db.rpc('care_items_upsert', { p_items: rows, p_now: '2026-11-23T09:05:00Z' });
      expect(again.data).toEqual({ added: 0, updated: 0, unchanged: 2 });

      await run('2026-11-23T10:00:00Z');
      expect(await due('hexa-2')).toBe('2027-01-23');
      expect(await due('rsv-1')).toBe('2026-09-20');
      expect(itemLabel(i18n.t('ar'), { group_key: 'rsv', dose: 1, name_it: 'Anticorpo monoclonale RSV (nirsevimab)' })).toBe('\u2066Anticorpo monoclonale RSV (nirsevimab)\u2069'); // isolated in Arabic text
    } finally {
      await t.close();
    }
  });
});
