import { Writable } from 'node:stream';
import type { Clock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { LOCAL_MAX_BODY_BYTES, serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { createTwilioEmulator, type TwilioEmulator } from '../../bot/local/twilio-emulator';
import { createLogger } from '../../bot/logger';
import { startChannels, type ChannelRoutes, type ChannelRuntime } from '../../functions/channels';
import { createApp } from '../../functions/server';
import type { TestDb } from './door';
import { runningClock, TOKEN } from './telegram-stack';
import { WA } from './whatsapp-stack';

export { TOKEN, WA };

/** A clock that runs from a fixed instant, and can be moved forward (media links expire in minutes). */
export interface MovableClock extends Clock {
  advance(ms: number): void;
}

export interface TwoChannelStack {
  clock: MovableClock;
  telegram: TelegramEmulator;
  twilio: TwilioEmulator;
  runtime: ChannelRuntime;
  url: string;
  /** every log line written, at debug level: what an operator's logs would hold */
  logs: string[];
  close(): Promise<void>;
}

/** Our server with both channels in real mode, each pointed at its emulator over loopback: files cross between them. */
export async function twoChannelStack(t: TestDb, opts: { start?: string; env?: Record<string, string> } = {}): Promise<TwoChannelStack> {
  const base = runningClock(opts.start ?? '2026-11-23T09:00:00Z');
  let offset = 0;
  const clock: MovableClock = { now: () => new Date(base.now().getTime() + offset), advance: (ms) => void (offset += ms) };
  const logs: string[] = [];
  const logger = createLogger('debug', new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } }));
  const routes: ChannelRoutes = { mounts: [] };
  const door = { supabase: t.db, mode: 'embedded' as const, schemaVersion: null, close: async () => undefined };
  const app = createApp({ config: loadConfig({}), logger, clock, door, startedAt: clock.now(), channels: routes });
  const server = await serveFetch(app, { maxBodyBytes: LOCAL_MAX_BODY_BYTES });
  const telegram = createTelegramEmulator({ webhookRetryDelayMs: 100, now: () => clock.now().getTime() });
  telegram.addBot(TOKEN, { username: 'test_family_bot' });
  const tgApi = await telegram.listen();
  const twilio = createTwilioEmulator({ ...WA, senders: [WA.from], incomingWebhookUrl: `${server.url}/whatsapp/webhook`, now: () => clock.now().getTime(), deliveryDelayMs: 1 });
  const twApi = await twilio.listen();
  const config = loadConfig({
    TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: tgApi.apiRoot, TELEGRAM_WEBHOOK_SECRET: 'webhook-secret_123',
    TWILIO_ACCOUNT_SID: WA.accountSid, TWILIO_AUTH_TOKEN: WA.authToken, TWILIO_WHATSAPP_FROM: WA.from, TWILIO_API_BASE: twApi.apiBase,
    PUBLIC_URL: server.url, ...opts.env,
  });
  const runtime = await startChannels({ config, logger, clock, db: t.db, i18n: createTranslator(), port: server.port, routes });
  return {
    clock, telegram, twilio, runtime, url: server.url, logs,
    close: async () => {
      await runtime.stop();
      await telegram.close();
      await twilio.close();
      await tgApi.close();
      await twApi.close();
      await server.close();
    },
  };
}

/** Waits until `check` holds (the dispatchers and the emulators run on their own timers). */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await check();
    if (got) return got;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
