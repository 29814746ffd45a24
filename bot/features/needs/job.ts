import { format } from 'date-fns';
import type { TFunction } from 'i18next';
import type { Reply } from '../../core/types';
import type { Language } from '../../i18n';
import { call } from '../../db/rpc';

import { familyRef, needRef } from '../../core/format';
import { categoryLabel, needActions, needLine } from '../../core/need-alerts';
import { durationOf } from '../../core/format';
import { inRome, romeDay } from '../../time';
import type { Job } from '../../core/jobs';

/** An urgent need nobody took in charge this long goes to every coordinator. */
export const URGENT_ESCALATION_MINUTES = 30;
/** A need left untaken this long reminds whoever has it. */
export const OPEN_REMINDER_HOURS = 48;

type Recipient = { contact_id: string; language: Language };
export interface Overdue {
  need_id: string;
  ref: number;
  category: string;
  created_at: string;
  /** reminders: since when it waits for whoever has it now */
  assigned_at?: string;
  family_ref: number;
  caller_name: string | null;
  district: string | null;
  assignee: string | null;
  /** her chats that can be reached: the channel, and the number on WhatsApp */
  reach: { channel: 'telegram' | 'whatsapp'; number: string | null }[];
  recipients: Recipient[];
}

/**
 * What staff read about a request nobody took: how long it has waited (a plain span, no "ago"), who she is, how
 * to reach her on each of her channels, and the buttons to take it or answer her.
 */
export function overdueNotice(t: TFunction, n: Overdue, kind: 'urgent' | 'reminder', now: Date): Reply {
  const fields = { need: needRef(n.ref), category: categoryLabel(t, n.category), family: familyRef(n.family_ref) };
  const head = kind === 'urgent'
    ? t('staff.escalationUrgent', { ...fields, duration: durationOf(t, n.created_at, now) })
    : t('staff.reminderOpen', { ...fields, duration: durationOf(t, n.assigned_at ?? n.created_at, now) });
  const who = t('staff.escalationFamily', { family: familyRef(n.family_ref), name: n.caller_name ?? t('staff.noName'), district: n.district ?? t('staff.noDistrict'), assignee: n.assignee ?? t('staff.nobody') });
  const reach = n.reach.map((r) => (r.channel === 'whatsapp' && r.number ? t('staff.reachWhatsApp', { number: r.number }) : t('staff.reachTelegram')));
  const lines = [head, who, ...(reach.length ? reach : [t('staff.reachNone')]), ...(kind === 'urgent' ? [t('staff.escalationAct')] : [])];
  return { text: lines.join('\n'), choices: needActions(t, n.ref, ['take', 'reply']) };
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
      messages: n.recipients.map((r) => ({ contact_id: r.contact_id, key: `need:${n.need_id}:${kind}:${r.contact_id}`, payload: overdueNotice(i18n.t(r.language), n, kind, now) })),
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
