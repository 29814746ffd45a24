-- ============================================================================
-- PROFILE: consent, link codes and her family profile
-- ============================================================================

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
  ),
  -- what the inviter is told when the invitation is used, rendered in the inviter's language when she invited
  joined_notice jsonb
);
comment on table public.link_codes is 'Single-use codes with expiry: family to tutor, new account to family, staff invitations.';
comment on column public.link_codes.joined_notice is 'Staff invitations: [{contact_id, payload}] queued to the inviter when the code is redeemed; "{staff_ref}" in payload.text becomes the new T-<ref>.';
create index link_codes_expires_idx on public.link_codes (expires_at) where used_at is null;
alter table public.link_codes enable row level security;

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
-- admin_invite: a staff invitation made from the shell (the first coordinator)
-- ----------------------------------------------------------------------------
create function public.admin_invite(p_role text, p_full_name text, p_email text, p_code text, p_expires_at timestamptz, p_now timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into public.link_codes (code, purpose, role, full_name, email, created_at, expires_at)
  values (p_code, 'staff', p_role, p_full_name, lower(nullif(p_email, '')), p_now, p_expires_at);
  insert into public.audit_log (at, action, details) values (p_now, 'staff.invited', jsonb_build_object('role', p_role, 'by', 'shell'));
$$;

-- ----------------------------------------------------------------------------
-- profile_effect_apply: her consent, her children, her district, pausing, and
-- redeeming a code (family to tutor, new account to family, staff invitation).
-- Called by effect_apply for `profile.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.profile_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_code public.link_codes;
  v_staff public.staff;
  v_family uuid := p_family_id;
begin
  case split_part(p_effect ->> 'op', '.', 2)
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

  else
    return false;
  end case;
  return true;
end;
$$;
