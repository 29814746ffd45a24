import { afterEach, describe, expect, it } from 'vitest';
import { createTelegramChannel } from '../../bot/channels/telegram';
import { createWhatsAppChannel } from '../../bot/channels/whatsapp';
import { FakeClock, type Clock } from '../../bot/clock';
import { serviceKey, supabaseClient, type Db } from '../../bot/db/client';
import { postgresExecutor, type SqlExecutor } from '../../bot/db/executor';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { createTwilioEmulator } from '../../bot/local/twilio-emulator';
import { serveFetch } from '../../bot/http/node-adapter';
import { createLogger } from '../../bot/logger';
import { Dispatcher } from '../../bot/outbox/dispatcher';
import { SharedPacer } from '../../bot/outbox/pacing';
import { copiedMigratedPostgres, freshPglite } from '../support/databases';
import { runningClock } from '../support/telegram-stack';
import { busiestSecond } from '../support/windows';

const logger = createLogger(process.env.PACING_LOG ? 'warn' : 'silent');
const SECRET = 'pacing-secret-0123456789abcdef0123456789';
const clientOf = (executor: SqlExecutor): Db => supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor, jwtSecret: SECRET }).fetch);

/** A Telegram emulator served through a recorder of when each sendMessage reached it. */
async function recordedTelegram(limits: { globalPerSecond: number; perChatPerSecond: number }, clock: Clock, token: string) {
  const emulator = createTelegramEmulator({ limits, now: () => clock.now().getTime() });
  emulator.addBot(token);
  const arrivals: number[] = [];
  const server = await serveFetch((req, info) => {
    if (new URL(req.url).pathname.endsWith('/sendMessage')) arrivals.push(clock.now().getTime());
    return emulator.handle(req, info);
  });
  return { emulator, arrivals, apiRoot: server.url, close: async () => { await emulator.close(); await server.close(); } };
}

