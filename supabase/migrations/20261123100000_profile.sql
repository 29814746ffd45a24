-- ============================================================================
-- PROFILE: consent, link codes, the family profile, and her data rights.
-- The conversation core decides; inbound_finish applies its decisions
-- ("effects") with the replies they cause, in one transaction.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Short references staff can type: F-12 for a family, T-3 for a staff member
-- ----------------------------------------------------------------------------
alter table public.families add column ref bigint generated always as identity;
alter table public.families add constraint families_ref_key unique (ref);
alter table public.staff add column ref bigint generated always as identity;
alter table public.staff add constraint staff_ref_key unique (ref);

-- a pregnancy has no name yet; a born child has one
alter table public.children alter column name drop not null;
alter table public.children add constraint children_born_named check (birth_date is null or name is not null);
-- she can turn a child's reminders off ("stop these reminders") and on again
alter table public.children add column reminders boolean not null default true;

-- consent moved over from her previous account when her tutor relinks a new one
alter table public.contacts drop constraint contacts_consent_source_check;
alter table public.contacts add constraint contacts_consent_source_check check (consent_source in ('chat', 'paper', 'relink'));

-- ----------------------------------------------------------------------------
-- Link codes: a family joins her tutor, a new account rejoins its family, a
-- staff member redeems an invitation. Single use, with an expiry.
-- ----------------------------------------------------------------------------
create table public.link_codes (
  code text primary key check (code ~ '^[A-HJ-NP-Z2-9]{8}$'),
  purpose text not null check (purpose in ('family', 'relink', 'staff')),
  tutor_id uuid references public.staff (id) on delete cascade,
  family_id uuid references public.families (id) on delete cascade,
  role text check (role in ('tutor', 'coordinator')),
  full_name text check (full_name is null or length(full_name) between 1 and 120),
  email text check (email is null or email = lower(email)),
  created_by uuid references public.staff (id) on delete set null,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  constraint link_codes_purpose_fields check (
    (purpose = 'family' and tutor_id is not null and family_id is null and role is null)
    or (purpose = 'relink' and family_id is not null and role is null)
    or (purpose = 'staff' and role is not null and full_name is not null and tutor_id is null and family_id is null)
  )
);
comment on table public.link_codes is 'Single-use codes with expiry: family to tutor, new account to family, staff invitations.';
create index link_codes_expires_idx on public.link_codes (expires_at) where used_at is null;

alter table public.link_codes enable row level security;
revoke all on table public.link_codes from public, anon, authenticated;
grant select, insert, update, delete on table public.link_codes to service_role;

-- ----------------------------------------------------------------------------
-- contact_profile: what the core needs to answer her: family, tutor, children,
-- or the staff member behind the contact
-- ----------------------------------------------------------------------------
create function public.contact_profile(p_contact_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'family', (
      select jsonb_build_object(
        'id', f.id, 'ref', f.ref, 'district_code', f.district_code, 'district_name', d.name,
        'tutor', (
          select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name)
            from public.family_assignments a join public.staff s on s.id = a.tutor_id
           where a.family_id = f.id and a.ended_at is null),
        'children', coalesce((
          select jsonb_agg(jsonb_build_object('id', ch.id, 'name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date, 'reminders', ch.reminders)
                           order by coalesce(ch.birth_date, ch.due_date), ch.created_at)
            from public.children ch where ch.family_id = f.id), '[]'::jsonb))
        from public.families f left join public.districts d on d.code = f.district_code
       where f.id = c.family_id),
    'staff', (
      select jsonb_build_object('id', s.id, 'ref', s.ref, 'role', s.role, 'name', s.full_name, 'active', s.active)
        from public.staff s where s.id = c.staff_id)
  )
  from public.contacts c where c.id = p_contact_id;
$$;

