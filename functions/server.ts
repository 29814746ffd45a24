import type { Clock } from '../bot/clock';
import type { Config } from '../bot/config';
import type { DataDoor } from '../bot/db/client';
import type { FetchHandler } from '../bot/http/node-adapter';
import type { Logger } from '../bot/logger';
import type { ChannelRoutes } from './channels';
import { healthHandler } from './health';
import { apiHandler } from './api-broadcasts';
import { createTranslator, type Translator } from '../bot/i18n';
import type { TranslationProvider } from '../bot/knowledge/translate';
import { publicMetricsHandler, type Metrics } from './metrics';
import { deskHandler } from './desk';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  door: DataDoor;
  startedAt: Date;
  /** filled in when the channels start, after the server listens */
  channels: ChannelRoutes;
  i18n?: Translator;
  /** drafts broadcast translations for the coordinators' API */
  translate?: TranslationProvider;
  /** GET /metrics here only with METRICS_TOKEN (bearer); without it they are on 127.0.0.1:METRICS_PORT (main.ts) */
  metrics?: Metrics;
}

type Route = { method: string; path: string | RegExp; handler: FetchHandler };

const isLoopback = (addr: string) => addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');

/** A channel's route answers 404 while that channel is off. */
const whenOn = (pick: () => FetchHandler | undefined): FetchHandler => async (req, info) => {
  const handler = pick();
  return handler ? handler(req, info) : new Response('Not Found', { status: 404 });
};

/** Mounts every entry point on one handler; each stays a portable (Request) => Response. */
export function createApp(deps: AppDeps): FetchHandler {
  const routes: Route[] = [
    { method: 'GET', path: '/healthz', handler: healthHandler(deps) },
    { method: 'POST', path: '/telegram/webhook', handler: whenOn(() => deps.channels.telegramWebhook) },
    { method: 'POST', path: '/whatsapp/webhook', handler: whenOn(() => deps.channels.whatsappWebhook) },
    { method: 'POST', path: '/whatsapp/status', handler: whenOn(() => deps.channels.whatsappStatus) },
    { method: 'GET', path: /^\/media\/[^/]+$/, handler: whenOn(() => deps.channels.media) },
  ];
  // no token: /metrics is not on the public port at all (404, as any unknown path)
  if (deps.metrics && deps.config.metrics.token) routes.push({ method: 'GET', path: '/metrics', handler: publicMetricsHandler(deps.metrics, deps.config.metrics.token) });
  // coordinators' broadcasts and report: authenticated by API key in the handler
  const api = apiHandler({ db: deps.door.supabase, clock: deps.clock, logger: deps.logger, i18n: deps.i18n ?? createTranslator(), translate: deps.translate });
  routes.push({ method: '*', path: /^\/api\//, handler: (req) => api(req) });

  // the coordinators' desk: signed in by a one-time link from the bot, a session cookie after that
  const desk = deskHandler({ db: deps.door.supabase, clock: deps.clock, logger: deps.logger, config: deps.config });
  routes.push({ method: '*', path: /^\/desk(\/|$)/, handler: desk });

  // One-shot commands reach the embedded database through this process: loopback only, service key required.
  const transport = deps.door.mode === 'embedded' ? deps.door.transport : undefined;
  if (transport) {
    routes.push({
      method: '*',
      path: /^\/rest\/v1\/rpc\//,
      handler: async (req, info) => (isLoopback(info.remoteAddress) ? transport.handle(req) : new Response('Not Found', { status: 404 })),
    });
  }

  return async (req, info) => {
    const { pathname } = new URL(req.url);
    // local mode's emulators and playground have no authentication: only this machine may use them
    const mount = deps.channels.mounts.find((m) => pathname === m.prefix || pathname.startsWith(`${m.prefix}/`));
    if (mount) return isLoopback(info.remoteAddress) ? mount.handler(req, info) : new Response('Not Found', { status: 404 });
    const matching = routes.filter((r) => (typeof r.path === 'string' ? r.path === pathname : r.path.test(pathname)));
    const route = matching.find((r) => r.method === '*' || r.method === req.method || (r.method === 'GET' && req.method === 'HEAD'));
    if (!route) {
      return matching.length > 0
        ? new Response('Method Not Allowed', { status: 405, headers: { allow: matching.map((r) => r.method).join(', ') } })
        : new Response('Not Found', { status: 404 });
    }
    try {
      return await route.handler(req, info);
    } catch (err) {
      deps.logger.error({ path: pathname.replace(/^\/(media|desk\/l)\/.*$/, '/$1/…'), err: (err as Error).message }, 'handler failed');
      return new Response('Internal Server Error', { status: 500 });
    }
  };
}
