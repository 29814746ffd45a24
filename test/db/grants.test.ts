import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { serviceKey, supabaseClient } from '../../bot/db/client';
import { postgresExecutor } from '../../bot/db/executor';
import { migrate } from '../../bot/db/migrate';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { loadConfig } from '../../bot/config';
import { createLogger } from '../../bot/logger';
import { broadcasts } from '../../bot/features/broadcasts/job';
import { coreDeps, i18n, person } from '../support/chat';
import { freshPostgresDatabase } from '../support/databases';
import type { TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';

const SECRET = 'grants-secret-0123456789abcdef0123456789';
const NOW = '2026-11-23T10:00:00+01:00';

/**
 * A PostgreSQL where Supabase's API roles already exist (as on Supabase, or in any database of a server after
 * the first) and nothing gives them default privileges: whatever the app may do, a migration granted.
 */
describe('on a PostgreSQL whose roles pre-existed, with no default privileges', () => {
  let t: TestDb;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const version = inject('pg15Url') ? '15' : '18';
    const fresh = await freshPostgresDatabase(version);
    drop = fresh.drop;
    const admin = new pg.Client({ connectionString: fresh.url });
    await admin.connect();
    await admin.query(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
      if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin noinherit; end if;
      if not exists (select 1 from pg_roles where rolname = 'service_role') then create role service_role nologin noinherit bypassrls; end if;
    end $$`);
    const defaults = await admin.query(`select count(*)::int as n from pg_default_acl`);
    expect(defaults.rows[0].n).toBe(0);
    await admin.end();
    const sql = postgresExecutor(fresh.url);
    await migrate(sql);
    const db = supabaseClient('http://embedded.local', serviceKey(SECRET), createRpcTransport({ executor: sql, jwtSecret: SECRET }).fetch);
    t = { db, sql, close: () => sql.close() };
  });
  afterAll(async () => {
    await t?.close();
    await drop?.();
  });

  it('opens a request for her tutor (the request number comes from a sequence)', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-01-10' });
    const tutor = await tutorFor(t, fam.family_id, '2001');
    const mother = person(coreDeps(t, NOW), { id: '1001' });
    await mother.tap('menu:help');
    await mother.tap('need:cat:documents');
    await mother.tap('need:noname');
    await mother.say('I need help with the permesso di soggiorno');
    const needs = await t.sql.query<{ ref: string }>(`select ref::text from public.needs`);
    expect(needs).toHaveLength(1);
    const alerts = await t.sql.query<{ text: string }>(`select payload->>'text' as text from public.outbox where contact_id = $1`, [tutor]);
    expect(alerts[0]!.text).toContain(`N-${needs[0]!.ref}`);
  });

  it('imports families and releases a broadcast to them', async () => {
    const imported = await t.db.rpc('import_families', { p_now: '2026-11-01T10:00:00Z', p_families: [
      { channel: 'telegram', provider_id: '7001', language: 'it', district_code: 'milano-5', tutor_id: null, consent: true, children: [{ name: 'Sara', birth_date: '2026-09-20' }] },
      { channel: 'whatsapp', provider_id: '+393330000001', language: 'ar', district_code: 'milano-5', tutor_id: null, consent: true, children: [{ name: 'Omar', birth_date: '2026-08-01' }] },
    ] });
    expect(imported.error).toBeNull();
    const [coordinator] = await t.sql.query<{ id: string }>(`insert into public.staff (role, full_name) values ('coordinator', 'Anna Rossi') returning id`);
    const created = await t.db.rpc('broadcast_create', { p_staff_id: coordinator!.id, p_source: 'api', p_source_key: null, p_audience: { districts: ['milano-5'] }, p_texts: { it: 'Open day al nido sabato alle 10.' }, p_send_at: new Date(NOW).toISOString(), p_now: new Date(NOW).toISOString() });
    expect(created.error).toBeNull();
    const summary = await broadcasts.run({ db: t.db, logger: createLogger('silent'), config: loadConfig({}), i18n }, new Date(NOW));
    expect(summary.released).toHaveLength(1);
    const queued = await t.sql.query<{ provider_id: string }>(`select c.provider_id from public.outbox o join public.contacts c on c.id = o.contact_id where o.kind = 'broadcast' order by 1`);
    expect(queued.map((r) => r.provider_id)).toEqual(expect.arrayContaining(['+393330000001', '7001']));
  });
});