-- ----------------------------------------------------------------------------
-- inbound_begin (v2): as before, and the contact's profile in the same trip
-- ----------------------------------------------------------------------------
create or replace function public.inbound_begin(
  p_channel text,
  p_provider_message_id text,
  p_provider_id text,
  p_language_hint text,
  p_now timestamptz
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_handled timestamptz;
  v_contact public.contacts;
  v_new boolean;
  v_first boolean;
begin
  insert into public.inbound_log (channel, provider_message_id, received_at)
  values (p_channel, p_provider_message_id, p_now)
  on conflict (channel, provider_message_id) do nothing;

  select handled_at into v_handled
    from public.inbound_log
   where channel = p_channel and provider_message_id = p_provider_message_id
   for update;
  if v_handled is not null then
    return jsonb_build_object('duplicate', true);
  end if;

  select * into v_contact from public.contacts where channel = p_channel and provider_id = p_provider_id for update;
  v_new := not found;
  -- an imported family's first message gets a first greeting
  v_first := v_new or v_contact.last_inbound_at is null;
  if v_new then
    insert into public.contacts (channel, provider_id, language, last_inbound_at)
    values (p_channel, p_provider_id, coalesce(p_language_hint, 'it'), p_now)
    returning * into v_contact;
  else
    -- writing again proves she is reachable; a pause (STOP) is only lifted by her own choice
    update public.contacts
       set last_inbound_at = greatest(coalesce(last_inbound_at, p_now), p_now),
           status = case when status = 'unreachable' then 'active' else status end,
           unreachable_reason = case when status = 'unreachable' then null else unreachable_reason end,
           updated_at = p_now
     where id = v_contact.id
     returning * into v_contact;
    -- WhatsApp's window is open again: what waited for it can go
    update public.outbox
       set status = 'pending', not_before = p_now, error_kind = null, error = null, updated_at = p_now
     where contact_id = v_contact.id and status = 'held';
  end if;

  return jsonb_build_object(
    'duplicate', false,
    'contact', jsonb_build_object(
      'id', v_contact.id,
      'is_new', v_new,
      'first_message', v_first,
      'language', v_contact.language,
      'language_confirmed', v_contact.language_confirmed,
      'consent', v_contact.consent,
      'consent_at', v_contact.consent_at,
      'status', v_contact.status,
      'conversation', v_contact.conversation,
      'profile', public.contact_profile(v_contact.id)
    )
  );
end;
$$;

-- ----------------------------------------------------------------------------
-- code_lookup: what a code is, before she is asked anything else
-- ----------------------------------------------------------------------------
create function public.code_lookup(p_code text, p_now timestamptz)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce((
    select jsonb_build_object(
      'status', case when l.used_at is not null then 'used' when l.expires_at <= p_now then 'expired' else 'ok' end,
      'purpose', l.purpose, 'role', l.role, 'full_name', l.full_name,
      'tutor_name', (select s.full_name from public.staff s where s.id = l.tutor_id),
      -- a relinked account keeps the family's language
      'language', (select c.language from public.contacts c where c.family_id = l.family_id
                    order by c.last_inbound_at desc nulls last limit 1))
      from public.link_codes l where l.code = upper(p_code)),
    jsonb_build_object('status', 'unknown'));
$$;

-- ----------------------------------------------------------------------------
-- districts_list: the choices for "where do you live"
-- ----------------------------------------------------------------------------
create function public.districts_list()
returns table (code text, name text)
language sql
stable
set search_path = ''
as $$
  select d.code, d.name from public.districts d where d.active order by d.sort_order, d.name;
$$;

-- ----------------------------------------------------------------------------
-- notice_recipients: the contacts that hear about a family: her current tutor,
-- and the active coordinators
-- ----------------------------------------------------------------------------
create function public.notice_recipients(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'tutor', coalesce((
      select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language))
        from public.family_assignments a
        join public.staff s on s.id = a.tutor_id and s.active
        join public.contacts c on c.staff_id = s.id
       where a.family_id = p_family_id and a.ended_at is null), '[]'::jsonb),
    'coordinators', coalesce((
      select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language))
        from public.staff s join public.contacts c on c.staff_id = s.id
       where s.role = 'coordinator' and s.active), '[]'::jsonb));
$$;

