-- ============================================================================
-- STAFF FLOW: a reassigned family's open requests go with her to the new
-- tutor; the coordinator who invited a colleague hears when she joins; the
-- requests of one family for the new tutor's notice; escalations that say who
-- she is and how to reach her, with buttons
-- ============================================================================

-- ----------------------------------------------------------------------------
-- link_codes.joined_notice: what the inviter is told when the invitation is
-- used, rendered in the inviter's language when she invited
-- ----------------------------------------------------------------------------
alter table public.link_codes add column joined_notice jsonb;
comment on column public.link_codes.joined_notice is 'Staff invitations: [{contact_id, payload}] queued to the inviter when the code is redeemed; "{staff_ref}" in payload.text becomes the new T-<ref>.';

-- ----------------------------------------------------------------------------
-- family_assign (v2): end the current assignment, start the new one (no-op
-- when the tutor is the same); her requests not yet resolved move to the new
-- tutor, to be taken in charge again
-- ----------------------------------------------------------------------------
create or replace function public.family_assign(p_family_id uuid, p_tutor_id uuid, p_by uuid, p_now timestamptz)
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
  -- one somebody had in charge is not escalated as if nobody had ever looked at it
  update public.needs
     set assignee_id = p_tutor_id, assigned_at = p_now, status = 'open', taken_by = null, taken_at = null,
         reminded_at = null, escalated_at = case when status = 'in_charge' then coalesce(escalated_at, p_now) else escalated_at end,
         updated_at = p_now
   where family_id = p_family_id and status <> 'resolved';
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- effect_apply (v2): a staff invitation keeps the notice for its inviter, and
-- redeeming it queues that notice with the new colleague's T-<ref>
-- ----------------------------------------------------------------------------
create or replace function public.effect_apply(p_contact_id uuid, p_effect jsonb, p_now timestamptz)
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
      returning * into v_staff;
      update public.contacts set staff_id = v_staff.id, consent = 'given', consent_source = 'chat', consent_at = p_now,
             language_confirmed = true, updated_at = p_now
       where id = p_contact_id;
      insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
      values (p_now, v_code.created_by, 'staff.joined', 'staff', v_staff.id, jsonb_build_object('role', v_code.role));
      -- the coordinator who invited her hears that she joined, with her T-<ref>
      insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
      select 'staff-joined:' || v_staff.id || ':' || c.id, c.id, c.channel, 'staff_notice', 1,
             jsonb_set(n -> 'payload', '{text}', to_jsonb(replace(n -> 'payload' ->> 'text', '{staff_ref}', 'T-' || v_staff.ref))),
             p_now, p_now, p_now
        from jsonb_array_elements(coalesce(v_code.joined_notice, '[]'::jsonb)) n
        join public.contacts c on c.id = (n ->> 'contact_id')::uuid
        join public.staff inviter on inviter.id = c.staff_id and inviter.active
      on conflict (idempotency_key) do nothing;
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
    insert into public.link_codes (code, purpose, role, full_name, created_by, created_at, expires_at, joined_notice)
    values (p_effect ->> 'code', 'staff', p_effect ->> 'role', p_effect ->> 'full_name', v_staff.id, p_now, (p_effect ->> 'expires_at')::timestamptz,
            -- only notices to the inviter's own chats
            (select jsonb_agg(n) from jsonb_array_elements(coalesce(p_effect -> 'joined_notice', '[]'::jsonb)) n
              where exists (select 1 from public.contacts c where c.id = (n ->> 'contact_id')::uuid and c.staff_id = v_staff.id)));
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
-- staff_family_needs: a family's requests not yet resolved, as the needs list
-- shows them, for its tutor or a coordinator (null when not theirs). Audited.
-- ----------------------------------------------------------------------------
create function public.staff_family_needs(p_contact_id uuid, p_family_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['tutor', 'coordinator']);
  v_family uuid;
