import type { Clock } from '../bot/clock';
import type { Config } from '../bot/config';
import type { DataDoor } from '../bot/db/client';
import type { FetchHandler, RequestInfo } from '../bot/http/node-adapter';
import type { Logger } from '../bot/logger';
import { healthHandler } from './health';

export interface AppDeps {
  config: Config;
  logger: Logger;
  clock: Clock;
  door: DataDoor;
  startedAt: Date;
}

type Route = { method: string; path: string | RegExp; handler: FetchHandler };

const isLoopback = (addr: string) => addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');

const notYet = (what: string): FetchHandler => async () =>
  Response.json({ error: `${what} is not available yet` }, { status: 501 });

/** Mounts every entry point on one handler; each stays a portable (Request) => Response. */
export function createApp(deps: AppDeps): FetchHandler {
  const routes: Route[] = [
    { method: 'GET', path: '/healthz', handler: healthHandler(deps) },
    { method: 'POST', path: '/telegram/webhook', handler: notYet('the Telegram channel') },
    { method: 'POST', path: '/whatsapp/webhook', handler: notYet('the WhatsApp channel') },
    { method: 'POST', path: '/whatsapp/status', handler: notYet('the WhatsApp channel') },
  ];

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
      deps.logger.error({ path: pathname, err: (err as Error).message }, 'handler failed');
      return new Response('Internal Server Error', { status: 500 });
    }
  };
}
