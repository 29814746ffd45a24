import { systemClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { startChannels, type ChannelRoutes, type ChannelRuntime } from '../../functions/channels';
import { createApp } from '../../functions/server';
import { pgliteDb, type TestDb } from './door';

export const TOKEN = '424242:TelegramTestToken_abcdefghijklmnop';
export const SECRET = 'webhook-secret_123';
const i18n = createTranslator();
const logger = createLogger('silent');

export interface Stack {
  t: TestDb;
  emulator: TelegramEmulator;
  runtime: ChannelRuntime;
  url: string;
  close(): Promise<void>;
}

/** Our server with a real-mode Telegram channel, pointed at the emulator by TELEGRAM_API_ROOT. */
export async function telegramStack(mode: 'webhook' | 'polling', limits?: { globalPerSecond: number; perChatPerSecond: number }): Promise<Stack> {
  const t = await pgliteDb();
  const emulator = createTelegramEmulator({ webhookRetryDelayMs: 100, limits });
  emulator.addBot(TOKEN, { username: 'test_family_bot' });
  const api = await emulator.listen();
  const routes: ChannelRoutes = { mounts: [] };
  const door = { supabase: t.db, mode: 'embedded' as const, schemaVersion: null, close: async () => undefined };
  let config = loadConfig({});
  const app = createApp({ config, logger, clock: systemClock, door, startedAt: systemClock.now(), channels: routes });
  const server = await serveFetch(app);
  config = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, PUBLIC_URL: server.url, ...(mode === 'webhook' ? { TELEGRAM_WEBHOOK_SECRET: SECRET } : {}) });
  const runtime = await startChannels({ config, logger, clock: systemClock, db: t.db, i18n, port: server.port, routes });
  return {
    t, emulator, runtime, url: server.url,
    close: async () => {
      await runtime.stop();
      await emulator.close();
      await api.close();
      await server.close();
      await t.close();
    },
  };
}