describe('pacing_take: one sliding window per sender, shared by every caller', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('spaces sends a little wider than the limit, keeps bulk within a short horizon, and lets a reply in ahead of it', async () => {
    const sql = await freshPglite();
    close = async () => { await sql.close(); close = undefined; };
    const db = clientOf(sql);
    const take = async (sender: string, at: string, priority: number) => {
      const { data, error } = await db.rpc('pacing_take', { p_sender: sender, p_per_second: 20, p_priority: priority, p_now: at });
      if (error) throw new Error(error.message);
      return data as { reserved: boolean; wait_ms: number; claimed: boolean };
    };
    // 20 a second, spaced 52.5 ms; table: [sender, time, priority, answer]
    const steps: [string, string, number, { reserved: boolean; wait_ms: number; claimed: boolean }][] = [
      ['telegram:1', '2026-12-04T10:00:00.000Z', 8, { reserved: true, wait_ms: 0, claimed: true }],
      ['telegram:1', '2026-12-04T10:00:00.000Z', 8, { reserved: true, wait_ms: 52, claimed: true }],
      // the next would be 105 ms ahead, past bulk's 100 ms horizon: ask again when it is within it
      ['telegram:1', '2026-12-04T10:00:00.000Z', 8, { reserved: false, wait_ms: 5, claimed: true }],
      // a reply is given that slot at once
      ['telegram:1', '2026-12-04T10:00:00.000Z', 0, { reserved: true, wait_ms: 105, claimed: true }],
      // another sender has its own pace
      ['whatsapp:+390200000001', '2026-12-04T10:00:00.000Z', 8, { reserved: true, wait_ms: 0, claimed: true }],
      // after a quiet spell nothing is owed: go now
      ['telegram:1', '2026-12-04T10:00:00.500Z', 8, { reserved: true, wait_ms: 0, claimed: true }],
      ['telegram:1', '2026-12-04T10:00:00.510Z', 8, { reserved: true, wait_ms: 42, claimed: true }],
    ];
    for (const [sender, at, priority, answer] of steps) expect([sender, at, priority, await take(sender, at, priority)]).toEqual([sender, at, priority, answer]);
  });

  it('gives no slot for a row whose lease ran out and another dispatcher claimed, and marks the one it gives as leaving', async () => {
    const sql = await freshPglite();
    close = async () => { await sql.close(); close = undefined; };
    const db = clientOf(sql);
    const [row] = await sql.query<{ id: number }>(
      `with c as (insert into public.contacts (channel, provider_id, language) values ('telegram', '42', 'it') returning id)
       insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, status, claimed_by, lease_until)
       select 'broadcast:1:42', id, 'telegram', 'broadcast', 8, '{"text":"Open day"}', 'sending', 'b', '2026-12-04T10:01:00Z' from c returning id`);
    const take = async (worker: string) => (await db.rpc('pacing_take', { p_sender: 'telegram:1', p_per_second: 30, p_priority: 8, p_now: '2026-12-04T10:00:00Z', p_outbox_id: row!.id, p_worker: worker })).data;
    expect(await take('a')).toEqual({ reserved: false, wait_ms: 0, claimed: false });
    expect((await sql.query(`select leaving_at from public.outbox`))[0]).toEqual({ leaving_at: null });
    expect(await take('b')).toEqual({ reserved: true, wait_ms: 0, claimed: true });
    expect((await sql.query<{ leaving_at: Date }>(`select leaving_at from public.outbox`))[0]!.leaving_at).not.toBeNull();
  });

  it('in one process, waiting bulk sends do not poll the database, and a reply waiting among them asks first', async () => {
    const sql = await freshPglite();
    close = async () => { await sql.close(); close = undefined; };
    const real = clientOf(sql);
    const asked: number[] = [];
    const counting = { rpc: (fn: string, args: { p_priority: number }) => { asked.push(args.p_priority); return real.rpc(fn, args); } } as unknown as Db;
    // 50 a second (21 ms apart): bulk may hold slots 100 ms ahead, about five at a time
    // the test's clock, running in real time: the sends wait real milliseconds
    const clock = runningClock('2026-12-04T10:00:00Z');
    const pacer = new SharedPacer(counting, 'telegram:1', { perSecond: 50, perChatPerSecond: 0 }, () => clock.now());
    const order: string[] = [];
    const bulk = Array.from({ length: 30 }, (_, i) => pacer.take(8).then(() => order.push(`bulk ${i}`)));
    await new Promise((r) => setTimeout(r, 30));
    const reply = pacer.take(0).then(() => order.push('reply'));
    await Promise.all([...bulk, reply]);
    // about twice each: a slot given, and a turn told to wait as the horizon fills (30 senders polling asked ~350 times)
    expect(asked.length).toBeLessThan(2 * 31 + 15);
    // the reply asked at its first turn, ahead of the bulk waiting then, and left well before the last of them
    expect(asked.indexOf(0)).toBeLessThan(15);
    expect(order.indexOf('reply')).toBeLessThan(15);
  });

  it('does not ask the database for a sender with no finite limit', async () => {
    let calls = 0;
    const counting = { rpc: () => { calls++; throw new Error('not expected'); } } as unknown as Db;
    const pacer = new SharedPacer(counting, 'telegram:1', { perSecond: Infinity, perChatPerSecond: 0 }, () => new FakeClock('2026-12-04T10:00:00Z').now());
    await pacer.take(5);
    expect(calls).toBe(0);
  });
});

