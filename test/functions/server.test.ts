import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { serviceKey, supabaseClient } from '../../bot/db/client';
import type { SqlExecutor } from '../../bot/db/executor';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { createLogger } from '../../bot/logger';
import { createApp } from '../../functions/server';
import { freshPglite } from '../support/databases';

const SECRET = 'server-test-secret-0123456789abcdef0123';

describe('the HTTP entry points', () => {
  let db: SqlExecutor;
  let app: ReturnType<typeof createApp>;
  let failing: ReturnType<typeof createApp>;
  beforeAll(async () => {
    db = await freshPglite();
    const transport = createRpcTransport({ executor: db, jwtSecret: SECRET });
    const door = { supabase: supabaseClient('http://embedded.local', serviceKey(SECRET), transport.fetch), mode: 'embedded' as const, schemaVersion: null, transport, close: async () => undefined };
    const deps = { config: loadConfig({}), logger: createLogger('silent'), clock: new FakeClock('2026-11-23T09:00:00Z'), startedAt: new Date('2026-11-23T08:59:00Z') };
    app = createApp({ ...deps, door, channels: { mounts: [] } });
    const broken = supabaseClient('http://127.0.0.1:1', serviceKey(SECRET));
    failing = createApp({ ...deps, door: { ...door, supabase: broken }, channels: { mounts: [] } });
  });
  afterAll(() => db.close());

  const loopback = { remoteAddress: '127.0.0.1' };

  it('reports health with the uptime from the injected clock', async () => {
    const res = await app(new Request('http://x/healthz'), loopback);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', uptimeSeconds: 60, database: { reachable: true } });
  });

  it('answers 503 when the database does not answer', async () => {
    const res = await failing(new Request('http://x/healthz'), loopback);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unavailable', database: { reachable: false } });
  });

  it('opens the database API to loopback callers only', async () => {
    const call = (remoteAddress: string) =>
      app(new Request('http://x/rest/v1/rpc/health', { method: 'POST', body: '{}', headers: { authorization: `Bearer ${serviceKey(SECRET)}`, 'content-type': 'application/json' } }), { remoteAddress });
    expect((await call('127.0.0.1')).status).toBe(200);
    expect((await call('::1')).status).toBe(200);
    expect((await call('10.1.2.3')).status).toBe(404);
    expect((await call('::ffff:192.168.1.9')).status).toBe(404);
  });

  it('serves local mode\'s emulators and playground to this machine only', async () => {
    const local = createApp({ config: loadConfig({}), logger: createLogger('silent'), clock: new FakeClock('2026-11-23T09:00:00Z'), startedAt: new Date(), door: { supabase: supabaseClient('http://127.0.0.1:1', serviceKey(SECRET)), mode: 'embedded', schemaVersion: null, close: async () => undefined }, channels: { mounts: [{ prefix: '/', handler: async () => new Response('playground') }, { prefix: '/_emulator/telegram', handler: async () => new Response('emulator') }] } });
    expect(await (await local(new Request('http://x/'), loopback)).text()).toBe('playground');
    expect(await (await local(new Request('http://x/_emulator/telegram/bot1:x/getMe'), { remoteAddress: '::1' })).text()).toBe('emulator');
    expect((await local(new Request('http://x/'), { remoteAddress: '192.168.1.20' })).status).toBe(404);
    expect((await local(new Request('http://x/_emulator/telegram/_control/bots'), { remoteAddress: '10.0.0.7' })).status).toBe(404);
  });

  it('says 405 for a known path with the wrong method', async () => {
    const res = await app(new Request('http://x/healthz', { method: 'POST' }), loopback);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});