-- ----------------------------------------------------------------------------
-- staff_require: the acting contact's staff row, if it has one of the roles;
-- otherwise insufficient_privilege. Called by every staff action.
-- ----------------------------------------------------------------------------
create function public.staff_require(p_contact_id uuid, p_roles text[])
returns public.staff
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  select s.* into v_staff
    from public.contacts c join public.staff s on s.id = c.staff_id
   where c.id = p_contact_id and s.active and s.role = any (p_roles);
  if not found then
    raise exception 'staff action not allowed' using errcode = '42501';
  end if;
  return v_staff;
end;
$$;

-- ----------------------------------------------------------------------------
-- family_assign: end the current assignment, start the new one (no-op when the
-- same tutor already follows the family)
-- ----------------------------------------------------------------------------
create function public.family_assign(p_family_id uuid, p_tutor_id uuid, p_by uuid, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  if exists (select 1 from public.family_assignments where family_id = p_family_id and ended_at is null and tutor_id = p_tutor_id) then
    return false;
  end if;
  update public.family_assignments set ended_at = p_now where family_id = p_family_id and ended_at is null;
  insert into public.family_assignments (family_id, tutor_id, assigned_by, assigned_at) values (p_family_id, p_tutor_id, p_by, p_now);
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- effect_apply: one decision of the conversation core. Raises on anything the
-- core should have checked first (a used code, a child of another family).
-- ----------------------------------------------------------------------------
create function public.effect_apply(p_contact_id uuid, p_effect jsonb, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_op text := p_effect ->> 'op';
  v_contact public.contacts;
  v_code public.link_codes;
  v_staff public.staff;
  v_family uuid;
  v_id uuid;
begin
  select * into v_contact from public.contacts where id = p_contact_id for update;
  if not found then
    raise exception 'contact % not found', p_contact_id using errcode = 'P0002';
  end if;
  v_family := v_contact.family_id;

  case v_op
  -- ---- her consent and profile ----------------------------------------------
  when 'consent' then
    if v_family is null then
      insert into public.families (created_at, updated_at) values (p_now, p_now) returning id into v_family;
    end if;
    update public.contacts set consent = 'given', consent_source = 'chat', consent_at = p_now, family_id = v_family, updated_at = p_now
     where id = p_contact_id;

  when 'child_add' then
    if v_family is null then raise exception 'no family for contact' using errcode = 'P0002'; end if;
    insert into public.children (family_id, name, birth_date, due_date, created_at, updated_at)
    values (v_family, nullif(p_effect ->> 'name', ''), (p_effect ->> 'birth_date')::date, (p_effect ->> 'due_date')::date, p_now, p_now);

  when 'child_update' then
    update public.children
       set name = case when p_effect ? 'name' then nullif(p_effect ->> 'name', '') else name end,
           birth_date = case when p_effect ? 'birth_date' then (p_effect ->> 'birth_date')::date else birth_date end,
           due_date = case when p_effect ? 'birth_date' then null when p_effect ? 'due_date' then (p_effect ->> 'due_date')::date else due_date end,
           updated_at = p_now
     where id = (p_effect ->> 'child_id')::uuid and family_id = v_family;
    if not found then raise exception 'child not in this family' using errcode = 'P0002'; end if;

  when 'child_remove' then
    delete from public.children where id = (p_effect ->> 'child_id')::uuid and family_id = v_family;

  when 'district' then
    update public.families set district_code = p_effect ->> 'code', updated_at = p_now where id = v_family;

  when 'status' then
    update public.contacts set status = p_effect ->> 'status', updated_at = p_now
     where id = p_contact_id and status <> 'unreachable';

  when 'forget' then
    -- her family and children go; the contact keeps only channel id and language
    -- until the farewell is sent, then outbox_record deletes it
    if v_family is not null then
      insert into public.audit_log (at, action, target_kind, target_id) values (p_now, 'privacy.erased', 'family', v_family);
      delete from public.families where id = v_family;
    end if;
    delete from public.outbox where contact_id = p_contact_id;
    delete from public.media_refs where contact_id = p_contact_id;
    update public.contacts
       set consent = 'declined', consent_source = null, consent_at = null, family_id = null, status = 'active',
           language_confirmed = false, unreachable_reason = null, updated_at = p_now
     where id = p_contact_id;

  -- ---- codes ----------------------------------------------------------------
  when 'redeem' then
    select * into v_code from public.link_codes where code = upper(p_effect ->> 'code') for update;
    if not found or v_code.used_at is not null or v_code.expires_at <= p_now then
      raise exception 'code not usable' using errcode = 'P0001';
    end if;
    update public.link_codes set used_at = p_now where code = v_code.code;
    if v_code.purpose = 'family' then
      if v_family is null then raise exception 'consent before the family code' using errcode = 'P0001'; end if;
      perform public.family_assign(v_family, v_code.tutor_id, v_code.created_by, p_now);
      insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_code.created_by, 'family.joined_with_code', 'family', v_family);
    elsif v_code.purpose = 'relink' then
      -- the new account takes the place of the old ones; the family's history stays
      delete from public.contacts where family_id = v_code.family_id and id <> p_contact_id;
      update public.contacts set family_id = v_code.family_id, consent = 'given', consent_source = 'relink', consent_at = p_now,
             language_confirmed = true, updated_at = p_now
       where id = p_contact_id;
      insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_code.created_by, 'family.relinked', 'family', v_code.family_id);
    else
      if v_family is not null then raise exception 'a family contact cannot become staff' using errcode = 'P0001'; end if;
      insert into public.staff (role, full_name, email, created_at) values (v_code.role, v_code.full_name, v_code.email, p_now)
      returning id into v_id;
      update public.contacts set staff_id = v_id, consent = 'given', consent_source = 'chat', consent_at = p_now,
             language_confirmed = true, updated_at = p_now
       where id = p_contact_id;
      insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
      values (p_now, v_code.created_by, 'staff.joined', 'staff', v_id, jsonb_build_object('role', v_code.role));
    end if;

  -- ---- messages to other people (notices to staff, to a family) --------------
  when 'enqueue' then
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
    select p_effect ->> 'key', c.id, c.channel, p_effect ->> 'kind', 1, p_effect -> 'payload', p_now, p_now, p_now
      from public.contacts c where c.id = (p_effect ->> 'contact_id')::uuid
    on conflict (idempotency_key) do nothing;

  -- ---- staff actions: role checked here, whatever the core decided ----------
  when 'staff_invite' then
    v_staff := public.staff_require(p_contact_id, array['coordinator']);
    insert into public.link_codes (code, purpose, role, full_name, created_by, created_at, expires_at)
    values (p_effect ->> 'code', 'staff', p_effect ->> 'role', p_effect ->> 'full_name', v_staff.id, p_now, (p_effect ->> 'expires_at')::timestamptz);
    insert into public.audit_log (at, staff_id, action, details) values (p_now, v_staff.id, 'staff.invited', jsonb_build_object('role', p_effect ->> 'role'));

  when 'family_code' then
    v_staff := public.staff_require(p_contact_id, array['tutor', 'coordinator']);
    v_id := coalesce((p_effect ->> 'tutor_id')::uuid, v_staff.id);
    if v_id <> v_staff.id then
      v_staff := public.staff_require(p_contact_id, array['coordinator']);
    end if;
    insert into public.link_codes (code, purpose, tutor_id, created_by, created_at, expires_at)
    values (p_effect ->> 'code', 'family', v_id, v_staff.id, p_now, (p_effect ->> 'expires_at')::timestamptz);
    insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'code.family', 'staff', v_id);

  when 'relink_code' then
    v_staff := public.staff_require(p_contact_id, array['tutor', 'coordinator']);
    v_id := (p_effect ->> 'family_id')::uuid;
    if v_staff.role <> 'coordinator' and not exists (
      select 1 from public.family_assignments where family_id = v_id and tutor_id = v_staff.id and ended_at is null) then
      raise exception 'staff action not allowed' using errcode = '42501';
    end if;
    insert into public.link_codes (code, purpose, family_id, created_by, created_at, expires_at)
    values (p_effect ->> 'code', 'relink', v_id, v_staff.id, p_now, (p_effect ->> 'expires_at')::timestamptz);
    insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'code.relink', 'family', v_id);

  when 'assign' then
    v_staff := public.staff_require(p_contact_id, array['coordinator']);
    perform public.family_assign((p_effect ->> 'family_id')::uuid, (p_effect ->> 'tutor_id')::uuid, v_staff.id, p_now);
    insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
    values (p_now, v_staff.id, 'family.assigned', 'family', (p_effect ->> 'family_id')::uuid, jsonb_build_object('tutor_id', p_effect ->> 'tutor_id'));

  else
    -- later areas' decisions (care: answers to reminders)
    perform public.care_effect_apply(p_contact_id, v_family, p_effect, p_now);
  end case;
