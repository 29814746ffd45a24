import twilio from 'twilio';
import { createWhatsAppChannel } from '../../bot/channels/whatsapp';
import { FakeClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import type { CoreDeps } from '../../bot/core/conversation';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTwilioEmulator } from '../../bot/local/twilio-emulator';
import { createLogger } from '../../bot/logger';
import { Dispatcher } from '../../bot/outbox/dispatcher';
import type { ChannelRoutes } from '../../functions/channels';
import { createApp } from '../../functions/server';
import { whatsappApply, whatsappStatusHandler, whatsappWebhookHandler } from '../../functions/whatsapp-webhook';
import { healthProbe, WhatsAppSpool, type SpoolOptions } from '../../functions/whatsapp-spool';
import type { Db } from '../../bot/db/client';
import type { TestDb } from './door';

export const WA = { accountSid: `AC${'2'.repeat(32)}`, authToken: 'stack-test-token-0123456789abcdef', from: 'whatsapp:+390200000002' };

export interface StackOptions {
  /** the app's data door instead of `t.db` (e.g. one a test can cut) */
  db?: Db;
  /** with a WhatsApp spool in this folder, as `npm start` wires it */
  spool?: { dir: string } & Partial<Omit<SpoolOptions, 'dir' | 'logger' | 'clock' | 'apply' | 'probe'>>;
  logger?: ReturnType<typeof createLogger>;
}

/** The WhatsApp path end to end on loopback: Twilio emulator ⇄ our server's webhooks ⇄ core ⇄ outbox ⇄ dispatcher ⇄ Twilio SDK. */
export async function whatsappStack(t: TestDb, start = '2026-11-23T10:00:00Z', opts: StackOptions = {}) {
  const clock = new FakeClock(start);
  const logger = opts.logger ?? createLogger('silent');
  const db = opts.db ?? t.db;
  const core: CoreDeps = { db, i18n: createTranslator(), clock, logger };
  const routes: ChannelRoutes = { mounts: [] };
  const door = { supabase: db, mode: 'embedded' as const, schemaVersion: null, close: async () => undefined };
  const app = createApp({ config: loadConfig({}), logger, clock, door, startedAt: clock.now(), channels: routes });
  const server = await serveFetch(app);
  const emulator = createTwilioEmulator({ ...WA, senders: [WA.from], incomingWebhookUrl: `${server.url}/whatsapp/webhook`, now: () => clock.now().getTime(), deliveryDelayMs: 1 });
  const api = await emulator.listen();
  const channel = createWhatsAppChannel({ ...WA, apiBase: api.apiBase, statusCallbackUrl: `${server.url}/whatsapp/status`, choiceHint: (l) => core.i18n.t(l as never)('common.replyWithNumber') });
  const dispatcher = new Dispatcher({ db, sender: channel, clock, logger, sleep: async (ms) => clock.advance(ms) });
  const spool = opts.spool
    ? await WhatsAppSpool.open({ logger, clock, apply: whatsappApply({ core, onQueued: () => undefined }), probe: healthProbe(db), ...opts.spool })
    : undefined;
  if (spool) routes.spool = spool;
  routes.whatsappWebhook = whatsappWebhookHandler({ core, authToken: WA.authToken, publicUrl: server.url, onQueued: () => undefined, ...(spool ? { spool } : {}) });
  routes.whatsappStatus = whatsappStatusHandler({ core, authToken: WA.authToken, publicUrl: server.url, ...(spool ? { spool } : {}) });

  /** Drains the outbox and waits for the emulator's callbacks to land. */
  const flush = async () => {
    for (let i = 0; i < 20 && (await dispatcher.runOnce()).claimed > 0; i++);
    await emulator.settle();
  };
  /** A form POST signed as Twilio would sign it, for a URL of our choice. */
  const signedPost = (path: string, params: Record<string, string>, signedUrl = `${server.url}${path}`, token = WA.authToken) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, signedUrl, params) },
      body: new URLSearchParams(params),
    });
  return {
    clock, core, emulator, server, dispatcher, flush, signedPost, spool,
    close: async () => {
      await spool?.close();
      await emulator.close();
      await api.close();
      await server.close();
    },
  };
}
