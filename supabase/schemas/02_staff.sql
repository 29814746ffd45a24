-- ============================================================================
-- STAFF: tutors and coordinators, who follows which family, the audit log,
-- and staff lookups
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Staff
-- ----------------------------------------------------------------------------
create table public.staff (
  id uuid primary key default gen_random_uuid(),
  role text not null check (role in ('tutor', 'coordinator')),
  full_name text not null check (length(full_name) between 1 and 120),
  email text unique check (email is null or email = lower(email)),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  -- the short reference staff can type: T-3
  ref bigint generated always as identity,
  constraint staff_ref_key unique (ref)
);
comment on table public.staff is 'Programme staff: tutors follow families, coordinators run the programme.';
alter table public.staff enable row level security;

-- ----------------------------------------------------------------------------
-- Family to tutor assignment (history kept: a family has at most one current tutor)
-- ----------------------------------------------------------------------------
create table public.family_assignments (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null references public.families (id) on delete cascade,
  tutor_id uuid not null references public.staff (id),
  assigned_by uuid references public.staff (id),
  assigned_at timestamptz not null default now(),
  ended_at timestamptz,
  constraint family_assignments_period check (ended_at is null or ended_at >= assigned_at)
);
comment on table public.family_assignments is 'Which tutor follows which family, and since when; ended rows keep the history.';
create unique index family_assignments_current_idx on public.family_assignments (family_id) where ended_at is null;
create index family_assignments_tutor_idx on public.family_assignments (tutor_id) where ended_at is null;
alter table public.family_assignments enable row level security;

