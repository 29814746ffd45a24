import { FakeClock } from '../../bot/clock';
import { handleInbound, type CoreDeps } from '../../bot/core/conversation';
import type { Inbound, Reply } from '../../bot/core/types';
import { createTranslator, type Language } from '../../bot/i18n';
import { createLogger } from '../../bot/logger';
import type { TestDb } from './door';

export const i18n = createTranslator();

export function coreDeps(t: TestDb, now = '2026-11-23T10:00:00+01:00', extra: Partial<Omit<CoreDeps, 'clock'>> = {}): CoreDeps & { clock: FakeClock } {
  return { db: t.db, i18n, logger: createLogger('silent'), links: { telegramUsername: 'family_bot', whatsappNumber: '+390200000000' }, ...extra, clock: new FakeClock(now) };
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
