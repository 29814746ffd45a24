import type { Clock } from '../bot/clock';
import type { Config } from '../bot/config';
import type { DataDoor } from '../bot/db/client';
import { attempt } from '../bot/db/rpc';
import type { ChannelRoutes } from './channels';

/** GET /healthz: 200 with what a load balancer and an operator want to know, 503 when the database does not answer. */
export function healthHandler(deps: { door: DataDoor; config: Config; clock: Clock; startedAt: Date; channels?: ChannelRoutes }) {
  return async (): Promise<Response> => {
    type Health = { ok?: boolean; schema_version?: string } | null;
    // an unreachable database is an answer here (503), not an exception
    const [health, counts] = await Promise.all([attempt<Health>(deps.door.supabase, 'health'), attempt<unknown>(deps.door.supabase, 'outbox_counts')]);
    const data = 'data' in health ? health.data : null;
    const reachable = data?.ok === true;
    const spool = deps.channels?.spool;
    // the database answers: what the WhatsApp spool holds can go now
    if (reachable) spool?.wake();
    const body = {
      status: reachable ? 'ok' : 'unavailable',
      database: {
        mode: deps.door.mode,
        reachable,
        schemaVersion: reachable ? (data.schema_version ?? null) : null,
      },
      channels: {
        telegram: channelState(deps.config.telegram.mode, deps.config.telegram.webhookSecret ? 'webhook' : 'polling'),
        whatsapp: channelState(deps.config.whatsapp.mode, 'webhook'),
      },
      // held = waiting for a WhatsApp template or for her to write: reported, never dropped
      outbox: 'data' in counts ? counts.data : null,
      // WhatsApp posts kept on this machine's disk until the database takes them (functions/whatsapp-spool.ts)
      spool: { depth: spool?.depth() ?? 0 },
      uptimeSeconds: Math.round((deps.clock.now().getTime() - deps.startedAt.getTime()) / 1000),
    };
    return Response.json(body, { status: reachable ? 200 : 503, headers: { 'cache-control': 'no-store' } });
  };
}

const channelState = (mode: string, how: string) => (mode === 'real' ? how : mode);
