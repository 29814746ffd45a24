import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWhatsAppChannel, type WhatsAppChannel } from '../../bot/channels/whatsapp';
import type { ChannelSender, OutboundMessage, SendOutcome } from '../../bot/channels/types';
import { FakeClock } from '../../bot/clock';
import { createTwilioEmulator, type TwilioEmulator } from '../../bot/local/twilio-emulator';
import { createLogger } from '../../bot/logger';
import { Dispatcher } from '../../bot/outbox/dispatcher';
import { postgresDb, type TestDb } from '../support/door';
import { until } from '../support/two-channel-stack';

const SID = `AC${'1'.repeat(32)}`;
const TOKEN = 'dispatcher-test-token-0123456789';
const FROM = 'whatsapp:+390200000001';
const logger = createLogger('silent');

interface Harness {
  t: TestDb & { client(): import('../../bot/db/client').Db };
  emulator: TwilioEmulator;
  apiBase: string;
  close(): Promise<void>;
}

async function harness(opts: { messagesPerSecond?: number } = {}): Promise<Harness> {
  const t = await postgresDb();
  const emulator = createTwilioEmulator({ accountSid: SID, authToken: TOKEN, senders: [FROM], messagesPerSecond: opts.messagesPerSecond ?? 1000, deliveryDelayMs: 1 });
  const served = await emulator.listen();
  return { t, emulator, apiBase: served.apiBase, close: async () => { await emulator.close(); await served.close(); await t.close(); } };
}

const whatsapp = (apiBase: string) => createWhatsAppChannel({ accountSid: SID, authToken: TOKEN, from: FROM, apiBase, choiceHint: () => 'Reply with the number.' });

/** Contacts who wrote `lastInboundAt`, each with `perContact` messages queued in order. */
async function seed(t: TestDb, contacts: number, perContact: number, lastInboundAt: string | null, kind = 'notice', priority = 5, first = 0) {
  const numbers: string[] = [];
  for (let c = first; c < first + contacts; c++) {
    const number = `+39333${String(1_000_000 + c).padStart(7, '0')}`;
    numbers.push(number);
    const [row] = await t.sql.query<{ id: string }>(`insert into public.contacts (channel, provider_id, language, last_inbound_at) values ('whatsapp', $1, 'it', $2) returning id`, [number, lastInboundAt]);
    for (let m = 0; m < perContact; m++) {
      await t.db.rpc('outbox_enqueue', { p_contact_id: row!.id, p_idempotency_key: `${kind}:${number}:${m}`, p_kind: kind, p_priority: priority, p_payload: { text: `message ${m}` }, p_not_before: '2026-01-01T00:00:00Z' });
    }
  }
  return numbers;
}

const statuses = (t: TestDb) => t.sql.query<{ status: string; n: number }>('select status, count(*)::int as n from public.outbox group by status order by status');

