import type { Clock } from '../bot/clock';
import type { Config } from '../bot/config';
import type { DataDoor } from '../bot/db/client';

/** GET /healthz: 200 with what a load balancer and an operator want to know, 503 when the database does not answer. */
export function healthHandler(deps: { door: DataDoor; config: Config; clock: Clock; startedAt: Date }) {
  return async (): Promise<Response> => {
    const [{ data, error }, counts] = await Promise.all([deps.door.supabase.rpc('health'), deps.door.supabase.rpc('outbox_counts')]);
    const reachable = !error && (data as { ok?: boolean } | null)?.ok === true;
    const body = {
      status: reachable ? 'ok' : 'unavailable',
      database: {
        mode: deps.door.mode,
        reachable,
        schemaVersion: reachable ? ((data as { schema_version?: string }).schema_version ?? null) : null,
      },
      channels: {
        telegram: channelState(deps.config.telegram.mode, deps.config.telegram.webhookSecret ? 'webhook' : 'polling'),
        whatsapp: channelState(deps.config.whatsapp.mode, 'webhook'),
      },
      // held = waiting for a WhatsApp template or for her to write: reported, never dropped
      outbox: counts.error ? null : counts.data,
      uptimeSeconds: Math.round((deps.clock.now().getTime() - deps.startedAt.getTime()) / 1000),
    };
    return Response.json(body, { status: reachable ? 200 : 503, headers: { 'cache-control': 'no-store' } });
  };
}

const channelState = (mode: string, how: string) => (mode === 'real' ? how : mode);
