import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { serviceKey, supabaseClient } from '../../bot/db/client';
import type { SqlExecutor } from '../../bot/db/executor';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { serveFetch } from '../../bot/http/node-adapter';
import { createLogger } from '../../bot/logger';
import { libreTranslate } from '../../bot/knowledge/translate';
import { hashKey } from '../../functions/api-broadcasts';
import { runJob } from '../../functions/jobs';
import { broadcasts } from '../../bot/features/broadcasts/job';
import { createApp } from '../../functions/server';
import { i18n } from '../support/chat';
import { freshPglite } from '../support/databases';
import { fakeTranslate } from '../support/fake-translate';

const SECRET = 'api-test-secret-0123456789abcdef01234567';
const COORDINATOR_KEY = 'fbk_coordinator-key-0123456789abcdef';
const TUTOR_KEY = 'fbk_tutor-key-0123456789abcdef012345';

describe('POST /api/broadcasts and the coordinators\' API', () => {
  let sql: SqlExecutor;
  let base: string;
  let close: () => Promise<void>;
  let translator: Awaited<ReturnType<typeof fakeTranslate>>;
  const clock = new FakeClock('2026-11-23T10:00:00+01:00');
  const logger = createLogger('silent');
  let door: Parameters<typeof createApp>[0]['door'];

  beforeAll(async () => {
    sql = await freshPglite();
    translator = await fakeTranslate();
    const transport = createRpcTransport({ executor: sql, jwtSecret: SECRET });
    door = { supabase: supabaseClient('http://embedded.local', serviceKey(SECRET), transport.fetch), mode: 'embedded' as const, schemaVersion: null, transport, close: async () => undefined };
    const app = createApp({ config: loadConfig({}), logger, clock, door, startedAt: clock.now(), channels: { mounts: [] }, i18n, translate: libreTranslate({ url: translator.url, logger }) });
    const served = await serveFetch(app);
    base = served.url;
    close = served.close;
    for (const [role, name, key] of [['coordinator', 'Marco Rossi', COORDINATOR_KEY], ['tutor', 'Eva Verdi', TUTOR_KEY]] as const) {
      // a tutor's key cannot be made through api_key_create: it is planted here to prove the door checks the role too
      await sql.query(`with s as (insert into public.staff (role, full_name) values ($1, $2) returning id) insert into public.api_keys (staff_id, key_hash) select id, $3 from s`, [role, name, hashKey(key)]);
    }
    for (const [who, lng, channel] of [['1', 'ar', 'telegram'], ['2', 'ar', 'whatsapp'], ['3', 'it', 'telegram'], ['4', 'zh', 'telegram']] as const) {
      await sql.query(`with f as (insert into public.families (district_code, created_at, updated_at) values ('milano-1', $4, $4) returning id)
        insert into public.contacts (channel, provider_id, language, consent, family_id, last_inbound_at) select $1, $2, $3, 'given', f.id, $4 from f`,
      [channel, channel === 'whatsapp' ? `+3933300000${who}` : who, lng, clock.now().toISOString()]);
    }
  });
  afterAll(async () => {
    await close();
    await translator.close();
    await sql.close();
  });

  const post = (path: string, body: unknown, key: string | null = COORDINATOR_KEY, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const get = (path: string, key: string | null = COORDINATOR_KEY) => fetch(`${base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('answers 401 without a key, with a wrong key, and with a tutor\'s key; nothing is created', async () => {
    const body = { texts: { it: 'Avviso' } };
    for (const key of [null, 'fbk_not-a-real-key-0123456789abcdef', TUTOR_KEY]) {
      const res = await post('/api/broadcasts', body, key);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect((await get('/api/report', 'Bearer nonsense')).status).toBe(401);
    expect(await sql.query(`select 1 from public.broadcasts`)).toEqual([]);
  });

  it('previews the recipients per language with the text each will read, and machine drafts for approval', async () => {
    const res = await post('/api/broadcasts', { audience: { languages: ['ar', 'zh'] }, texts: { it: 'Open day al nido sabato.', ar: 'يوم مفتوح' }, preview: true, draft_translations: true });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ recipients: 3, families: 3, languages: { ar: 2, zh: 1 }, channels: { telegram: 2, whatsapp: 1 }, drafts: { zh: '[zh] Open day al nido sabato.' } });
    expect(body.reads.zh).toMatchObject({ text_language: 'it' });
    expect(body.reads.ar.text).toContain('يوم مفتوح');
    expect(await sql.query(`select 1 from public.broadcasts`)).toEqual([]);
  });

  it('refuses a broadcast without Italian, with an unknown filter or with bad JSON, saying why', async () => {
    const noItalian = await post('/api/broadcasts', { texts: { ar: 'x' } });
    expect(noItalian.status).toBe(400);
    expect(JSON.stringify(await noItalian.json())).toContain('Italian');
    expect((await post('/api/broadcasts', { texts: { it: 'x' }, audience: { religion: ['x'] } })).status).toBe(400);
    expect((await post('/api/broadcasts', '{not json')).status).toBe(400);
    expect((await post('/api/broadcasts', { texts: { it: 'x' }, send_at: 'tomorrow' })).status).toBe(400);
  });

  it('creates once per Idempotency-Key, sends through the job, reports the counts, lists failures and cannot be cancelled once done', async () => {
    const body = { audience: { languages: ['ar'] }, texts: { it: 'Vaccini gratuiti sabato.' } };
    const first = await post('/api/broadcasts', body, COORDINATOR_KEY, { 'idempotency-key': 'vaccini-sabato-1' });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ ref: 'B-1', status: 'scheduled', recipients: 2, created: true });
    const again = await post('/api/broadcasts', body, COORDINATOR_KEY, { 'idempotency-key': 'vaccini-sabato-1' });
    expect(again.status).toBe(200);
    expect(await sql.query(`select count(*)::int as n from public.broadcasts`)).toEqual([{ n: 1 }]);

    await runJob(broadcasts, { db: door.supabase, logger, config: loadConfig({}), i18n }, clock.now());
    // one goes, one is refused by the provider
    const rows = await sql.query<{ id: number }>(`select id from public.outbox where kind = 'broadcast' order by id`);
    await sql.query(`update public.outbox set status = 'sent', delivery_status = 'read', sent_at = $2 where id = $1`, [rows[0]!.id, clock.now().toISOString()]);
    await sql.query(`update public.outbox set status = 'failed', error_kind = 'contact_gone', error = 'provider error 21610' where id = $1`, [rows[1]!.id]);
    const report = await (await get('/api/broadcasts/B-1')).json();
    expect(report).toMatchObject({ ref: 1, status: 'sending', counts: { recipients: 2, queued: 2, sent: 1, delivered: 1, read: 1, failed: 1, reasons: { contact_gone: 1 } } });
    const failures = await (await get('/api/broadcasts/B-1/failures')).json();
    expect(failures).toEqual([expect.objectContaining({ kind: 'contact_gone', reason: 'provider error 21610' })]);
    expect(JSON.stringify(failures)).not.toMatch(/\+39|Vaccini/); // no numbers, no texts

    clock.advance(60_000);
    await runJob(broadcasts, { db: door.supabase, logger, config: loadConfig({}), i18n }, clock.now());
    expect((await (await get('/api/broadcasts/B-1')).json()).status).toBe('done');
    expect(await (await post('/api/broadcasts/B-1/cancel', {})).json()).toMatchObject({ was: 'done', status: 'done', messages_cancelled: 0 });
    expect((await get('/api/broadcasts/B-99')).status).toBe(404);
  });

  it('schedules for later and cancels before it is sent', async () => {
    const res = await post('/api/broadcasts', { texts: { it: 'Chiusura uffici.' }, send_at: '2026-11-30T10:00:00+01:00' });
    const created = await res.json();
    expect(new Date(created.send_at).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    const cancel = await post(`/api/broadcasts/${created.ref}/cancel`, {});
    expect(await cancel.json()).toMatchObject({ was: 'scheduled', status: 'cancelled' });
    clock.set('2026-11-30T10:00:00+01:00');
    await runJob(broadcasts, { db: door.supabase, logger, config: loadConfig({}), i18n }, clock.now());
    expect(await sql.query(`select count(*)::int as n from public.broadcast_recipients r join public.broadcasts b on b.id = r.broadcast_id where b.ref = $1`, [Number(created.ref.slice(2))])).toEqual([{ n: 0 }]);
  });

  it('gives the programme report as JSON, CSV or Markdown', async () => {
    const json = await (await get('/api/report?from=2026-11-01&to=2026-11-30')).json();
    expect(json.period).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(json.families.total).toBe('<5');
    const csv = await get('/api/report?from=2026-11-01&to=2026-11-30&format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toContain('families,all,,total,<5');
    expect((await get('/api/report?from=2026-13-01')).status).toBe(400);
  });

  it('shows a district with 3 families as "<5", never as 3, in the JSON, the CSV and the Markdown', async () => {
    // 6 more in milano-2 and 3 in milano-9, beside the 4 in milano-1
    await sql.query(`insert into public.families (district_code, created_at) select d.code, '2026-11-10T10:00:00Z'
                     from (values ('milano-2', 6), ('milano-9', 3)) d(code, n), generate_series(1, d.n)`);
    const json = await (await get('/api/report?from=2026-11-01&to=2026-11-30')).json();
    expect(json.families).toMatchObject({ total: 13, by_district: { 'milano-1': '<5', 'milano-2': 6, 'milano-9': '<5' } });
    // no count of people in the JSON is 1 to 4 (the number of broadcasts and the medians are not counts of people)
    const small: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (typeof v === 'number' && v > 0 && v < 5 && path !== 'broadcasts.total' && !/median_/.test(path)) small.push(`${path}=${v}`);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    };
    walk(json, '');
    expect(small).toEqual([]);
    const csv = await (await get('/api/report?from=2026-11-01&to=2026-11-30&format=csv')).text();
    expect(csv).toContain('families,district,milano-9,total,<5\n');
    expect(csv).not.toContain('milano-9,total,3');
    const md = await get('/api/report?from=2026-11-01&to=2026-11-30&format=md');
    expect(md.headers.get('content-type')).toContain('text/markdown');
    const page = await md.text();
    expect(page).toContain('| milano-9 | <5 |  |');
    expect(page).not.toMatch(/milano-9 \| 3/);
  });
});
