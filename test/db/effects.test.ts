import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';

const NOW = '2026-11-23T10:00:00Z';
const LATER = '2026-11-24T09:00:00Z';

/** A coordinator reachable on Telegram; returns her staff id and contact id. */
async function coordinator(t: TestDb, chatId: string): Promise<{ staffId: string; contactId: string }> {
  const [row] = await t.sql.query<{ staff_id: string; contact_id: string }>(`
    with s as (insert into public.staff (role, full_name) values ('coordinator', 'Anna Rossi') returning id)
    insert into public.contacts (channel, provider_id, language, language_confirmed, consent, staff_id)
    select 'telegram', $1, 'it', true, 'given', s.id from s returning staff_id, id as contact_id`, [chatId]);
  return { staffId: row!.staff_id, contactId: row!.contact_id };
}

const apply = (t: TestDb, contactId: string, effect: Record<string, unknown>) =>
  t.sql.query('select public.effect_apply($1, $2::jsonb, $3)', [contactId, JSON.stringify(effect), NOW]);

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e as { code?: string; message: string });
  expect(error, 'it should have failed').toBeDefined();
  return error!;
}

describe('effect_apply, the one dispatcher of `area.verb`', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
  });
  afterEach(() => t.close());

  it.each([
    'consent', // an op from before `area.verb`
    'nowhere.consent',
    'profile.nothing', 'privacy.nothing', 'messaging.nothing', 'staff.nothing', 'care.nothing', 'needs.nothing',
    'knowledge.nothing', 'checkins.nothing', 'calls.nothing', 'broadcasts.nothing', 'safety.nothing',
  ])('refuses %s as an unknown effect (22023), from the dispatcher', async (op) => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const error = await failure(apply(t, fam.contact_id, { op, child_id: fam.child_id }));
    expect(error.code).toBe('22023');
    expect(error.message).toBe(`unknown effect ${op}`);
  });

  it('applies a verb of each kind through its area', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    await apply(t, fam.contact_id, { op: 'care.reminders', child_id: fam.child_id, on: false });
    await apply(t, fam.contact_id, { op: 'checkins.set', on: false });
    await apply(t, fam.contact_id, { op: 'profile.status', status: 'paused' });
    const [row] = await t.sql.query<{ reminders: boolean; checkin_on: boolean; status: string }>(`
      select ch.reminders, f.checkin_on, c.status from public.children ch join public.families f on f.id = ch.family_id
        join public.contacts c on c.family_id = f.id where ch.id = $1`, [fam.child_id]);
    expect(row).toEqual({ reminders: false, checkin_on: false, status: 'paused' });
  });
});

describe('broadcasts in the chat: previews while deciding, writes as effects', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
  });
  afterEach(() => t.close());

  it('creates the broadcast with the B-<ref> announced before, by the writing coordinator', async () => {
    const anna = await coordinator(t, '3001');
    const [{ ref }] = (await t.sql.query<{ ref: string }>('select public.broadcast_ref_next()::text as ref')) as [{ ref: string }];
    await apply(t, anna.contactId, {
      op: 'broadcasts.create', ref: Number(ref), source: 'chat', source_key: 'chat:telegram:77', audience: { districts: ['milano-5'] },
      texts: { it: 'Open day al nido sabato alle 10.' }, send_at: LATER,
    });
    const rows = await t.sql.query<{ ref: string; created_by: string; source: string; send_at: string }>(
      `select ref::text, created_by, source, to_char(send_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as send_at from public.broadcasts`);
    expect(rows).toEqual([{ ref, created_by: anna.staffId, source: 'chat', send_at: LATER }]);
    // the API's calls, without a ref, take the next number
    const api = await t.db.rpc('broadcast_create', { p_staff_id: anna.staffId, p_source: 'api', p_source_key: null, p_audience: {}, p_texts: { it: 'Ciao' }, p_send_at: LATER, p_now: NOW });
    expect(api.error).toBeNull();
    expect(Number((api.data as { ref: number }).ref)).toBe(Number(ref) + 1);
  });

  it('refuses a broadcast from a tutor', async () => {
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const tutor = await tutorFor(t, fam.family_id);
    const error = await failure(apply(t, tutor, { op: 'broadcasts.create', ref: 1, source: 'chat', source_key: 'k', audience: {}, texts: { it: 'x' }, send_at: LATER }));
    expect(error.code).toBe('42501');
  });

  it('previews a cancellation as broadcast_cancel answers it, changing nothing until the effect', async () => {
    const anna = await coordinator(t, '3001');
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const created = await t.db.rpc('broadcast_create', { p_staff_id: anna.staffId, p_source: 'api', p_source_key: null, p_audience: {}, p_texts: { it: 'Ciao' }, p_send_at: NOW, p_now: NOW });
    const { id, ref } = created.data as { id: string; ref: number };
    // released to one family: one message waiting
    await t.sql.query(`
      with o as (insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload) values ('bc:1', $2, 'telegram', 'broadcast', 3, '{"text":"Ciao"}') returning id)
      insert into public.broadcast_recipients (broadcast_id, contact_id, channel, language, text_language, outbox_id) select $1, $2, 'telegram', 'it', 'it', o.id from o`, [id, fam.contact_id]);
    await t.sql.query(`update public.broadcasts set status = 'sending' where id = $1`, [id]);

    const preview = await t.db.rpc('broadcast_cancel_preview', { p_staff_id: anna.staffId, p_ref: ref });
    expect(preview.data).toEqual({ ref, was: 'sending', status: 'cancelled', messages_cancelled: 1 });
    const [still] = await t.sql.query<{ status: string }>('select status from public.broadcasts where id = $1', [id]);
    expect(still?.status).toBe('sending');

    await apply(t, anna.contactId, { op: 'broadcasts.cancel', ref });
    const [after] = await t.sql.query<{ status: string; waiting: number; details: unknown }>(`
      select b.status, (select count(*)::int from public.outbox where status in ('pending', 'held')) as waiting,
             (select details from public.audit_log where action = 'broadcast.cancelled') as details
        from public.broadcasts b where b.id = $1`, [id]);
    // what the preview announced is what broadcast_cancel, behind the effect, did
    expect(after).toEqual({ status: 'cancelled', waiting: 0, details: { was: 'sending', messages_cancelled: 1 } });

    expect((await t.db.rpc('broadcast_cancel_preview', { p_staff_id: anna.staffId, p_ref: ref })).data).toEqual({ ref, was: 'cancelled', status: 'cancelled', messages_cancelled: 0 });
    expect((await t.db.rpc('broadcast_cancel_preview', { p_staff_id: anna.staffId, p_ref: 999 })).data).toBeNull();
  });
});

