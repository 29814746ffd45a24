import { differenceInCalendarDays, parseISO } from 'date-fns';
import { sendTime, type QueuedMessage } from '../../care/reminders';
import { call } from '../../db/rpc';
import { noticeReply } from './flow';
import { isLanguage, type Translator } from '../../i18n';
import { romeDay } from '../../time';
import { queuePages, type Page } from '../../core/paged';
import type { Job } from '../../core/jobs';

/** families per page of call notices: each page is one short call, whatever the programme's size */
export const FAMILIES_PER_PAGE = 1000;

/** One open dated call that fits a family which has not applied, as calls_notices_due() returns it. */
export interface CallNoticeRow {
  call_id: string;
  code: string;
  kind: string;
  title_it: string;
  closes_on: string;
  family_id: string;
  following: boolean;
  contacts: { contact_id: string; language: string }[];
}

export type CallStage = 'open' | 'close7' | 'close1';

/** The notices a row calls for today: "now open" unless she already follows it; 7 and 1 days before it closes if she does. */
export function callStages(row: Pick<CallNoticeRow, 'closes_on' | 'following'>, today: string): CallStage[] {
  const left = differenceInCalendarDays(parseISO(row.closes_on), parseISO(today));
  if (!row.following) return ['open'];
  if (left <= 1) return ['close1'];
  if (left <= 7) return ['close7'];
  return [];
}

/** Every notice, once per call, stage and contact by its key; sent inside the send window. */
export function callNoticeMessages(i18n: Translator, rows: CallNoticeRow[], now: Date, today: string): { messages: QueuedMessage[]; stages: Record<string, number> } {
  const notBefore = sendTime(now).toISOString();
  const messages: QueuedMessage[] = [];
  const stages: Record<string, number> = {};
  for (const row of rows) {
    for (const stage of callStages(row, today)) {
      for (const to of row.contacts) {
        const lng = isLanguage(to.language) ? to.language : 'it';
        const t = i18n.t(lng);
        const reply = noticeReply(t, lng, row, stage, today);
        messages.push({
          contact_id: to.contact_id,
          key: `call:${row.call_id}:${stage}:${to.contact_id}`,
          kind: 'call_notice',
          // title and date feed the WhatsApp template outside the 24-hour window
          payload: { ...reply, title: t(`calls.kind.${row.kind}.name`), date: row.closes_on },
          not_before: notBefore,
          question: { step: 'menu', offered: reply.choices! },
        });
        stages[stage] = (stages[stage] ?? 0) + 1;
      }
    }
  }
  return { messages, stages };
}

/**
 * Daily at 09:00: tells each family about the open calls that fit it (once), and reminds those who follow a
 * call 7 days and 1 day before it closes, until they say they applied. Keys make a second run queue nothing.
 */
export const calls: Job = {
  name: 'calls',
  schedule: '0 9 * * *',
  description: 'tells families about open nido and housing calls that fit them, and reminds followers before they close (09:00 Rome)',
  slot: (now) => romeDay(now),
  async run({ db, i18n }, now) {
    const today = romeDay(now);
    const nowIso = now.toISOString();
    const out = await queuePages(
      db,
      nowIso,
      (after) => call<Page<CallNoticeRow>>(db, 'calls_notices_due', { p_today: today, p_after: after, p_limit: FAMILIES_PER_PAGE }),
      (rows) => callNoticeMessages(i18n, rows, now, today),
    );
    // ids only: no names or texts in the summary
    return { today, fitting: out.rows, messages: out.messages, queued: out.queued, stages: out.stages, send_from: out.sendFrom };
  },
};
