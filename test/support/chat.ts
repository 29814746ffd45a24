import { FakeClock } from '../../bot/clock';
import { handleInbound } from '../../bot/app';
import { type CoreDeps } from '../../bot/core/conversation';
import type { Inbound, Reply } from '../../bot/core/types';
import { createTranslator, type Language } from '../../bot/i18n';
import { createLogger } from '../../bot/logger';
import { KnowledgeBase } from '../../bot/knowledge/knowledge';
import type { TestDb } from './door';

export const i18n = createTranslator();

export function coreDeps(t: TestDb, now = '2026-11-23T10:00:00+01:00', extra: Partial<Omit<CoreDeps, 'clock'>> = {}): CoreDeps & { clock: FakeClock } {
  const clock = new FakeClock(now);
  return { db: t.db, i18n, logger: createLogger('silent'), links: { telegramUsername: 'family_bot', whatsappNumber: '+390200000000' }, knowledge: new KnowledgeBase(t.db, clock, 0), ...extra, clock };
}

export interface Person {
  /** sends text (or taps a choice with {choice}) and returns the bot's replies */
  say(text: string): Promise<Reply[]>;
  tap(choiceId: string): Promise<Reply[]>;
  /** taps the choice whose label is the given key's text in her language */
  last: Reply[];
}

let seq = 0;
/** One person chatting with the core, message after message, as a channel would deliver them. */
export function person(deps: CoreDeps, who: { channel?: Inbound['channel']; id: string; hint?: Language }): Person {
  const p: Person = {
    last: [],
    async say(text) {
      return send({ text });
    },
    async tap(choiceId) {
      return send({ choiceId });
    },
  };
  async function send(extra: Partial<Inbound>): Promise<Reply[]> {
    const out = await handleInbound(deps, { channel: who.channel ?? 'telegram', providerId: who.id, providerMessageId: `m${++seq}`, languageHint: who.hint, ...extra });
    p.last = out.replies;
    return out.replies;
  }
  return p;
}

export const texts = (replies: Reply[]) => replies.map((r) => r.text);
export const choiceIds = (replies: Reply[]) => replies.flatMap((r) => r.choices?.map((c) => c.id) ?? []);

/** Plays the dispatcher: every queued message of a channel is claimed and recorded as sent. */
export async function deliverAll(t: TestDb, now = '2026-11-23T10:00:00+01:00'): Promise<number> {
  let sent = 0;
  for (const channel of ['telegram', 'whatsapp']) {
    for (;;) {
      const { data, error } = await t.db.rpc('outbox_claim', { p_worker: 'test', p_channel: channel, p_now: now, p_limit: 100, p_lease_seconds: 60 });
      if (error) throw new Error(error.message);
      const rows = data as { id: number }[];
      if (!rows.length) break;
      for (const r of rows) {
        const rec = await t.db.rpc('outbox_record', { p_id: r.id, p_worker: 'test', p_outcome: 'sent', p_provider_message_id: `p${r.id}`, p_error: null, p_retry_at: null, p_now: now });
        if (rec.error) throw new Error(rec.error.message);
        sent++;
      }
    }
  }
  return sent;
}

/** Every row of the tables that can hold something about a person. */
export async function personalRows(t: TestDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['contacts', 'families', 'children', 'family_assignments', 'media_refs', 'outbox', 'link_codes']) {
    out[table] = (await t.sql.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0]!.n;
  }
  return out;
}

/** A staff member reachable on Telegram chat `chatId`; returns the contact id. */
export async function makeStaff(t: TestDb, role: 'tutor' | 'coordinator', name: string, chatId: string): Promise<string> {
  const [row] = await t.sql.query<{ id: string }>(`
    with s as (insert into public.staff (role, full_name) values ($1, $2) returning id)
    insert into public.contacts (channel, provider_id, language, language_confirmed, consent, consent_source, staff_id)
    select 'telegram', $3, 'it', true, 'given', 'chat', s.id from s returning id`, [role, name, chatId]);
  return row!.id;
}

/** A mother through consent and her first child's birth date, now asked "another child?". */
export async function atAnotherChild(deps: CoreDeps, id: string, lng: Language, channel: 'telegram' | 'whatsapp' = 'telegram') {
  const p = person(deps, { id, hint: lng, channel });
  await p.say('hi');
  await p.tap(`lang:${lng}`);
  await p.tap('consent:yes');
  await p.tap('kind:birth');
  await p.say('Sara');
  await p.say('01/02/2025');
  return p;
}

/** A mother already through consent and the first child. */
export async function registered(deps: CoreDeps, id: string, lng: 'it' | 'en' | 'ar', channel: 'telegram' | 'whatsapp' = 'telegram') {
  const p = await atAnotherChild(deps, id, lng, channel);
  await p.tap('another:no');
  await p.tap('district:milano-2');
  return p;
}
