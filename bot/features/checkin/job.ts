/** The check-in's job: families due one are offered it, in the day's hours. */
import type { Language } from '../../i18n';
import { sendTime } from '../../care/reminders';
import { call } from '../../db/rpc';
import { romeDay } from '../../time';
import type { Job } from '../../core/jobs';
import { checkinOffer } from './flow';

/** Every day at 10:00: families due a check-in (every CHECKIN_MONTHS) are offered one; within 09–19 only. */
export const checkins: Job = {
  name: 'checkins',
  schedule: '0 10 * * *',
  description: 'offers the optional check-in to families due one (CHECKIN_MONTHS, default 3; 0 = off)',
  slot: (now) => romeDay(now),
  async run({ db, i18n, config }, now) {
    if (config.checkinMonths === 0) return { off: true, queued: 0 };
    let queued = 0;
    let offered = 0;
    for (;;) {
      const due = await call<{ family_id: string; contact_id: string; language: Language }[]>(db, 'checkins_due', { p_now: now.toISOString(), p_months: config.checkinMonths, p_limit: 500 });
      if (!due.length) break;
      const items = due.map((d) => ({ family_id: d.family_id, contact_id: d.contact_id, key: `checkin:${d.family_id}:${romeDay(now)}:${d.contact_id}`, payload: checkinOffer(i18n.t(d.language)) }));
      queued += await call<number>(db, 'checkins_enqueue', { p_items: items, p_not_before: sendTime(now).toISOString(), p_now: now.toISOString() });
      offered += due.length;
    }
    return { offered, queued };
  },
};