begin
  select f.id into v_family from public.families f
   where f.ref = p_family_ref
     and (v_staff.role = 'coordinator' or exists (
       select 1 from public.family_assignments a where a.family_id = f.id and a.tutor_id = v_staff.id and a.ended_at is null));
  if v_family is null then
    return null;
  end if;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'family.needs_listed', 'family', v_family);
  return coalesce((
    select jsonb_agg(jsonb_build_object('ref', n.ref, 'kind', n.kind, 'category', n.category, 'urgency', n.urgency, 'status', n.status,
                                        'created_at', n.created_at, 'family_ref', f.ref, 'caller_name', f.caller_name,
                                        'assignee', (select s.full_name from public.staff s where s.id = n.assignee_id))
                     order by (n.urgency = 'urgent') desc, n.created_at, n.ref)
      from public.needs n join public.families f on f.id = n.family_id
     where n.family_id = v_family and n.status <> 'resolved'), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- needs_overdue (v2): also her first name, who has the need, and how to reach
-- her: each chat's channel, and the number when it is WhatsApp
-- ----------------------------------------------------------------------------
create or replace function public.needs_overdue(p_now timestamptz, p_urgent_minutes int, p_remind_hours int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with coordinators as (
    select coalesce(jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language)), '[]'::jsonb) as list
      from public.staff s join public.contacts c on c.staff_id = s.id where s.role = 'coordinator' and s.active
  ),
  overdue as (
    select n.*, f.ref as family_ref, f.caller_name, d.name as district, s.full_name as assignee,
           coalesce((select jsonb_agg(jsonb_build_object('channel', c.channel,
                                                         'number', case when c.channel = 'whatsapp' then c.provider_id end)
                                      order by c.created_at)
                       from public.contacts c where c.family_id = f.id and c.consent = 'given' and c.status <> 'unreachable'), '[]'::jsonb) as reach
      from public.needs n join public.families f on f.id = n.family_id left join public.districts d on d.code = f.district_code
      left join public.staff s on s.id = n.assignee_id
     where n.status = 'open'
  )
  select jsonb_build_object(
    'urgent', coalesce((
      select jsonb_agg(jsonb_build_object('need_id', o.id, 'ref', o.ref, 'category', o.category, 'created_at', o.created_at,
                                          'family_ref', o.family_ref, 'caller_name', o.caller_name, 'district', o.district,
                                          'assignee', o.assignee, 'reach', o.reach,
                                          'recipients', (select list from coordinators)) order by o.created_at)
        from overdue o
       where o.urgency = 'urgent' and o.escalated_at is null
         and o.created_at <= p_now - make_interval(mins => p_urgent_minutes)), '[]'::jsonb),
    'reminders', coalesce((
      select jsonb_agg(jsonb_build_object('need_id', o.id, 'ref', o.ref, 'category', o.category, 'created_at', o.created_at,
                                          'assigned_at', coalesce(o.assigned_at, o.created_at),
                                          'family_ref', o.family_ref, 'caller_name', o.caller_name, 'district', o.district,
                                          'assignee', o.assignee, 'reach', o.reach,
                                          'recipients', coalesce((
                                            select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language))
                                              from public.staff s join public.contacts c on c.staff_id = s.id
                                             where s.id = o.assignee_id and s.active), (select list from coordinators)))
                       order by o.created_at)
        from overdue o
       where o.urgency = 'normal' and o.reminded_at is null
         and coalesce(o.assigned_at, o.created_at) <= p_now - make_interval(hours => p_remind_hours)), '[]'::jsonb));
$$;

-- ----------------------------------------------------------------------------
-- needs_escalate (v2): a message may carry a whole payload (text and buttons)
-- (p_items: [{need_id, kind: urgent|reminder|digest, messages: [{contact_id, key, text | payload}]}])
-- ----------------------------------------------------------------------------
create or replace function public.needs_escalate(p_items jsonb, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_item jsonb;
  v_count int := 0;
begin
  for v_item in select * from jsonb_array_elements(p_items) loop
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
    select m ->> 'key', c.id, c.channel, 'staff_notice', 1, coalesce(m -> 'payload', jsonb_build_object('text', m ->> 'text')), p_now, p_now, p_now
      from jsonb_array_elements(v_item -> 'messages') m join public.contacts c on c.id = (m ->> 'contact_id')::uuid
    on conflict (idempotency_key) do nothing;
    if v_item ->> 'kind' = 'urgent' then
      update public.needs set escalated_at = p_now where id = (v_item ->> 'need_id')::uuid and escalated_at is null;
    elsif v_item ->> 'kind' = 'reminder' then
      update public.needs set reminded_at = p_now where id = (v_item ->> 'need_id')::uuid and reminded_at is null;
    end if;
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants (the redefined functions keep theirs)
-- ----------------------------------------------------------------------------
revoke execute on function public.staff_family_needs(uuid, bigint, timestamptz) from public, anon, authenticated;
grant execute on function public.staff_family_needs(uuid, bigint, timestamptz) to service_role;
