import type { Clock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { startChannels, type ChannelRoutes, type ChannelRuntime } from '../../functions/channels';
import type { Metrics } from '../../functions/metrics';
import { createApp } from '../../functions/server';
import { pgliteDb, type TestDb } from './door';

export const TOKEN = '424242:TelegramTestToken_abcdefghijklmnop';
export const SECRET = 'webhook-secret_123';
const i18n = createTranslator();
const logger = createLogger('silent');

/**
 * A clock that starts at a fixed instant and then runs: grammY's, the emulator's and the dispatcher's timers
 * need time to pass, and what a person sees stays on a known date whatever day the tests run.
 */
export function runningClock(start: string): Clock {
  const offset = new Date(start).getTime() - Date.now();
  return { now: () => new Date(Date.now() + offset) };
}

export interface Stack {
  t: TestDb;
  clock: Clock;
  emulator: TelegramEmulator;
  runtime: ChannelRuntime;
  url: string;
  close(): Promise<void>;
}

/** Our server with a real-mode Telegram channel, pointed at the emulator by TELEGRAM_API_ROOT. */
export async function telegramStack(
  mode: 'webhook' | 'polling',
  limits?: { globalPerSecond: number; perChatPerSecond: number },
  start = '2026-11-23T09:00:00Z',
  /** GET /metrics wired in, and more environment (METRICS_TOKEN, …) */
  extra: { metrics?: (t: TestDb) => Metrics; env?: Record<string, string> } = {},
): Promise<Stack> {
  const clock = runningClock(start);
  const t = await pgliteDb();
  const emulator = createTelegramEmulator({ webhookRetryDelayMs: 100, limits });
  emulator.addBot(TOKEN, { username: 'test_family_bot' });
  const api = await emulator.listen();
  const routes: ChannelRoutes = { mounts: [] };
  const door = { supabase: t.db, mode: 'embedded' as const, schemaVersion: null, close: async () => undefined };
  const metrics = extra.metrics?.(t);
  let config = loadConfig(extra.env ?? {});
  const app = createApp({ config, logger, clock, door, startedAt: clock.now(), channels: routes, ...(metrics ? { metrics } : {}) });
  const server = await serveFetch(app);
  config = loadConfig({ ...extra.env, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, PUBLIC_URL: server.url, ...(mode === 'webhook' ? { TELEGRAM_WEBHOOK_SECRET: SECRET } : {}) });
  const runtime = await startChannels({ config, logger, clock, db: t.db, i18n, port: server.port, routes, ...(metrics ? { metrics } : {}) });
  return {
    t, clock, emulator, runtime, url: server.url,
    close: async () => {
      await runtime.stop();
      await emulator.close();
      await api.close();
      await server.close();
      await t.close();
    },
  };
}

