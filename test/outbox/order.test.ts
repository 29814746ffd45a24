import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bot/config';
import { createTranslator } from '../../bot/i18n';
import { createLogger } from '../../bot/logger';
import { reminders } from '../../bot/features/care/job';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild } from '../support/families';
import { whatsappStack } from '../support/whatsapp-stack';

const i18n = createTranslator();
const it_ = i18n.t('it');
const PHONE = '+393331234567';

interface Claimed { id: number; kind: string; payload: { text: string; choices?: unknown[] } }
const claim = async (t: TestDb, now: string) => {
  const { data, error } = await t.db.rpc('outbox_claim', { p_worker: 'w', p_channel: 'whatsapp', p_now: now, p_limit: 50, p_lease_seconds: 60 });
  if (error) throw new Error(error.message);
  return data as Claimed[];
};
const record = async (t: TestDb, id: number, now: string, outcome: 'sent' | 'retry' = 'sent', retryAt: string | null = null) => {
  const { error } = await t.db.rpc('outbox_record', { p_id: id, p_worker: 'w', p_outcome: outcome, p_provider_message_id: outcome === 'sent' ? `SM${id}` : null, p_error: outcome === 'sent' ? null : '503', p_retry_at: retryAt, p_now: now });
  if (error) throw new Error(error.message);
};
const queue = (t: TestDb, contactId: string, key: string, kind: string, priority: number, payload: object, notBefore: string) =>
  t.sql.query(`insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before) values ($1, $2, 'whatsapp', $3, $4, $5, $6)`, [key, contactId, kind, priority, JSON.stringify(payload), notBefore]);

describe('a chat is ordered only among what is due', () => {
  let t: TestDb | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it.each([
    ['a reminder scheduled for later', 'pending', '2026-11-23T09:00:00Z'],
    ['a message waiting out a retry back-off of an hour', 'backoff', '2026-11-23T08:07:00Z'],
    ['a message held for WhatsApp’s window', 'held', '2026-11-23T07:00:00Z'],
  ])('%s does not hold back the reply to what she just wrote', async (_what, state, notBefore) => {
    t = await pgliteDb();
    const { contact_id } = await familyWithChild(t, { providerId: PHONE, channel: 'whatsapp', birth: '2026-09-23' });
    await queue(t, contact_id, 'later', 'reminder', 5, { text: 'later' }, state === 'pending' ? notBefore : '2026-11-23T07:00:00Z');
    if (state === 'backoff') {
      const [first] = await claim(t, '2026-11-23T07:00:00Z');
      await record(t, first!.id, '2026-11-23T07:00:00Z', 'retry', notBefore);
    }
    if (state === 'held') await t.sql.query(`update public.outbox set status = 'held' where idempotency_key = 'later'`);
    await queue(t, contact_id, 'reply', 'reply', 0, { text: 'the menu' }, '2026-11-23T07:07:00Z');
    expect((await claim(t, '2026-11-23T07:07:01Z')).map((r) => r.payload.text)).toEqual(['the menu']);
  });

  it('sends what is due in order of age, one message of a chat at a time', async () => {
    t = await pgliteDb();
    const { contact_id } = await familyWithChild(t, { providerId: PHONE, channel: 'whatsapp', birth: '2026-09-23' });
    await queue(t, contact_id, 'r1', 'reminder', 5, { text: 'reminder 1' }, '2026-11-23T08:00:00Z');
    await queue(t, contact_id, 'r2', 'reminder', 5, { text: 'reminder 2' }, '2026-11-23T08:00:00Z');
    await queue(t, contact_id, 'reply', 'reply', 0, { text: 'reply' }, '2026-11-23T08:00:05Z');
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      const rows = await claim(t, '2026-11-23T08:00:10Z');
      expect(rows.length).toBeLessThanOrEqual(1);
      if (!rows.length) break;
      order.push(rows[0]!.payload.text);
      await record(t, rows[0]!.id, '2026-11-23T08:00:10Z');
    }
    expect(order).toEqual(['reminder 1', 'reminder 2', 'reply']);
  });

  it('sends an older menu without its choices when a newer one is waiting, so a number answers the last question she saw', async () => {
    t = await pgliteDb();
    const { contact_id } = await familyWithChild(t, { providerId: PHONE, channel: 'whatsapp', birth: '2026-09-23' });
    const choices = [{ id: 'a', label: 'A' }];
    await queue(t, contact_id, 'm1', 'reply', 0, { text: 'first menu', choices }, '2026-11-23T08:00:00Z');
    await queue(t, contact_id, 'm2', 'reply', 0, { text: 'second menu', choices }, '2026-11-23T08:00:01Z');
    const [first] = await claim(t, '2026-11-23T08:00:02Z');
    expect(first!.payload).toEqual({ text: 'first menu' });
    await record(t, first!.id, '2026-11-23T08:00:02Z');
    const [second] = await claim(t, '2026-11-23T08:00:02Z');
    expect(second!.payload).toEqual({ text: 'second menu', choices });
  });
});

describe('a scheduled reminder and her chat, through the Twilio SDK and the WhatsApp emulator', () => {
  let t: TestDb | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('queued at 08:06 for 09:00, her "menu" at 08:07 is answered at once; at 09:00 the reminder arrives and her "1" answers it', async () => {
    t = await pgliteDb();
    // 08:06 in Rome; her 2-month vaccinations are due this week
    const stack = await whatsappStack(t, '2026-11-23T07:06:00Z');
    try {
      const { child_id } = await familyWithChild(t, { providerId: PHONE, channel: 'whatsapp', birth: '2026-09-23', lastInboundAt: '2026-11-23T06:00:00Z' });
      const job = await reminders.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, stack.clock.now());
      expect(job.queued).toBeGreaterThan(0);
      const [{ n: waiting }] = await t.sql.query<{ n: number }>(`select count(*)::int as n from public.outbox where kind = 'reminder' and not_before = '2026-11-23T08:00:00Z'`) as [{ n: number }];
      expect(waiting).toBeGreaterThan(0);

      stack.clock.advance(60_000);
      await stack.emulator.userSends(PHONE, { body: 'menu' });
      await stack.flush();
      const early = stack.emulator.messagesTo(PHONE).map((m) => m.body ?? '');
      expect(early).toHaveLength(1);
      expect(early[0]).toContain(it_('menu.title'));

      stack.clock.set('2026-11-23T08:00:00Z');
      await stack.flush();
      const atNine = stack.emulator.messagesTo(PHONE).slice(1).map((m) => m.body ?? '');
      expect(atNine).toHaveLength(waiting);
      const question = atNine.findLast((b) => b.includes(`1. ${it_('care.answerDone')}`));
      expect(question).toBeDefined();

      await stack.emulator.userSends(PHONE, { body: '1' });
      await stack.flush();
      const answer = stack.emulator.messagesTo(PHONE).slice(1 + waiting).map((m) => m.body ?? '');
      expect(answer[0]).toContain(it_('care.askDoneDate', { example: '23/08/2026' }));
      const [state] = await t.sql.query<{ child: string }>(`select conversation->>'childId' as child from public.contacts where provider_id = $1`, [PHONE]);
      expect(state!.child).toBe(child_id);
    } finally {
      await stack.close();
    }
  });
});