end;
$$;

-- ----------------------------------------------------------------------------
-- inbound_finish (v2): the core's effects, then state, media and replies
-- ----------------------------------------------------------------------------
drop function public.inbound_finish(text, text, uuid, jsonb, text, boolean, jsonb, jsonb, timestamptz);
create function public.inbound_finish(
  p_channel text,
  p_provider_message_id text,
  p_contact_id uuid,
  p_conversation jsonb,
  p_language text,
  p_language_confirmed boolean,
  p_effects jsonb,
  p_replies jsonb,
  p_media jsonb,
  p_now timestamptz
)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_effect jsonb;
  v_queued int;
begin
  update public.contacts
     set conversation = p_conversation,
         language = p_language,
         language_confirmed = p_language_confirmed,
         updated_at = p_now
   where id = p_contact_id;
  if not found then
    raise exception 'contact % not found', p_contact_id using errcode = 'P0002';
  end if;

  for v_effect in select e from jsonb_array_elements(coalesce(p_effects, '[]'::jsonb)) e loop
    perform public.effect_apply(p_contact_id, v_effect, p_now);
  end loop;

  insert into public.media_refs (contact_id, provider_message_id, kind, ref, content_type, received_at)
  select p_contact_id, p_provider_message_id, m->>'kind', m->>'ref', m->>'content_type', p_now
    from jsonb_array_elements(coalesce(p_media, '[]'::jsonb)) m
  on conflict (provider_message_id, ref) do nothing;

  with queued as (
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
    select format('reply:%s:%s:%s', p_channel, p_provider_message_id, r.n), p_contact_id, p_channel, 'reply', 0, r.reply, p_now, p_now, p_now
      from jsonb_array_elements(coalesce(p_replies, '[]'::jsonb)) with ordinality as r(reply, n)
    on conflict (idempotency_key) do nothing
    returning 1
  )
  select count(*) into v_queued from queued;

  update public.inbound_log set handled_at = p_now
   where channel = p_channel and provider_message_id = p_provider_message_id;
  return v_queued;
