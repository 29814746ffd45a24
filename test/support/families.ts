import type { TestDb } from './door';

/** When the helper's families registered and last wrote: an hour before the tests' default clock (2026-11-23 10:00 in Rome). */
const REGISTERED_AT = '2026-11-23T08:00:00Z';

/** A registered family with one child (or a pregnancy), reachable on one channel; returns the ids. */
export async function familyWithChild(t: TestDb, opts: { providerId: string; channel?: 'telegram' | 'whatsapp'; language?: string; name?: string; birth?: string; due?: string; lastInboundAt?: string | null }) {
  const [row] = await t.sql.query<{ family_id: string; contact_id: string; child_id: string; ref: string }>(`
    with f as (insert into public.families (district_code) values ('milano-5') returning id, ref),
         c as (insert into public.contacts (channel, provider_id, language, language_confirmed, consent, consent_source, consent_at, family_id, last_inbound_at)
               select $1, $2, $3, true, 'given', 'chat', $8::timestamptz, f.id, $7::timestamptz from f returning id),
         ch as (insert into public.children (family_id, name, birth_date, due_date) select f.id, $4, $5::date, $6::date from f returning id)
    select f.id as family_id, c.id as contact_id, ch.id as child_id, f.ref::text as ref from f, c, ch`,
  [opts.channel ?? 'telegram', opts.providerId, opts.language ?? 'it', opts.birth ? (opts.name ?? 'Amir') : null, opts.birth ?? null, opts.due ?? null, opts.lastInboundAt === undefined ? REGISTERED_AT : opts.lastInboundAt, REGISTERED_AT]);
  return row!;
}

/** Staff member following the family since it registered (not the machine's date), reachable on Telegram; returns the tutor's contact id. */
export async function tutorFor(t: TestDb, familyId: string, chatId = '2001'): Promise<string> {
  const [row] = await t.sql.query<{ id: string }>(`
    with s as (insert into public.staff (role, full_name) values ('tutor', 'Giulia Bianchi') returning id),
         a as (insert into public.family_assignments (family_id, tutor_id, assigned_at) select $1, s.id, $3::timestamptz from s)
    insert into public.contacts (channel, provider_id, language, language_confirmed, consent, staff_id)
    select 'telegram', $2, 'it', true, 'given', s.id from s returning id`, [familyId, chatId, REGISTERED_AT]);
  return row!.id;
}