-- ----------------------------------------------------------------------------
-- Audit log (no personal data: ids and action names only)
-- ----------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  staff_id uuid references public.staff (id) on delete set null,
  action text not null,
  target_kind text,
  target_id uuid,
  details jsonb not null default '{}'::jsonb
);
comment on table public.audit_log is 'Every staff action: who did what to which record; never names or message bodies.';
create index audit_log_at_idx on public.audit_log (at);
alter table public.audit_log enable row level security;

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
-- tutor is the same); her requests not yet resolved move to the new tutor, to
-- be taken in charge again
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
-- staff_families: the families a tutor follows
-- ----------------------------------------------------------------------------
create function public.staff_families(p_contact_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['tutor', 'coordinator']);
begin
  insert into public.audit_log (at, staff_id, action) values (p_now, v_staff.id, 'families.listed');
  return coalesce((
    select jsonb_agg(public.family_card(a.family_id) order by f.ref)
      from public.family_assignments a join public.families f on f.id = a.family_id
     where a.tutor_id = v_staff.id and a.ended_at is null), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_queue: families waiting for a tutor (coordinators)
-- ----------------------------------------------------------------------------
create function public.staff_queue(p_contact_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  insert into public.audit_log (at, staff_id, action) values (p_now, v_staff.id, 'queue.listed');
  return coalesce((
    select jsonb_agg(public.family_card(f.id) order by f.ref)
      from public.families f
     where f.status = 'active'
       and not exists (select 1 from public.family_assignments a where a.family_id = f.id and a.ended_at is null)), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_caseload: how many families a staff member follows, the needs waiting
-- on her (open or in charge: taken by her, assigned to her, or of a family she
-- follows and nobody was assigned) and how many of those are urgent
-- ----------------------------------------------------------------------------
create function public.staff_caseload(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
    select jsonb_build_object(
             'families', (select count(*) from public.family_assignments a where a.tutor_id = p_staff_id and a.ended_at is null),
             'open_needs', count(*),
             'urgent_needs', count(*) filter (where n.urgency = 'urgent'))
      from public.needs n
     where n.status in ('open', 'in_charge') and (n.taken_by = p_staff_id or (n.taken_by is null and (n.assignee_id = p_staff_id or (n.assignee_id is null
       and exists (select 1 from public.family_assignments a where a.family_id = n.family_id and a.tutor_id = p_staff_id and a.ended_at is null))))));
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_tutors: active staff, how many families each follows and each tutor's
-- open needs (coordinators)
-- ----------------------------------------------------------------------------
create function public.staff_tutors(p_contact_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  insert into public.audit_log (at, staff_id, action) values (p_now, v_staff.id, 'tutors.listed');
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role)
                     || (public.staff_caseload(s.id) - 'urgent_needs')
           order by s.ref)
      from public.staff s where s.active and (s.role = 'tutor' or exists (
        select 1 from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_family_lookup: a family by its ref, for its tutor or a coordinator;
-- null when there is none the caller may see
-- ----------------------------------------------------------------------------
create function public.staff_family_lookup(p_contact_id uuid, p_family_ref bigint, p_now timestamptz)
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
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'family.viewed', 'family', v_family);
  return public.family_card(v_family);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_member_card: an active staff member by ref, with the contacts that
-- reach them; null when there is none
-- ----------------------------------------------------------------------------
create function public.staff_member_card(p_staff_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return (
    select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role,
             'contacts', coalesce((select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language))
                                    from public.contacts c where c.staff_id = s.id), '[]'::jsonb))
      from public.staff s where s.ref = p_staff_ref and s.active);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_member_lookup: an active staff member by ref, with the contacts that
-- reach them (coordinators)
-- ----------------------------------------------------------------------------
create function public.staff_member_lookup(p_contact_id uuid, p_staff_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  return public.staff_member_card(p_staff_ref);
end;
$$;

-- ----------------------------------------------------------------------------
-- coordinator_require: an active coordinator by staff id, else insufficient_privilege
-- ----------------------------------------------------------------------------
create function public.coordinator_require(p_staff_id uuid)
returns public.staff
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  select * into v_staff from public.staff where id = p_staff_id and active and role = 'coordinator';
  if not found then
    raise exception 'only an active coordinator may do this' using errcode = '42501';
  end if;
  return v_staff;
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_deactivate: a tutor leaves; her families go to the queue and her open
-- needs back to it, so nothing waits on someone who is gone (coordinators, in
-- the chat)
-- ----------------------------------------------------------------------------
create function public.staff_deactivate(p_contact_id uuid, p_staff_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  return public.staff_deactivate_by(v_staff.id, p_staff_ref, p_now);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_deactivate_by: the deactivation itself, by the coordinator whose
-- staff id is given (checked by the caller: staff_deactivate from the chat,
-- desk_staff_deactivate from the desk), audited with her
-- ----------------------------------------------------------------------------
create function public.staff_deactivate_by(p_coordinator_id uuid, p_staff_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_answer jsonb;
  v_target uuid;
  v_families int;
  v_needs int;
begin
  -- the same checks and answer as the preview, the row locked first
  select id into v_target from public.staff where ref = p_staff_ref for update;
  v_answer := public.staff_deactivate_preview_by(p_coordinator_id, p_staff_ref);
  if v_answer is null or (v_answer ->> 'already')::boolean then
    return v_answer;
  end if;
  update public.staff set active = false where id = v_target;
  update public.family_assignments set ended_at = greatest(p_now, assigned_at) where tutor_id = v_target and ended_at is null;
  get diagnostics v_families = row_count;
  update public.needs
     set assignee_id = null, assigned_at = null, taken_by = null, taken_at = null, status = 'open', reminded_at = null, updated_at = p_now
   where status in ('open', 'in_charge') and (taken_by = v_target or assignee_id = v_target);
  get diagnostics v_needs = row_count;
  update public.api_keys set revoked_at = p_now where staff_id = v_target and revoked_at is null;
  update public.contacts set conversation = '{}'::jsonb, updated_at = p_now where staff_id = v_target;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, p_coordinator_id, 'staff.deactivated', 'staff', v_target, jsonb_build_object('families', v_families, 'needs', v_needs));
  return v_answer || jsonb_build_object('families', v_families, 'needs', v_needs);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_deactivate_preview: what staff_deactivate would answer, without
-- changing anything: {ref, name, already, families, needs}, or null when no
-- staff member has that T-<ref>. The chat asks for confirmation with it and
-- deactivates through the staff.deactivate effect.
-- ----------------------------------------------------------------------------
create function public.staff_deactivate_preview(p_contact_id uuid, p_staff_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  return public.staff_deactivate_preview_by(v_staff.id, p_staff_ref);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_deactivate_preview_by: the preview for the coordinator whose staff id
-- is given (checked by the caller); she cannot deactivate herself (22023)
-- ----------------------------------------------------------------------------
create function public.staff_deactivate_preview_by(p_coordinator_id uuid, p_staff_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_target public.staff;
begin
  select * into v_target from public.staff where ref = p_staff_ref;
  if not found then
    return null;
  end if;
  if v_target.id = p_coordinator_id then
    raise exception 'a coordinator cannot deactivate themself' using errcode = '22023';
  end if;
  if not v_target.active then
    return jsonb_build_object('ref', v_target.ref, 'name', v_target.full_name, 'already', true, 'families', 0, 'needs', 0);
  end if;
  return jsonb_build_object('ref', v_target.ref, 'name', v_target.full_name, 'already', false,
    'families', (select count(*) from public.family_assignments where tutor_id = v_target.id and ended_at is null),
    'needs', (select count(*) from public.needs
               where status in ('open', 'in_charge') and (taken_by = v_target.id or assignee_id = v_target.id)));
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_effect_apply: staff actions decided in the chat: an invitation, a
-- family's code to join her tutor, a relink code, an assignment, a
-- deactivation. The role is checked here, whatever the core decided. Called by
-- effect_apply for `staff.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.staff_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff;
  v_id uuid;
begin
  case split_part(p_effect ->> 'op', '.', 2)
  when 'invite' then
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

  when 'deactivate' then
    perform public.staff_deactivate(p_contact_id, (p_effect ->> 'staff_ref')::bigint, p_now);

  else
    return false;
  end case;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_export: for a family's data export, the tutor who follows her
-- ----------------------------------------------------------------------------
create function public.staff_export(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('tutor', (
    select s.full_name from public.family_assignments a join public.staff s on s.id = a.tutor_id
     where a.family_id = p_family_id and a.ended_at is null));
$$;

-- ----------------------------------------------------------------------------
-- desk_staff: the desk's staff page: every tutor (and a coordinator who
-- follows families) with her caseload, open and urgent needs, and a page of the
-- families waiting for a tutor, longest waiting first, with what the chat's
-- /queue shows minus names and numbers: district, language and channel of her
-- first contact, since when she waits, her children's birth or due dates.
-- Audited as what the coordinator looked at.
-- ----------------------------------------------------------------------------
create function public.desk_staff(p_staff_id uuid, p_limit int, p_offset int, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
begin
  insert into public.audit_log (at, staff_id, action) values (p_now, v_staff.id, 'desk.staff');
  return jsonb_build_object(
    'tutors', coalesce((
      select jsonb_agg(jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role, 'active', s.active)
                       || public.staff_caseload(s.id) order by s.active desc, s.ref)
        from public.staff s
       where s.role = 'tutor' or (s.active and exists (
         select 1 from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))), '[]'::jsonb),
    'queue_total', (
      select count(*) from public.families f
       where f.status = 'active'
         and not exists (select 1 from public.family_assignments a where a.family_id = f.id and a.ended_at is null)),
    'queue', coalesce((
      select jsonb_agg(jsonb_build_object('ref', w.ref, 'district', w.district, 'language', w.language, 'channel', w.channel,
                                          'waiting_since', w.waiting_since, 'children', w.children)
                       order by w.waiting_since, w.ref)
        from (
          select f.ref, d.name as district, c.language, c.channel,
                 greatest(f.created_at, (select max(a.ended_at) from public.family_assignments a where a.family_id = f.id)) as waiting_since,
                 coalesce((select jsonb_agg(jsonb_build_object('birth_date', ch.birth_date, 'due_date', ch.due_date)
                                            order by coalesce(ch.birth_date, ch.due_date))
                             from public.children ch where ch.family_id = f.id), '[]'::jsonb) as children
            from public.families f
            left join public.districts d on d.code = f.district_code
            left join lateral (select c.language, c.channel from public.contacts c where c.family_id = f.id order by c.created_at limit 1) c on true
           where f.status = 'active'
             and not exists (select 1 from public.family_assignments a where a.family_id = f.id and a.ended_at is null)
           order by waiting_since, f.ref
           limit greatest(p_limit, 0) offset greatest(p_offset, 0)) w), '[]'::jsonb));
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_family: one family for the desk's assignment form (no names, no
-- numbers): its district, language, channel, children's birth or due dates,
-- open needs and current tutor, and the staff she can be given to; null when
-- no family has that F-<ref>. Audited like the chat's look-up.
-- ----------------------------------------------------------------------------
create function public.desk_family(p_staff_id uuid, p_family_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_family uuid;
begin
  select id into v_family from public.families where ref = p_family_ref;
  if v_family is null then
    return null;
  end if;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'family.viewed', 'family', v_family);
  return (
    select jsonb_build_object('ref', f.ref, 'district', d.name, 'status', f.status, 'language', c.language, 'channel', c.channel,
             'tutor', (select jsonb_build_object('ref', s.ref, 'name', s.full_name)
                         from public.family_assignments a join public.staff s on s.id = a.tutor_id
                        where a.family_id = f.id and a.ended_at is null),
             'children', coalesce((select jsonb_agg(jsonb_build_object('birth_date', ch.birth_date, 'due_date', ch.due_date)
                                                    order by coalesce(ch.birth_date, ch.due_date))
                                     from public.children ch where ch.family_id = f.id), '[]'::jsonb),
             'open_needs', (select count(*) from public.needs n where n.family_id = f.id and n.status <> 'resolved'),
             'tutors', coalesce((
               select jsonb_agg(jsonb_build_object('ref', s.ref, 'name', s.full_name, 'role', s.role,
                                                   'families', (select count(*) from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))
                                order by s.ref)
                 from public.staff s where s.active and (s.role = 'tutor' or exists (
                   select 1 from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))), '[]'::jsonb))
      from public.families f
      left join public.districts d on d.code = f.district_code
      left join lateral (select c.language, c.channel from public.contacts c where c.family_id = f.id order by c.created_at limit 1) c on true
     where f.id = v_family);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_assign_context: what an assignment from the desk tells whom, as the
-- chat's /assign reads it: the family's card, the new tutor and the current
-- one with the contacts that reach them, and her needs not yet resolved;
-- {family: null} when no family has that F-<ref>, tutor null when no active
-- staff member has that T-<ref>
-- ----------------------------------------------------------------------------
create function public.desk_assign_context(p_staff_id uuid, p_family_ref bigint, p_tutor_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_family uuid;
  v_card jsonb;
begin
  select id into v_family from public.families where ref = p_family_ref;
  if v_family is null then
    return jsonb_build_object('family', null);
  end if;
  v_card := public.family_card(v_family);
  return jsonb_build_object(
    'family', v_card,
    'tutor', public.staff_member_card(p_tutor_ref),
    'previous', case when v_card -> 'tutor' ->> 'ref' is not null then public.staff_member_card((v_card -> 'tutor' ->> 'ref')::bigint) end,
    'open', public.family_open_needs(v_family));
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_family_assign: a coordinator on the desk gives a family to a tutor:
-- the same assignment and audit as the chat's /assign (staff.assign), and the
-- same notices queued the same way (messaging.enqueue effects, built by the
-- chat's own code); false when the family already has that tutor (nothing
-- queued, nothing audited). The tutor must be active (22023).
-- ----------------------------------------------------------------------------
create function public.desk_family_assign(p_staff_id uuid, p_family_id uuid, p_tutor_id uuid, p_notices jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_notice jsonb;
begin
  if not exists (select 1 from public.staff where id = p_tutor_id and active) then
    raise exception 'the tutor is not active' using errcode = '22023';
  end if;
  if not public.family_assign(p_family_id, p_tutor_id, v_staff.id, p_now) then
    return false;
  end if;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'family.assigned', 'family', p_family_id, jsonb_build_object('tutor_id', p_tutor_id, 'desk', true));
  for v_notice in select e from jsonb_array_elements(coalesce(p_notices, '[]'::jsonb)) e loop
    if v_notice ->> 'op' is distinct from 'messaging.enqueue' then
      raise exception 'not a notice: %', v_notice ->> 'op' using errcode = '22023';
    end if;
    perform public.messaging_effect_apply(null, p_family_id, v_notice, p_now);
  end loop;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_staff_deactivate_preview: the chat's preview for the desk's
-- confirmation page, with the families (F-<ref>) that go back to the queue;
-- null when no staff member has that T-<ref>; herself refused (22023)
-- ----------------------------------------------------------------------------
create function public.desk_staff_deactivate_preview(p_staff_id uuid, p_staff_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_answer jsonb := public.staff_deactivate_preview_by(v_staff.id, p_staff_ref);
begin
  if v_answer is null then
    return null;
  end if;
  return v_answer || jsonb_build_object('family_refs', coalesce((
    select jsonb_agg(f.ref order by f.ref)
      from public.family_assignments a join public.families f on f.id = a.family_id join public.staff s on s.id = a.tutor_id
     where s.ref = p_staff_ref and a.ended_at is null), '[]'::jsonb));
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_staff_deactivate: the chat's deactivation, confirmed on the desk
-- ----------------------------------------------------------------------------
create function public.desk_staff_deactivate(p_staff_id uuid, p_staff_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
begin
  return public.staff_deactivate_by(v_staff.id, p_staff_ref, p_now);
end;
$$;
