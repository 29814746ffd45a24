import { randomBytes } from 'node:crypto';
import { run, sequentialize, type RunnerHandle } from '@grammyjs/runner';
import { connectTelegramToCore, createTelegramChannel, type TelegramChannel } from '../bot/channels/telegram';
import { createWhatsAppChannel, type WhatsAppChannel } from '../bot/channels/whatsapp';
import type { Clock } from '../bot/clock';
import type { Config } from '../bot/config';
import { composeCore } from '../bot/app';
import type { CoreDeps } from '../bot/core/conversation';
import type { DangerMatcher } from '../bot/safety/matcher';
import type { Db } from '../bot/db/client';
import type { FetchHandler } from '../bot/http/node-adapter';
import { isLanguage, type Translator } from '../bot/i18n';
import type { TelegramEmulator } from '../bot/local/telegram-emulator';
import type { TwilioEmulator } from '../bot/local/twilio-emulator';
import type { Logger } from '../bot/logger';
import { Dispatcher } from '../bot/outbox/dispatcher';
import { telegramWebhookHandler } from './telegram-webhook';
import { whatsappApply, whatsappStatusHandler, whatsappWebhookHandler } from './whatsapp-webhook';
import { healthProbe, WhatsAppSpool } from './whatsapp-spool';
import { mediaHandler } from './media';
import { createMediaSource } from '../bot/channels/media-source';
import { MEDIA_LINK_TTL_MS, mediaSigner } from '../bot/channels/media-token';
import { openAiTranscriber } from '../bot/knowledge/transcribe';
import type { Metrics } from './metrics';

/** Filled in once the channels are up; the server's routes read it on every request. */
export interface ChannelRoutes {
  telegramWebhook?: FetchHandler;
  whatsappWebhook?: FetchHandler;
  whatsappStatus?: FetchHandler;
  /** GET /media/<token>: files Twilio fetches for WhatsApp */
  media?: FetchHandler;
  /** WhatsApp posts waiting on disk for the database: /healthz shows the depth and wakes it */
  spool?: Pick<WhatsAppSpool, 'depth' | 'wake'>;
  /** local mode: emulators and the playground, by path prefix */
  mounts: { prefix: string; handler: FetchHandler }[];
}

export interface ChannelRuntime {
  telegram?: TelegramChannel;
  whatsapp?: WhatsAppChannel;
  emulators?: { telegram: TelegramEmulator; twilio: TwilioEmulator; botToken: string; whatsappFrom: string };
  dispatchers: Dispatcher[];
  stop(): Promise<void>;
}

export interface ChannelDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Db;
  i18n: Translator;
  /** the port the server actually listens on (local mode points the emulators at it) */
  port: number;
  routes: ChannelRoutes;
  /** the danger lexicons, read before the server listens (main.ts); read here when absent */
  safety?: DangerMatcher;
  /** local mode's emulators and playground, loaded before the server listens (main.ts); loaded here when absent */
  local?: LocalModules;
  /** inbound counted in the core, sends in each dispatcher (GET /metrics) */
  metrics?: Pick<Metrics, 'inbound' | 'sends'>;
}

/** The emulators and the playground: dev-only code, which only local mode loads; a deployment with credentials never does. */
export async function loadLocalModules() {
  const [telegram, twilio, playground] = await Promise.all([import('../bot/local/telegram-emulator'), import('../bot/local/twilio-emulator'), import('../bot/local/playground')]);
  return { createTelegramEmulator: telegram.createTelegramEmulator, createTwilioEmulator: twilio.createTwilioEmulator, playgroundHandler: playground.playgroundHandler };
}
export type LocalModules = Awaited<ReturnType<typeof loadLocalModules>>;

/** Local mode's fixed identities: a bot and a WhatsApp sender that exist only in the emulators. */
export const LOCAL_TELEGRAM = { token: '1000000001:LocalPlaygroundToken_0123456789', username: 'family_playground_bot', firstName: 'Family bot' };
export const LOCAL_TWILIO = { accountSid: `AC${'0'.repeat(31)}1`, from: 'whatsapp:+390200000000' };

