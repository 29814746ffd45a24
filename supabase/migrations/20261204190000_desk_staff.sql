-- ============================================================================
-- The desk's staff page: tutors with their caseloads, open and urgent needs;
-- the queue of families waiting for a tutor; assigning a family (the chat's
-- /assign, its notices built by the same code) and deactivating a tutor (the
-- chat's preview and deactivation, by the coordinator's staff id). The chat's
-- functions now share their bodies with the desk's: staff_caseload,
-- staff_member_card, staff_deactivate_by, staff_deactivate_preview_by,
-- family_open_needs. Only the new and changed definitions.
-- ============================================================================

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
create or replace function public.staff_tutors(p_contact_id uuid, p_now timestamptz)
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
create or replace function public.staff_member_lookup(p_contact_id uuid, p_staff_ref bigint)
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
-- staff_deactivate: a tutor leaves; her families go to the queue and her open
-- needs back to it, so nothing waits on someone who is gone (coordinators, in
-- the chat)
-- ----------------------------------------------------------------------------
create or replace function public.staff_deactivate(p_contact_id uuid, p_staff_ref bigint, p_now timestamptz)
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
-- staff_deactivate_preview: what staff_deactivate would answer, without
-- changing anything: {ref, name, already, families, needs}, or null when no
-- staff member has that T-<ref>. The chat asks for confirmation with it and
-- deactivates through the staff.deactivate effect.
-- ----------------------------------------------------------------------------
create or replace function public.staff_deactivate_preview(p_contact_id uuid, p_staff_ref bigint)
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
-- family_open_needs: a family's needs not yet resolved, urgent first, as the
-- team's lists show them (for /assign's notice to the new tutor, in the chat
-- and from the desk)
-- ----------------------------------------------------------------------------
create function public.family_open_needs(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce((
    select jsonb_agg(jsonb_build_object('ref', n.ref, 'kind', n.kind, 'category', n.category, 'urgency', n.urgency, 'status', n.status,
                                        'created_at', n.created_at, 'family_ref', f.ref, 'caller_name', f.caller_name,
                                        'assignee', (select s.full_name from public.staff s where s.id = n.assignee_id))
                     order by (n.urgency = 'urgent') desc, n.created_at, n.ref)
      from public.needs n join public.families f on f.id = n.family_id
     where n.family_id = p_family_id and n.status <> 'resolved'), '[]'::jsonb);
$$;

-- ----------------------------------------------------------------------------
-- staff_family_needs: a family's requests not yet resolved, as the needs list
-- shows them, for its tutor or a coordinator (null when not theirs). Audited.
-- ----------------------------------------------------------------------------
create or replace function public.staff_family_needs(p_contact_id uuid, p_family_ref bigint, p_now timestamptz)
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
  return public.family_open_needs(v_family);
end;
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

revoke execute on function public.staff_caseload(uuid),
  public.staff_member_card(bigint),
  public.staff_deactivate_by(uuid, bigint, timestamptz),
  public.staff_deactivate_preview_by(uuid, bigint),
  public.family_open_needs(uuid),
  public.desk_staff(uuid, int, int, timestamptz),
  public.desk_family(uuid, bigint, timestamptz),
  public.desk_assign_context(uuid, bigint, bigint),
  public.desk_family_assign(uuid, uuid, uuid, jsonb, timestamptz),
  public.desk_staff_deactivate_preview(uuid, bigint),
  public.desk_staff_deactivate(uuid, bigint, timestamptz)
  from public, anon, authenticated;
grant execute on function public.staff_caseload(uuid),
  public.staff_member_card(bigint),
  public.staff_deactivate_by(uuid, bigint, timestamptz),
  public.staff_deactivate_preview_by(uuid, bigint),
  public.family_open_needs(uuid),
  public.desk_staff(uuid, int, int, timestamptz),
  public.desk_family(uuid, bigint, timestamptz),
  public.desk_assign_context(uuid, bigint, bigint),
  public.desk_family_assign(uuid, uuid, uuid, jsonb, timestamptz),
  public.desk_staff_deactivate_preview(uuid, bigint),
  public.desk_staff_deactivate(uuid, bigint, timestamptz)
  to service_role;
