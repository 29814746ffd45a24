import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bot/config';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { startChannels, type ChannelRoutes } from '../../functions/channels';
import { createApp } from '../../functions/server';
import { cuttableDb } from '../support/cuttable-db';
import { pgliteDb, type TestDb } from '../support/door';
import { runningClock, SECRET, TOKEN } from '../support/telegram-stack';

const i18n = createTranslator();
const logger = createLogger('silent');

/** Our server in Telegram webhook mode against the emulator, its data door behind a switch. */
async function stack() {
  const clock = runningClock('2026-11-23T09:00:00Z');
  const t = await pgliteDb();
  const door = cuttableDb(t);
  const emulator = createTelegramEmulator({ webhookRetryDelayMs: 100 });
  emulator.addBot(TOKEN, { username: 'test_family_bot' });
  const api = await emulator.listen();
  const routes: ChannelRoutes = { mounts: [] };
  const app = createApp({ config: loadConfig({}), logger, clock, door: { supabase: door.db, mode: 'embedded', schemaVersion: null, close: async () => undefined }, startedAt: clock.now(), channels: routes });
  const server = await serveFetch(app);
  const config = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, PUBLIC_URL: server.url, TELEGRAM_WEBHOOK_SECRET: SECRET });
  const runtime = await startChannels({ config, logger, clock, db: door.db, i18n, port: server.port, routes });
  return {
    t, door, emulator, url: server.url,
    close: async () => {
      await runtime.stop();
      await emulator.close();
      await api.close();
      await server.close();
      await t.close();
    },
  };
}

const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('a Telegram update while the database cannot be reached', () => {
  let s: Awaited<ReturnType<typeof stack>>;
  beforeEach(async () => {
    s = await stack();
  });
  afterEach(() => s.close());

  const count = async (t: TestDb, sql: string) => (await t.sql.query<{ n: number }>(sql))[0]!.n;

  it('is answered with an error status, so Telegram sends it again, and the redelivered update is handled once', async () => {
    s.door.cut('refused');
    // what Telegram sees: not a 2xx
    const update = { update_id: 5, message: { message_id: 1, date: 1, chat: { id: 900, type: 'private', first_name: 'X' }, from: { id: 900, is_bot: false, first_name: 'X' }, text: 'ciao' } };
    const res = await fetch(`${s.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    expect(res.status).toBeGreaterThanOrEqual(500);

    s.emulator.userSends(TOKEN, { id: 1001, firstName: 'Amina', languageCode: 'it' }, 'Ciao');
    await until(() => /Wrong response from the webhook: 5\d\d/.test(s.emulator.webhookInfo(TOKEN).lastErrorMessage ?? ''));
    // redelivered a few times while the database is away
    await until(() => (s.door.calls.get('inbound_begin') ?? 0) >= 3);
    expect(s.emulator.webhookInfo(TOKEN).pendingUpdateCount).toBe(1);
    expect(s.emulator.chat(TOKEN, 1001)).toHaveLength(0);

    s.door.restore();
    const msgs = await s.emulator.waitForMessages(TOKEN, 1001, 2, 10_000);
    expect(msgs.map((m) => m.text)).toEqual([i18n.t('it')('greeting.welcome'), i18n.t('it')('greeting.chooseLanguage')]);
    await until(() => s.emulator.webhookInfo(TOKEN).pendingUpdateCount === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.emulator.chat(TOKEN, 1001)).toHaveLength(2);
    expect(await count(s.t, `select count(*)::int as n from public.inbound_log where channel = 'telegram' and handled_at is not null`)).toBe(1);
    expect(await count(s.t, `select count(*)::int as n from public.outbox`)).toBe(2);
  });
});
