import { countsText, renderAll, type BroadcastCounts, type Texts } from './service';
import { call } from '../../db/rpc';
import { romeDay } from '../../time';
import type { Job } from '../../core/jobs';

const BROADCASTS_PER_RUN = 20;

interface DueBroadcast {
  id: string;
  ref: number;
  texts: Texts;
}

interface Finishing {
  id: string;
  ref: number;
  counts: BroadcastCounts;
  contacts: { contact_id: string; language: string }[];
}

/**
 * Every minute: releases the broadcasts whose time has come (audience fixed, one outbox row per person, in
 * one transaction), and tells each creator when hers has nothing left to send.
 */
export const broadcasts: Job = {
  name: 'broadcasts',
  schedule: '* * * * *',
  description: 'queues the broadcasts whose time has come and reports to the coordinator when one is done (every minute)',
  slot: (now) => now.toISOString().slice(0, 16),
  async run({ db, i18n }, now) {
    const nowIso = now.toISOString();
    // a few at a time (each release is a call of its own); any left are taken next minute
    const due = await call<DueBroadcast[]>(db, 'broadcasts_due', { p_now: nowIso, p_limit: BROADCASTS_PER_RUN });
    const released: { ref: number; queued: number; skipped: number }[] = [];
    for (const b of due) {
      const out = await call<{ ref: number; queued: number; skipped: number } | null>(db, 'broadcast_release', {
        p_id: b.id,
        p_messages: renderAll(i18n, b.texts),
        p_today: romeDay(now),
        p_now: nowIso,
      });
      if (out) released.push(out);
    }
    const finishing = await call<Finishing[]>(db, 'broadcasts_finishing', {});
    let done = 0;
    for (const f of finishing) {
      const messages = f.contacts.map((c) => ({ contact_id: c.contact_id, payload: { text: countsText(i18n, c.language, f.ref, f.counts) } }));
      if (await call<boolean>(db, 'broadcast_done', { p_id: f.id, p_messages: messages, p_now: nowIso })) done++;
    }
    return { released, done };
  },
};