describe('deactivating a tutor in the chat: a preview, then the staff.deactivate effect', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await pgliteDb();
  });
  afterEach(() => t.close());

  it('previews exactly what staff_deactivate answers, writing nothing; the effect does it', async () => {
    const anna = await coordinator(t, '3001');
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const tutorContact = await tutorFor(t, fam.family_id);
    const [tutor] = await t.sql.query<{ id: string; ref: number }>('select s.id, s.ref::int as ref from public.staff s join public.contacts c on c.staff_id = s.id where c.id = $1', [tutorContact]);
    await t.sql.query(`insert into public.needs (family_id, category, source, assignee_id) values ($1, 'health', 'menu', $2)`, [fam.family_id, tutor!.id]);

    const preview = await t.db.rpc('staff_deactivate_preview', { p_contact_id: anna.contactId, p_staff_ref: tutor!.ref });
    expect(preview.data).toEqual({ ref: tutor!.ref, name: 'Giulia Bianchi', already: false, families: 1, needs: 1 });
    const [active] = await t.sql.query<{ active: boolean }>('select active from public.staff where id = $1', [tutor!.id]);
    expect(active?.active).toBe(true);

    await apply(t, anna.contactId, { op: 'staff.deactivate', staff_ref: tutor!.ref });
    const [after] = await t.sql.query<{ active: boolean; assignments: number; assigned: number; details: unknown }>(`
      select s.active,
             (select count(*)::int from public.family_assignments where tutor_id = s.id and ended_at is null) as assignments,
             (select count(*)::int from public.needs where assignee_id = s.id) as assigned,
             (select details from public.audit_log where action = 'staff.deactivated') as details
        from public.staff s where s.id = $1`, [tutor!.id]);
    // what the preview announced is what the deactivation did
    expect(after).toEqual({ active: false, assignments: 0, assigned: 0, details: { families: 1, needs: 1 } });

    expect((await t.db.rpc('staff_deactivate_preview', { p_contact_id: anna.contactId, p_staff_ref: tutor!.ref })).data)
      .toEqual({ ref: tutor!.ref, name: 'Giulia Bianchi', already: true, families: 0, needs: 0 });
    expect((await t.db.rpc('staff_deactivate_preview', { p_contact_id: anna.contactId, p_staff_ref: 999 })).data).toBeNull();
  });

  it('refuses a preview to a tutor, and a coordinator deactivating herself, as staff_deactivate does', async () => {
    const anna = await coordinator(t, '3001');
    const fam = await familyWithChild(t, { providerId: '1001', birth: '2026-01-10' });
    const tutorContact = await tutorFor(t, fam.family_id);
    const [annaRef] = await t.sql.query<{ ref: number }>('select ref::int as ref from public.staff where id = $1', [anna.staffId]);
    const byTutor = await t.db.rpc('staff_deactivate_preview', { p_contact_id: tutorContact, p_staff_ref: annaRef!.ref });
    expect(byTutor.error?.code).toBe('42501');
    const herself = await t.db.rpc('staff_deactivate_preview', { p_contact_id: anna.contactId, p_staff_ref: annaRef!.ref });
    expect(herself.error?.code).toBe('22023');
  });
});
