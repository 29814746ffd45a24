import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bot/config';
import { openDataDoor } from '../../bot/db/client';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { createTwilioEmulator } from '../../bot/local/twilio-emulator';
import { createLogger } from '../../bot/logger';
import { runJob } from '../../functions/jobs';
import { broadcasts } from '../../bot/features/broadcasts/job';
import { freePort, runScript, waitForHealthy } from '../support/processes';

const TOKEN = '555000111:RestartTestToken_abcdefghijklmn';
const SID = `AC${'5'.repeat(32)}`;
const AUTH = 'restart-test-auth-token-0123456789';
const FROM = 'whatsapp:+390200000555';
const CONTENT = `HX${'b'.repeat(32)}`;
const PER_CHANNEL = 500;
const NOTICE = 'Open day al nido di via Rossi sabato alle 10.';

/**
 * The server runs as its own process against emulators living in this test, so they outlive it: a broadcast to
 * 1,000 families is under way when the server is told to stop (as a deploy or a restart does), and a new server
 * on the same data finishes it. Every family must have the notice exactly once.
 */
describe('a broadcast interrupted by a server restart', () => {
  let dataDir: string;
  const tg = createTelegramEmulator({ limits: { globalPerSecond: 30, perChatPerSecond: 1 } });
  const wa = createTwilioEmulator({ accountSid: SID, authToken: AUTH, senders: [FROM], messagesPerSecond: 80, autoDeliver: false });
  let tgApi: Awaited<ReturnType<typeof tg.listen>>;
  let waApi: Awaited<ReturnType<typeof wa.listen>>;
  const chats = Array.from({ length: PER_CHANNEL }, (_, i) => 8_000_000 + i);
  const numbers = Array.from({ length: PER_CHANNEL }, (_, i) => `+39335${String(i).padStart(7, '0')}`);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'familybot-restart-'));
    tg.addBot(TOKEN);
    tgApi = await tg.listen();
    wa.addTemplate(CONTENT, 'Avviso: {{1}}');
    waApi = await wa.listen();
    // a Telegram chat exists once she wrote; her old messages are already read
    for (const id of chats) tg.userSends(TOKEN, { id, firstName: 'M' }, 'ciao');
    for (let offset = 0; ;) {
      const { result } = (await (await fetch(`${tgApi.apiRoot}/bot${TOKEN}/getUpdates?offset=${offset}&limit=100`)).json()) as { result: { update_id: number }[] };
      if (!result.length) break;
      offset = result.at(-1)!.update_id + 1;
    }

    const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
    try {
      await door.executor!.query(`
        with f as (insert into public.families (district_code) select 'milano-1' from generate_series(1, $1::int * 2) returning id, ref)
        insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id)
        select case when f.ref <= $1 then 'telegram' else 'whatsapp' end,
               case when f.ref <= $1 then (8000000 + f.ref - 1)::text else '+39335' || lpad((f.ref - $1 - 1)::text, 7, '0') end,
               'it', true, 'given', f.id from f`, [PER_CHANNEL]);
      await door.executor!.query(`insert into public.message_templates (kind, language, content_sid, variables) values ('broadcast', 'it', $1, '{notice}')`, [CONTENT]);
      const [c] = await door.executor!.query<{ id: string }>(`insert into public.staff (role, full_name) values ('coordinator', 'Marco Rossi') returning id`);
      const now = new Date();
      const created = await door.supabase.rpc('broadcast_create', { p_staff_id: c!.id, p_source: 'api', p_source_key: null, p_audience: {}, p_texts: { it: NOTICE }, p_send_at: now.toISOString(), p_now: now.toISOString() });
      expect(created.error).toBeNull();
      // created for right now: the chat and the API apply the 09:00–19:00 rule, this test need not wait for it
      const released = await runJob(broadcasts, { db: door.supabase, logger: createLogger('silent'), config: loadConfig({}), i18n: createTranslator() }, now);
      expect(released).toMatchObject({ ran: true });
      expect(await door.executor!.query(`select count(*)::int as n from public.outbox where kind = 'broadcast'`)).toEqual([{ n: 2 * PER_CHANNEL }]);
    } finally {
      await door.close();
    }
  }, 60_000);

  afterAll(async () => {
    await tg.close();
    await tgApi.close();
    await wa.close();
    await waApi.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const received = () => ({
    telegram: chats.map((id) => tg.chat(TOKEN, id).filter((m) => 'text' in m && m.text?.includes(NOTICE)).length),
    whatsapp: numbers.map((n) => wa.messagesTo(n).filter((m) => m.body.includes(NOTICE)).length),
  });
  const total = () => Object.values(received()).flat().reduce((a, b) => a + b, 0);

  async function startServer() {
    const port = await freePort();
    const env = {
      DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn',
      TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: tgApi.apiRoot,
      TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: AUTH, TWILIO_WHATSAPP_FROM: FROM, TWILIO_API_BASE: waApi.apiBase,
    };
    const server = runScript('functions/main.ts', [], env, { direct: true });
    await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 60_000);
    return server;
  }

  it('each of the 1,000 families receives the notice once', async () => {
    const first = await startServer();
    const deadline = Date.now() + 60_000;
    while (total() < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, (stopped.stdout + stopped.stderr).slice(-3000)).toBe(0);
    const atRestart = total();
    expect(atRestart).toBeGreaterThanOrEqual(200);
    expect(atRestart).toBeLessThan(2 * PER_CHANNEL); // really mid-broadcast

    const second = await startServer();
    try {
      const end = Date.now() + 90_000;
      while (total() < 2 * PER_CHANNEL && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 1500)); // a duplicate would show up now
      await wa.settle();
      const got = received();
      for (const channel of ['telegram', 'whatsapp'] as const) {
        expect(got[channel].filter((n) => n === 0), `${channel}: lost`).toHaveLength(0);
        expect(got[channel].filter((n) => n > 1), `${channel}: duplicated`).toHaveLength(0);
      }
      // WhatsApp went as the approved template, outside the 24-hour window
      expect(wa.messagesTo(numbers[0]!)[0]).toMatchObject({ contentSid: CONTENT, contentVariables: { 1: NOTICE } });
    } finally {
      second.child.kill('SIGTERM');
      await second.done;
    }
  }, 180_000);
});
