import { handleInbound } from '../../bot/app';
import type { CoreDeps } from '../../bot/core/conversation';
import { connectTelegramToCore, createTelegramChannel } from '../../bot/channels/telegram';
import { systemClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import type { DataDoor } from '../../bot/db/client';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { Dispatcher } from '../../bot/outbox/dispatcher';
import type { Metrics } from '../../functions/metrics';
import { createApp } from '../../functions/server';
import { telegramWebhookHandler } from '../../functions/telegram-webhook';

const logger = createLogger('silent');

export interface TelegramRigOptions {
  token: string;
  secret: string;
  /** an emulator shared by several rigs (served at apiRoot); by default the rig starts its own, limits lifted */
  emulator?: { emulator: TelegramEmulator; apiRoot: string };
  /** counted by prom-client when given (functions/metrics.ts) */
  metrics?: Metrics;
}

/**
 * Our server, core and dispatcher on `door` behind a Telegram emulator whose limits are lifted (our side is
 * measured, not Telegram's pacing): what the benches post webhook updates to.
 */
export async function telegramRig(door: DataDoor, opts: TelegramRigOptions) {
  const own = opts.emulator ? undefined : createTelegramEmulator({ limits: { globalPerSecond: 1_000_000, perChatPerSecond: 1_000 } });
  if (own) own.addBot(opts.token);
  const served = own ? await own.listen() : undefined;
  const emulator = opts.emulator?.emulator ?? own!;
  const apiRoot = opts.emulator?.apiRoot ?? served!.apiRoot;
  const { metrics } = opts;
  const channel = createTelegramChannel({ token: opts.token, apiRoot, limits: { perSecond: Infinity, perChatPerSecond: 0 } });
  await channel.bot.init();
  const dispatcher = new Dispatcher({ db: door.supabase, sender: channel, clock: systemClock, logger, batchSize: 200, ...(metrics ? { metrics: metrics.sends } : {}) });
  const core: CoreDeps = { db: door.supabase, i18n: createTranslator(), clock: systemClock, logger, ...(metrics ? { metrics: metrics.inbound } : {}) };
  connectTelegramToCore(channel, (inbound) => handleInbound(core, inbound), () => dispatcher.notify());
  const config = loadConfig(metrics ? { METRICS_TOKEN: 'bench-metrics-token-0123' } : {});
  const app = createApp({ config, logger, clock: systemClock, door, startedAt: new Date(), channels: { mounts: [], telegramWebhook: telegramWebhookHandler(channel, opts.secret) }, ...(metrics ? { metrics } : {}) });
  const server = await serveFetch(app);
  dispatcher.start();
  let lastUpdateId = 0;
  return {
    emulator,
    url: server.url,
    /** her chat exists at the emulator (as once she opened it); not timed */
    open: (id: number) => emulator.userSends(opts.token, { id, firstName: 'M' }, 'hi'),
    /** a private-chat message as Telegram would post it to our webhook; the next update id unless one is given */
    post: async (id: number, text: string, updateId = ++lastUpdateId) => {
      lastUpdateId = Math.max(lastUpdateId, updateId);
      const update = { update_id: updateId, message: { message_id: updateId, date: 1, chat: { id, type: 'private', first_name: 'M' }, from: { id, is_bot: false, first_name: 'M', language_code: 'it' }, text } };
      const send = () => fetch(`${server.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': opts.secret }, body: JSON.stringify(update) });
      // a kept-alive connection the server closed as it was reused: sent again, as Telegram would (same update_id, handled once)
      const res = await send().catch(send);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    },
    close: async () => {
      await dispatcher.stop();
      await server.close();
      if (own) {
        await own.close();
        await served!.close();
      }
    },
  };
}