/** Starts the channels whose credentials are set, or both emulated when none is; each gets its dispatcher. */
export async function startChannels(deps: ChannelDeps): Promise<ChannelRuntime> {
  const { config, logger, clock, db, i18n, routes } = deps;
  const links: NonNullable<CoreDeps['links']> = {};
  const dispatchers: Dispatcher[] = [];
  // what one message queues may go out on either channel (her words to a tutor on the other one): wake both
  const notifyAll = () => dispatchers.forEach((d) => d.notify());
  const stops: (() => Promise<void>)[] = [];
  const runtime: ChannelRuntime = { dispatchers, stop: async () => { for (const s of stops.reverse()) await s(); } };
  const loopback = `http://127.0.0.1:${deps.port}`;

  let telegram = config.telegram.mode === 'real' ? { token: config.telegram.token!, apiRoot: config.telegram.apiRoot, secret: config.telegram.webhookSecret, webhookBase: config.publicUrl } : undefined;
  let whatsapp = config.whatsapp.mode === 'real' ? { accountSid: config.whatsapp.accountSid!, authToken: config.whatsapp.authToken!, from: config.whatsapp.from!, apiBase: config.whatsapp.apiBase } : undefined;

  if (config.local) {
    const { createTelegramEmulator, createTwilioEmulator, playgroundHandler } = deps.local ?? (await loadLocalModules());
    const tg = createTelegramEmulator({ basePath: '/_emulator/telegram', now: () => clock.now().getTime() });
    tg.addBot(LOCAL_TELEGRAM.token, { username: LOCAL_TELEGRAM.username, firstName: LOCAL_TELEGRAM.firstName });
    const authToken = randomBytes(16).toString('hex');
    const tw = createTwilioEmulator({
      accountSid: LOCAL_TWILIO.accountSid,
      authToken,
      senders: [LOCAL_TWILIO.from],
      incomingWebhookUrl: `${config.publicUrl}/whatsapp/webhook`,
      basePath: '/_emulator/twilio',
      publicUrl: `${config.publicUrl}/_emulator/twilio`,
      now: () => clock.now().getTime(),
    });
    const playground = playgroundHandler({ telegramControlBase: '/_emulator/telegram/_control', twilioControlBase: '/_emulator/twilio/_control', botToken: LOCAL_TELEGRAM.token, whatsappSender: LOCAL_TWILIO.from });
    routes.mounts.push({ prefix: '/_emulator/telegram', handler: tg.handle }, { prefix: '/_emulator/twilio', handler: tw.handle }, { prefix: '/', handler: playground });
    runtime.emulators = { telegram: tg, twilio: tw, botToken: LOCAL_TELEGRAM.token, whatsappFrom: LOCAL_TWILIO.from };
    stops.push(() => tg.close(), () => tw.close());
    // webhook mode with a fresh secret: the emulator calls us on loopback
    telegram = { token: LOCAL_TELEGRAM.token, apiRoot: `${loopback}/_emulator/telegram`, secret: randomBytes(16).toString('hex'), webhookBase: loopback };
    whatsapp = { accountSid: LOCAL_TWILIO.accountSid, authToken, from: LOCAL_TWILIO.from, apiBase: `${loopback}/_emulator/twilio` };
  }

  // files travel between the channels: read from the provider that holds them, never through a public URL
  const source = createMediaSource({
    ...(telegram ? { telegram: { token: telegram.token, apiRoot: telegram.apiRoot } } : {}),
    ...(whatsapp ? { twilio: { accountSid: whatsapp.accountSid, authToken: whatsapp.authToken, apiBase: whatsapp.apiBase, ...(config.local ? { mediaOrigins: [config.publicUrl] } : {}) } } : {}),
  });
  const transcribe = config.transcribe ? openAiTranscriber({ ...config.transcribe, source, logger }) : undefined;
  const { core, handle } = composeCore({ config, logger, clock, db, i18n, links, ...(deps.safety ? { safety: deps.safety } : {}), ...(transcribe ? { transcribe } : {}), ...(deps.metrics ? { metrics: deps.metrics.inbound } : {}) });
  const sends = deps.metrics ? { metrics: deps.metrics.sends } : {};

  if (telegram) {
    const channel = createTelegramChannel({ token: telegram.token, apiRoot: telegram.apiRoot, media: source });
    await channel.bot.init();
    links.telegramUsername = channel.bot.botInfo.username;
    const dispatcher = new Dispatcher({ db, sender: channel, clock, logger, ...sends });
    // long polling runs updates concurrently: keep each chat's in order
    if (!telegram.secret) channel.bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
    connectTelegramToCore(channel, handle, notifyAll);
    channel.bot.catch((err) => logger.error({ err: (err.error as Error)?.message }, 'telegram update failed'));
    if (telegram.secret) {
      await channel.bot.api.setWebhook(`${telegram.webhookBase}/telegram/webhook`, { secret_token: telegram.secret, allowed_updates: ['message', 'callback_query'] });
      const hook = telegramWebhookHandler(channel, telegram.secret);
      // a handled update proves the database answers: the WhatsApp spool need not wait for its next probe
      routes.telegramWebhook = async (req, info) => { const res = await hook(req, info); if (res.ok) routes.spool?.wake(); return res; };
    } else {
      await channel.bot.api.deleteWebhook();
      const runner: RunnerHandle = run(channel.bot, { runner: { fetch: { allowed_updates: ['message', 'callback_query'] } } });
      stops.push(async () => { if (runner.isRunning()) await runner.stop(); });
    }
    dispatcher.start();
    stops.push(() => dispatcher.stop());
    dispatchers.push(dispatcher);
    runtime.telegram = channel;
  }

  if (whatsapp) {
    links.whatsappNumber = whatsapp.from.replace(/^whatsapp:/, '');
    const choiceHint = (lng: string) => i18n.t(isLanguage(lng) ? lng : 'it')('common.replyWithNumber');
    // every process shares the auth token, so a link one signs another can open
    const signer = mediaSigner(whatsapp.authToken);
    const link = (outboxId: number, mediaId: string, now: Date) => `${config.publicUrl}/media/${signer.sign({ outboxId, mediaId, expiresAt: now.getTime() + MEDIA_LINK_TTL_MS })}`;
    const channel = createWhatsAppChannel({ ...whatsapp, statusCallbackUrl: `${config.publicUrl}/whatsapp/status`, choiceHint, media: { link, source } });
    routes.media = mediaHandler({ db, clock, logger, signer, source });
    const dispatcher = new Dispatcher({ db, sender: channel, clock, logger, ...sends });
    // what the database cannot take now waits on disk, replayed in order (left over by a crash: replayed now)
    const spool = await WhatsAppSpool.open({ dir: config.spoolDir, logger, clock, apply: whatsappApply({ core, onQueued: notifyAll }), probe: healthProbe(db) });
    stops.push(() => spool.close());
    routes.spool = spool;
    routes.whatsappWebhook = whatsappWebhookHandler({ core, authToken: whatsapp.authToken, publicUrl: config.publicUrl, onQueued: notifyAll, spool });
    routes.whatsappStatus = whatsappStatusHandler({ core, authToken: whatsapp.authToken, publicUrl: config.publicUrl, spool });
    dispatcher.start();
    stops.push(() => dispatcher.stop());
    dispatchers.push(dispatcher);
    runtime.whatsapp = channel;
  }
  return runtime;
}