end;
$$;

-- ----------------------------------------------------------------------------
-- privacy_export: everything stored about her and her children
-- ----------------------------------------------------------------------------
create function public.privacy_export(p_contact_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'contact', jsonb_build_object(
      'channel', c.channel, 'id', c.provider_id, 'language', c.language, 'consent', c.consent,
      'consent_source', c.consent_source, 'consent_at', c.consent_at, 'status', c.status,
      'created_at', c.created_at, 'last_message_at', c.last_inbound_at),
    'family', (
      select jsonb_build_object(
        'ref', 'F-' || f.ref, 'district', d.name, 'created_at', f.created_at,
        'tutor', (select s.full_name from public.family_assignments a join public.staff s on s.id = a.tutor_id
                   where a.family_id = f.id and a.ended_at is null),
        'children', coalesce((
          select jsonb_agg(jsonb_build_object('name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date, 'added_at', ch.created_at)
                           order by coalesce(ch.birth_date, ch.due_date))
            from public.children ch where ch.family_id = f.id), '[]'::jsonb))
        from public.families f left join public.districts d on d.code = f.district_code
       where f.id = c.family_id),
    'files', coalesce((
      select jsonb_agg(jsonb_build_object('kind', m.kind, 'ref', m.ref, 'received_at', m.received_at) order by m.received_at)
        from public.media_refs m where m.contact_id = c.id), '[]'::jsonb),
    'messages_waiting', (select count(*) from public.outbox o where o.contact_id = c.id and o.status in ('pending', 'held'))
  )
  from public.contacts c where c.id = p_contact_id;
$$;

-- ----------------------------------------------------------------------------
-- outbox_claim (v2): a paused contact (STOP) still gets the replies to what
-- she writes, nothing else
-- ----------------------------------------------------------------------------
create or replace function public.outbox_claim(
  p_worker text,
  p_channel text,
  p_now timestamptz,
  p_limit int,
  p_lease_seconds int
)
returns table (
  id bigint,
  contact_id uuid,
  provider_id text,
  language text,
  last_inbound_at timestamptz,
  kind text,
  payload jsonb,
  attempts int,
  template_sid text,
  template_variables text[]
)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query
  with candidates as (
    (select o.id from public.outbox o
      where o.channel = p_channel and o.status = 'pending' and o.not_before <= p_now
      order by o.priority, o.not_before, o.id
      limit p_limit * 10)
    union all
    (select o.id from public.outbox o
      where o.channel = p_channel and o.status = 'sending' and o.lease_until < p_now
      order by o.lease_until
      limit p_limit)
  ),
  ready as (
    select o.id
      from public.outbox o
      join public.contacts c on c.id = o.contact_id
     where o.id in (select candidates.id from candidates)
       and (c.status = 'active' or (c.status = 'paused' and o.kind = 'reply'))
       and ((o.status = 'pending' and o.not_before <= p_now) or (o.status = 'sending' and o.lease_until < p_now))
       and not exists (
         select 1 from public.outbox e
          where e.contact_id = o.contact_id and e.id < o.id
            and (e.status = 'pending' or (e.status = 'sending' and e.lease_until >= p_now) or e.status = 'held'))
       and not exists (
         select 1 from public.outbox s
          where s.contact_id = o.contact_id and s.id <> o.id and s.status = 'sending' and s.lease_until >= p_now)
     order by o.priority, o.not_before, o.id
     limit p_limit
     for update of o skip locked
  ),
  claimed as (
    update public.outbox o
       set status = 'sending', claimed_by = p_worker, lease_until = p_now + make_interval(secs => p_lease_seconds),
           attempts = o.attempts + 1, updated_at = p_now
      from ready
     where o.id = ready.id
    returning o.*
  )
  select cl.id, cl.contact_id, c.provider_id, c.language, c.last_inbound_at, cl.kind, cl.payload, cl.attempts,
         t.content_sid, t.variables
    from claimed cl
    join public.contacts c on c.id = cl.contact_id
    left join public.message_templates t on t.kind = cl.kind and t.language = c.language
   order by cl.priority, cl.not_before, cl.id;
end;
$$;

-- ----------------------------------------------------------------------------
-- outbox_record (v2): as before; then a contact who declined or erased her
-- data is deleted once her last message (the farewell) has left
-- ----------------------------------------------------------------------------
create or replace function public.outbox_record(
  p_id bigint,
  p_worker text,
  p_outcome text,
  p_provider_message_id text,
  p_error text,
  p_retry_at timestamptz,
  p_now timestamptz
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row public.outbox;
  v_result text;
begin
  select * into v_row from public.outbox where id = p_id for update;
  if not found or v_row.status <> 'sending' or v_row.claimed_by is distinct from p_worker then
    return coalesce(v_row.status, 'missing');
  end if;

  if p_outcome = 'sent' then
    update public.outbox
       set status = 'sent', provider_message_id = p_provider_message_id, delivery_status = 'sent', sent_at = p_now,
           lease_until = null, error_kind = null, error = null, updated_at = p_now
     where id = p_id;
    v_result := 'sent';
  elsif p_outcome = 'retry' then
    update public.outbox
       set status = 'pending', not_before = coalesce(p_retry_at, p_now), lease_until = null, claimed_by = null,
           error_kind = 'retry', error = p_error, updated_at = p_now
     where id = p_id;
    return 'pending';
  elsif p_outcome = 'contact_gone' then
    update public.outbox set status = 'failed', error_kind = 'contact_gone', error = p_error, lease_until = null, updated_at = p_now where id = p_id;
    update public.contacts set status = 'unreachable', unreachable_reason = p_error, updated_at = p_now where id = v_row.contact_id;
    -- the rest of her queue would only wait forever: close it with the reason
    update public.outbox set status = 'failed', error_kind = 'contact_gone', error = 'contact unreachable: ' || p_error, updated_at = p_now
     where contact_id = v_row.contact_id and status in ('pending', 'held');
    v_result := 'failed';
  elsif p_outcome = 'permanent' then
    update public.outbox set status = 'failed', error_kind = 'permanent', error = p_error, lease_until = null, updated_at = p_now where id = p_id;
    v_result := 'failed';
  elsif p_outcome = 'no_template' then
    update public.outbox set status = 'held', error_kind = 'no_template', error = p_error, lease_until = null, claimed_by = null, updated_at = p_now where id = p_id;
    return 'held';
  else
    raise exception 'unknown outcome %', p_outcome using errcode = '22023';
  end if;

  delete from public.contacts c
   where c.id = v_row.contact_id and c.consent = 'declined' and c.family_id is null and c.staff_id is null
     and c.conversation = '{}'::jsonb
     and not exists (select 1 from public.outbox o where o.contact_id = c.id and o.status in ('pending', 'sending', 'held'));
  return v_result;
end;
$$;

-- ----------------------------------------------------------------------------
-- housekeeping_prune (v2): also codes that expired long ago, and a contact who
-- declined or erased her data whose goodbye could never be sent
-- ----------------------------------------------------------------------------
create or replace function public.housekeeping_prune(p_before timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_inbound int;
  v_runs int;
  v_codes int;
  v_forgotten int;
begin
  delete from public.inbound_log where received_at < p_before;
  get diagnostics v_inbound = row_count;
  delete from public.job_runs where finished_at < p_before;
  get diagnostics v_runs = row_count;
  delete from public.link_codes where expires_at < p_before;
  get diagnostics v_codes = row_count;
  delete from public.contacts
   where consent = 'declined' and family_id is null and staff_id is null and conversation = '{}'::jsonb and updated_at < p_before;
  get diagnostics v_forgotten = row_count;
  return jsonb_build_object('inbound_ids_pruned', v_inbound, 'job_runs_pruned', v_runs, 'codes_pruned', v_codes, 'declined_contacts_deleted', v_forgotten);
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.contact_profile(uuid) from public, anon, authenticated;
revoke execute on function public.code_lookup(text, timestamptz) from public, anon, authenticated;
revoke execute on function public.districts_list() from public, anon, authenticated;
revoke execute on function public.notice_recipients(uuid) from public, anon, authenticated;
revoke execute on function public.staff_require(uuid, text[]) from public, anon, authenticated;
revoke execute on function public.family_assign(uuid, uuid, uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.effect_apply(uuid, jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.inbound_finish(text, text, uuid, jsonb, text, boolean, jsonb, jsonb, jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.privacy_export(uuid) from public, anon, authenticated;
grant execute on function public.contact_profile(uuid) to service_role;
grant execute on function public.code_lookup(text, timestamptz) to service_role;
grant execute on function public.districts_list() to service_role;
grant execute on function public.notice_recipients(uuid) to service_role;
grant execute on function public.staff_require(uuid, text[]) to service_role;
grant execute on function public.family_assign(uuid, uuid, uuid, timestamptz) to service_role;
grant execute on function public.effect_apply(uuid, jsonb, timestamptz) to service_role;
grant execute on function public.inbound_finish(text, text, uuid, jsonb, text, boolean, jsonb, jsonb, jsonb, timestamptz) to service_role;
grant execute on function public.privacy_export(uuid) to service_role;