describe('the outbox dispatcher, on a real multi-connection PostgreSQL', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('two dispatchers over the same outbox send every message exactly once, in order per chat', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const numbers = await seed(h.t, 40, 5, '2026-11-23T09:00:00Z');
    const make = (id: string) => new Dispatcher({ db: h.t.client(), sender: whatsapp(h.apiBase), clock, logger, workerId: id, batchSize: 7, sleep: async (ms) => clock.advance(ms) });
    const a = make('a');
    const b = make('b');
    for (let round = 0; round < 100; round++) {
      const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
      if (ra.claimed + rb.claimed === 0) break;
    }
    await h.emulator.settle();
    expect(await statuses(h.t)).toEqual([{ status: 'sent', n: 200 }]);
    for (const n of numbers) {
      expect(h.emulator.messagesTo(n).map((m) => m.body)).toEqual(['message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
    }
  });

  it('loses nothing when a dispatcher dies between the provider\'s answer and recording it', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const [number] = await seed(h.t, 1, 2, '2026-11-23T09:00:00Z');
    const real = whatsapp(h.apiBase);
    // sends for real, then the process "dies": the row stays 'sending' with its lease
    const dying: ChannelSender = { channel: 'whatsapp', limits: real.limits, send: async (m: OutboundMessage, now: Date): Promise<SendOutcome> => { await real.send(m, now); throw new Error('killed'); } };
    await expect(new Dispatcher({ db: h.t.db, sender: dying, clock, logger, workerId: 'dies', leaseSeconds: 30 }).runOnce()).rejects.toThrow('killed');
    expect(await statuses(h.t)).toEqual([{ status: 'pending', n: 1 }, { status: 'sending', n: 1 }]);

    const survivor = new Dispatcher({ db: h.t.db, sender: real, clock, logger, workerId: 'survivor', sleep: async (ms) => clock.advance(ms) });
    expect((await survivor.runOnce()).claimed).toBe(0); // the lease still holds: nobody sends it twice meanwhile, nor the next one out of order
    clock.advance(31_000);
    for (let i = 0; i < 3; i++) await survivor.runOnce();
    await h.emulator.settle();
    expect(await statuses(h.t)).toEqual([{ status: 'sent', n: 2 }]);
    // at-least-once at exactly this boundary: the first message went twice, the second once, in order
    expect(h.emulator.messagesTo(number!).map((m) => m.body)).toEqual(['message 0', 'message 0', 'message 1']);
  });

  it('does not send a broadcast twice when its dispatcher died mid-send: it fails as interrupted and is reported', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const [number] = await seed(h.t, 1, 1, '2026-11-23T09:00:00Z', 'broadcast', 8);
    const real = whatsapp(h.apiBase);
    const dying: ChannelSender = { channel: 'whatsapp', limits: real.limits, send: async (m: OutboundMessage, now: Date): Promise<SendOutcome> => { await real.send(m, now); throw new Error('killed'); } };
    await expect(new Dispatcher({ db: h.t.db, sender: dying, clock, logger, workerId: 'dies', leaseSeconds: 30 }).runOnce()).rejects.toThrow('killed');
    const survivor = new Dispatcher({ db: h.t.db, sender: real, clock, logger, workerId: 'survivor', sleep: async (ms) => clock.advance(ms) });
    clock.advance(31_000);
    for (let i = 0; i < 3; i++) await survivor.runOnce();
    await h.emulator.settle();
    expect(h.emulator.messagesTo(number!)).toHaveLength(1);
    expect(await h.t.sql.query(`select status, error from public.outbox`)).toEqual([{ status: 'failed', error: 'interrupted while sending: not sent again, it may have arrived' }]);
  });

  it('marks an opted-out number unreachable, does not retry, and stops her queue', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const [number] = await seed(h.t, 1, 3, '2026-11-23T09:00:00Z');
    h.emulator.optOut(number!);
    const d = new Dispatcher({ db: h.t.db, sender: whatsapp(h.apiBase), clock, logger, sleep: async (ms) => clock.advance(ms) });
    const round = await d.runOnce();
    expect(round.outcomes.contact_gone).toBe(1);
    clock.advance(3_600_000);
    expect((await d.runOnce()).claimed).toBe(0);
    const [contact] = await h.t.sql.query<{ status: string; unreachable_reason: string }>('select status, unreachable_reason from public.contacts');
    expect(contact).toEqual({ status: 'unreachable', unreachable_reason: expect.stringContaining('21610') });
    expect(await statuses(h.t)).toEqual([{ status: 'failed', n: 3 }]);
    expect(h.emulator.stats().created).toBe(0);
  });

  it('retries 429 and 5xx with back-off until the message goes, once', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const [number] = await seed(h.t, 1, 1, '2026-11-23T09:00:00Z');
    h.emulator.inject({ kind: '429', count: 1 });
    h.emulator.inject({ kind: '5xx', count: 1, status: 503 });
    const d = new Dispatcher({ db: h.t.db, sender: whatsapp(h.apiBase), clock, logger, sleep: async (ms) => clock.advance(ms) });
    expect((await d.runOnce()).outcomes.retry).toBe(1);
    expect((await d.runOnce()).claimed).toBe(0); // backing off
    clock.advance(3_000);
    expect((await d.runOnce()).outcomes.retry).toBe(1);
    clock.advance(6_000);
    expect((await d.runOnce()).outcomes.sent).toBe(1);
    await h.emulator.settle();
    expect(h.emulator.messagesTo(number!)).toHaveLength(1);
  });

  it('keeps sending to everyone else while one send hangs, and sends that one once it comes back', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const numbers = await seed(h.t, 12, 1, '2026-11-23T09:00:00Z');
    const wa = whatsapp(h.apiBase);
    let release!: () => void;
    const back = new Promise<void>((resolve) => (release = resolve));
    // her send hangs (a slow upload, a provider that does not answer): the others must not wait for it
    const hanging: ChannelSender = { channel: wa.channel, limits: wa.limits, paceKey: wa.paceKey, send: async (m, now) => { if (m.providerId === numbers[0]) await back; return wa.send(m, now); } };
    const d = new Dispatcher({ db: h.t.client(), sender: hanging, clock, logger, batchSize: 3, concurrency: 2, idleMs: 20, sleep: async (ms) => clock.advance(ms) });
    d.start();
    try {
      await until(async () => (await statuses(h.t)).find((s) => s.status === 'sent')?.n === 11);
      expect(h.emulator.messagesTo(numbers[0]!)).toHaveLength(0);
    } finally {
      release();
      await d.stop();
    }
    await h.emulator.settle();
    expect(await statuses(h.t)).toEqual([{ status: 'sent', n: 12 }]);
    expect(numbers.map((n) => h.emulator.messagesTo(n).length)).toEqual(numbers.map(() => 1));
  });

  it('sends replies to people who just wrote before bulk', async () => {
    h = await harness();
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    await seed(h.t, 5, 1, '2026-11-23T09:00:00Z', 'notice', 5);
    const [replyTo] = await seed(h.t, 1, 1, '2026-11-23T09:59:00Z', 'reply', 0, 100);
    const d = new Dispatcher({ db: h.t.db, sender: whatsapp(h.apiBase), clock, logger, batchSize: 1, sleep: async (ms) => clock.advance(ms) });
    await d.runOnce();
    await h.emulator.settle();
    expect(h.emulator.messagesTo(replyTo!)).toHaveLength(1);
    expect(h.emulator.stats().created).toBe(1);
  });
});

