import { format } from 'date-fns';
import type { Language } from '../../bot/i18n';
import { sendTime } from '../../bot/care/reminders';
import { call } from '../../bot/flows/context';
import { checkinOffer } from '../../bot/flows/checkin';
import { familyRef, needRef } from '../../bot/flows/format';
import { categoryLabel } from '../../bot/flows/need-alerts';
import { ageOf, needLine } from '../../bot/flows/tutor';
import { inRome, romeDay } from '../../bot/time';
import type { Job } from './types';

/** An urgent need nobody took in charge this long goes to every coordinator. */
export const URGENT_ESCALATION_MINUTES = 30;
/** A need left untaken this long reminds whoever has it. */
export const OPEN_REMINDER_HOURS = 48;

type Recipient = { contact_id: string; language: Language };
interface Overdue {
  need_id: string;
  ref: number;
  category: string;
  created_at: string;
  family_ref: number;
  district: string | null;
  assignee?: string | null;
  recipients: Recipient[];
}

/**
 * Every five minutes: urgent needs untaken after 30 minutes go to every coordinator, day or night; other needs
 * untaken after 48 hours remind their tutor. Each need escalates once (marked in the same transaction).
 */
export const escalations: Job = {
  name: 'escalations',
  schedule: '*/5 * * * *',
  description: 'urgent needs untaken for 30 minutes → every coordinator; other needs untaken for 48 hours → a reminder to the tutor',
  slot: (now) => {
    const rome = inRome(now);
    return `${format(rome, "yyyy-MM-dd'T'HH")}:${String(Math.floor(rome.getMinutes() / 5) * 5).padStart(2, '0')}`;
  },
  async run({ db, i18n }, now) {
    const overdue = await call<{ urgent: Overdue[]; reminders: Overdue[] }>(db, 'needs_overdue', { p_now: now.toISOString(), p_urgent_minutes: URGENT_ESCALATION_MINUTES, p_remind_hours: OPEN_REMINDER_HOURS });
    const item = (n: Overdue, kind: 'urgent' | 'reminder') => ({
      need_id: n.need_id,
      kind,
      messages: n.recipients.map((r) => {
        const t = i18n.t(r.language);
        const fields = { need: needRef(n.ref), age: ageOf(t, n.created_at, now), category: categoryLabel(t, n.category), family: familyRef(n.family_ref), district: n.district ?? t('staff.noDistrict'), assignee: n.assignee ?? t('staff.nobody') };
        return { contact_id: r.contact_id, key: `need:${n.need_id}:${kind}:${r.contact_id}`, text: t(kind === 'urgent' ? 'staff.escalationUrgent' : 'staff.reminderOpen', fields) };
      }),
    });
    const items = [...overdue.urgent.map((n) => item(n, 'urgent')), ...overdue.reminders.map((n) => item(n, 'reminder'))];
    if (items.length) await call<number>(db, 'needs_escalate', { p_items: items, p_now: now.toISOString() });
    return { urgent_escalated: overdue.urgent.length, reminders: overdue.reminders.length, messages: items.reduce((n, i) => n + i.messages.length, 0) };
  },
};

interface DigestRow {
  staff_id: string;
  contacts: Recipient[];
  needs: { ref: number; category: string; urgency: string; status: string; created_at: string; family_ref: number; caller_name: string | null }[];
}

/** Each morning, every tutor's open needs, oldest first (coordinators: those with nobody assigned). */
export const needsDigest: Job = {
  name: 'needs-digest',
  schedule: '30 8 * * *',
  description: "each staff member's open needs, oldest first, every morning at 08:30",
  slot: (now) => romeDay(now),
  async run({ db, i18n }, now) {
    const rows = await call<DigestRow[]>(db, 'needs_digest', {});
    const day = romeDay(now);
    const messages = rows.flatMap((row) => row.contacts.map((c) => {
      const t = i18n.t(c.language);
      const text = [t('staff.digestHead', { count: row.needs.length }), ...row.needs.map((n) => needLine(t, { ...n, kind: 'need', assignee: null }, now))].join('\n');
      return { contact_id: c.contact_id, key: `digest:${day}:${c.contact_id}`, text };
    }));
    if (messages.length) await call<number>(db, 'needs_escalate', { p_items: [{ need_id: null, kind: 'digest', messages }], p_now: now.toISOString() });
    return { staff: rows.length, needs: rows.reduce((n, r) => n + r.needs.length, 0), messages: messages.length };
  },
};

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