// Real time, measured where the provider sees it: on a machine loaded by the rest of the suite a send can leave
// tens of milliseconds after its slot, past the 5% margin; a window test that meets that is run again (twice at most).
describe('dispatchers in several processes on one PostgreSQL 15, measured at the emulators', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => { for (const s of stops.splice(0).reverse()) await s(); });

  /** her contacts wrote at `at` (the test's clock), each with a notice due an hour before */
  async function database(contacts: { channel: 'telegram' | 'whatsapp'; ids: string[] }, at: Date, priority = 5) {
    const pg = await copiedMigratedPostgres('15');
    stops.push(pg.close);
    await pg.executor.query(
      `with c as (insert into public.contacts (channel, provider_id, language, language_confirmed, last_inbound_at)
                  select $1, id, 'it', true, $4::timestamptz from unnest($2::text[]) id returning id, provider_id)
       insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before)
       select 'notice:' || provider_id, id, $1, 'notice', $3, jsonb_build_object('text', 'Open day ' || provider_id), $4::timestamptz - interval '1 hour' from c`,
      [contacts.channel, contacts.ids, priority, at.toISOString()],
    );
    /** each "process" has its own connection pool, as separate processes would */
    const processDb = () => {
      const executor = postgresExecutor(pg.url, 4);
      stops.push(() => executor.close());
      return clientOf(executor);
    };
    const remaining = async () => (await pg.executor.query<{ n: number }>(`select count(*)::int as n from public.outbox where status in ('pending', 'sending')`))[0]!.n;
    return { processDb, remaining, sql: pg.executor };
  }

  async function untilDrained(remaining: () => Promise<number>, timeoutMs: number) {
    const until = Date.now() + timeoutMs;
    while ((await remaining()) > 0) {
      if (Date.now() > until) throw new Error('the outbox did not drain');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('three Telegram dispatchers together stay within the bot\'s limit in every second, and one that stops frees its share at once', { timeout: 60_000, retry: 2 }, async () => {
    const perSecond = 30;
    const clock: Clock = runningClock('2026-12-04T10:00:00Z');
    const token = '555000:PacingTestToken_abcdefghijklmnop';
    const { emulator, arrivals, apiRoot, close } = await recordedTelegram({ globalPerSecond: perSecond, perChatPerSecond: 1 }, clock, token);
    stops.push(close);
    const chats = Array.from({ length: 180 }, (_, i) => 7_000_000 + i);
    for (const id of chats) emulator.userSends(token, { id, firstName: 'M' }, 'ciao');
    const { processDb, remaining } = await database({ channel: 'telegram', ids: chats.map(String) }, clock.now());
    const dispatchers = ['a', 'b', 'c'].map((id) => new Dispatcher({
      db: processDb(), sender: createTelegramChannel({ token, apiRoot, limits: { perSecond, perChatPerSecond: 1 } }), clock, logger, workerId: id, idleMs: 50,
    }));
    const t0 = clock.now().getTime();
    dispatchers.forEach((d) => d.start());
    stops.push(async () => { for (const d of dispatchers) await d.stop(); });
    // one "process" stops a third of the way through: the other two finish its part, nothing sent twice
    while (arrivals.length < 60) await new Promise((r) => setTimeout(r, 20));
    await dispatchers[0]!.stop();
    await untilDrained(remaining, 30_000);
    const seconds = (clock.now().getTime() - t0) / 1000;

    expect(emulator.stats().tooManyRequests).toBe(0);
    expect(busiestSecond(arrivals)).toBeLessThanOrEqual(perSecond);
    for (const id of chats) expect(emulator.chat(token, id).map((m) => m.text)).toEqual([`Open day ${id}`]);
    // the rate itself is the bench's to measure (npm run bench -- scale): a loaded machine here sends slower
    expect(chats.length / seconds).toBeGreaterThan(perSecond * 0.25);
  });

  it('two WhatsApp dispatchers together keep the sender\'s rate at Twilio in every second', { timeout: 60_000, retry: 2 }, async () => {
    const perSecond = 40;
    const clock: Clock = runningClock('2026-12-04T10:00:00Z');
    const wa = { accountSid: `AC${'7'.repeat(32)}`, authToken: 'pacing-test-auth-token-0123456789', from: 'whatsapp:+390200000077' };
    const emulator = createTwilioEmulator({ ...wa, senders: [wa.from], messagesPerSecond: 1000, deliveryDelayMs: 1, now: () => clock.now().getTime() });
    const api = await emulator.listen();
    stops.push(async () => { await emulator.close(); await api.close(); });
    const numbers = Array.from({ length: 150 }, (_, i) => `+39333${String(2_000_000 + i).padStart(7, '0')}`);
    const { processDb, remaining } = await database({ channel: 'whatsapp', ids: numbers }, clock.now());
    const dispatchers = ['a', 'b'].map((id) => new Dispatcher({
      db: processDb(),
      sender: createWhatsAppChannel({ ...wa, apiBase: api.apiBase, choiceHint: () => 'Reply with the number.', limits: { perSecond, perChatPerSecond: 0 } }),
      clock, logger, workerId: id, idleMs: 50,
    }));
    const t0 = clock.now().getTime();
    dispatchers.forEach((d) => d.start());
    stops.push(async () => { for (const d of dispatchers) await d.stop(); });
    await untilDrained(remaining, 30_000);
    const seconds = (clock.now().getTime() - t0) / 1000;
    await emulator.settle();

    const created = numbers.map((n) => emulator.messagesTo(n));
    expect(created.map((m) => m.length)).toEqual(numbers.map(() => 1));
    const at = created.flat().map((m) => m.dateCreated).sort((a, b) => a - b);
    expect(busiestSecond(at)).toBeLessThanOrEqual(perSecond);
    expect(numbers.length / seconds).toBeGreaterThan(perSecond * 0.25);
  });

  it('a reply goes ahead of a broadcast that another process is sending at the full limit', async () => {
    const perSecond = 10;
    const clock: Clock = runningClock('2026-12-04T10:00:00Z');
    const token = '555001:PacingTestToken_abcdefghijklmnop';
    const { emulator, apiRoot, close } = await recordedTelegram({ globalPerSecond: perSecond, perChatPerSecond: 1 }, clock, token);
    stops.push(close);
    const chats = Array.from({ length: 60 }, (_, i) => 7_100_000 + i);
    const her = 7_199_999;
    for (const id of [...chats, her]) emulator.userSends(token, { id, firstName: 'M' }, 'ciao');
    const { processDb, sql } = await database({ channel: 'telegram', ids: chats.map(String) }, clock.now(), 8);
    const make = (id: string) => new Dispatcher({ db: processDb(), sender: createTelegramChannel({ token, apiRoot, limits: { perSecond, perChatPerSecond: 1 } }), clock, logger, workerId: id, idleMs: 50 });
    const bulk = make('bulk');
    const replies = make('replies');
    bulk.start();
    stops.push(() => bulk.stop());
    while (chats.filter((id) => emulator.chat(token, id).length > 0).length < 15) await new Promise((r) => setTimeout(r, 20));
    // her reply is queued while the broadcast holds every slot; the other process picks it up
    await sql.query(
      `with c as (insert into public.contacts (channel, provider_id, language, language_confirmed, last_inbound_at) values ('telegram', $1, 'it', true, $2::timestamptz) returning id)
       insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before) select 'reply:her', id, 'telegram', 'reply', 0, '{"text":"Ecco il numero"}', $2::timestamptz - interval '1 second' from c`,
      [String(her), clock.now().toISOString()],
    );
    const queuedAt = clock.now().getTime();
    replies.start();
    stops.push(() => replies.stop());
    await emulator.waitForMessages(token, her, 1, 10_000);
    const waited = clock.now().getTime() - queuedAt;
    const broadcastLeft = chats.filter((id) => emulator.chat(token, id).length === 0).length;
    expect(waited).toBeLessThan(1500);
    expect(broadcastLeft).toBeGreaterThan(20); // it did not wait for the broadcast to end
    expect(emulator.stats().tooManyRequests).toBe(0);
  }, 60_000);
});