describe('WhatsApp\'s 24-hour window', () => {
  let h: Harness;
  let channel: WhatsAppChannel;
  beforeAll(async () => {
    h = await harness();
    channel = whatsapp(h.apiBase);
  });
  afterAll(() => h.close());

  it('holds a message with no template outside the window, and sends it as a template when one exists', async () => {
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const [oldNumber] = await seed(h.t, 1, 1, '2026-11-20T10:00:00Z', 'notice');
    const d = new Dispatcher({ db: h.t.db, sender: channel, clock, logger, sleep: async (ms) => clock.advance(ms) });
    expect((await d.runOnce()).outcomes.no_template).toBe(1);
    expect((await h.t.db.rpc('outbox_counts')).data).toMatchObject({ held: 1 });
    const [held] = await h.t.sql.query<{ status: string; error: string }>('select status, error from public.outbox');
    expect(held).toEqual({ status: 'held', error: 'outside the 24-hour window and no template for kind "notice" in "it"' });
    expect(h.emulator.messagesTo(oldNumber!)).toHaveLength(0);

    const sidHex = 'a'.repeat(32);
    h.emulator.addTemplate(`HX${sidHex}`, 'Notice from the programme: {{1}}');
    await h.t.db.rpc('message_template_upsert', { p_kind: 'bulletin', p_language: 'it', p_content_sid: `HX${sidHex}`, p_variables: ['text'], p_now: clock.now().toISOString() });
    const [number] = await seed(h.t, 1, 1, null, 'bulletin', 5, 10);
    expect((await d.runOnce()).outcomes.sent).toBe(1);
    await h.emulator.settle();
    expect(h.emulator.messagesTo(number!).map((m) => [m.body, m.status])).toEqual([['Notice from the programme: message 0', 'delivered']]);
  });
});
