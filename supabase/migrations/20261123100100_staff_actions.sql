-- ============================================================================
-- STAFF ACTIONS: what tutors and coordinators read, the caseload import and
-- the shell's first invitation. Every staff read checks the role and is
-- written to the audit log (ids only).
-- ============================================================================

-- ----------------------------------------------------------------------------
-- family_card: what a tutor needs to recognise a family (no phone numbers)
-- ----------------------------------------------------------------------------
create function public.family_card(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', f.id, 'ref', f.ref, 'district', d.name,
    'tutor', (select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name)
                from public.family_assignments a join public.staff s on s.id = a.tutor_id
               where a.family_id = f.id and a.ended_at is null),
    'children', coalesce((
      select jsonb_agg(jsonb_build_object('name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date)
                       order by coalesce(ch.birth_date, ch.due_date))
        from public.children ch where ch.family_id = f.id), '[]'::jsonb),
    'contacts', coalesce((
      select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language, 'channel', c.channel) order by c.created_at)
        from public.contacts c where c.family_id = f.id), '[]'::jsonb))
  from public.families f left join public.districts d on d.code = f.district_code
  where f.id = p_family_id;
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
-- staff_tutors: active staff and how many families each follows (coordinators)
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
    select jsonb_agg(jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role,
             'families', (select count(*) from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))
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
  return (
    select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role,
             'contacts', coalesce((select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language))
                                    from public.contacts c where c.staff_id = s.id), '[]'::jsonb))
      from public.staff s where s.ref = p_staff_ref and s.active);
end;
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
-- import_reference: what an import file is checked against
-- ----------------------------------------------------------------------------
create function public.import_reference()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'districts', coalesce((select jsonb_agg(jsonb_build_object('code', d.code, 'name', d.name)) from public.districts d), '[]'::jsonb),
    'staff', coalesce((select jsonb_agg(jsonb_build_object('id', s.id, 'ref', s.ref, 'email', s.email))
                         from public.staff s where s.active), '[]'::jsonb));
$$;

-- ----------------------------------------------------------------------------
-- import_families: families the programme already follows, checked beforehand.
-- p_families: [{channel, provider_id, language, district_code, tutor_id,
-- consent (bool), children: [{name, birth_date}]}]. Idempotent: a family is
-- found by its contact, a child by name and birth date.
-- ----------------------------------------------------------------------------
create function public.import_families(p_families jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row jsonb;
  v_child jsonb;
  v_contact public.contacts;
  v_family uuid;
  v_families int := 0;
  v_children int := 0;
  v_assigned int := 0;
  v_updated int := 0;
  v_n int;
begin
  for v_row in select e from jsonb_array_elements(p_families) e loop
    select * into v_contact from public.contacts
     where channel = v_row ->> 'channel' and provider_id = v_row ->> 'provider_id' for update;
    if found and v_contact.staff_id is not null then
      raise exception 'contact % belongs to a staff member', v_row ->> 'provider_id' using errcode = '23514';
    end if;
    v_family := v_contact.family_id;
    if v_family is null then
      insert into public.families (district_code, created_at, updated_at) values (v_row ->> 'district_code', p_now, p_now) returning id into v_family;
      v_families := v_families + 1;
    elsif v_row ->> 'district_code' is not null then
      update public.families set district_code = v_row ->> 'district_code', updated_at = p_now
       where id = v_family and district_code is distinct from v_row ->> 'district_code';
      get diagnostics v_n = row_count;
      v_updated := v_updated + v_n;
    end if;

    if v_contact.id is null then
      insert into public.contacts (channel, provider_id, language, language_confirmed, consent, consent_source, consent_at, family_id, created_at, updated_at)
      values (v_row ->> 'channel', v_row ->> 'provider_id', v_row ->> 'language', true,
              case when (v_row ->> 'consent')::boolean then 'given' else 'pending' end,
              case when (v_row ->> 'consent')::boolean then 'paper' end,
              case when (v_row ->> 'consent')::boolean then p_now end,
              v_family, p_now, p_now);
    else
      -- a consent given in chat is never overwritten; a paper one fills a pending one
      update public.contacts
         set family_id = v_family,
             language = v_row ->> 'language',
             language_confirmed = true,
             consent = case when consent = 'given' or not (v_row ->> 'consent')::boolean then consent else 'given' end,
             consent_source = case when consent = 'given' or not (v_row ->> 'consent')::boolean then consent_source else 'paper' end,
             consent_at = case when consent = 'given' or not (v_row ->> 'consent')::boolean then consent_at else p_now end,
             updated_at = p_now
       where id = v_contact.id
         and (family_id is distinct from v_family or language <> v_row ->> 'language' or not language_confirmed
              or (consent <> 'given' and (v_row ->> 'consent')::boolean));
      get diagnostics v_n = row_count;
      v_updated := v_updated + v_n;
    end if;

    for v_child in select e from jsonb_array_elements(v_row -> 'children') e loop
      insert into public.children (family_id, name, birth_date, created_at, updated_at)
      select v_family, v_child ->> 'name', (v_child ->> 'birth_date')::date, p_now, p_now
       where not exists (select 1 from public.children c
                          where c.family_id = v_family and lower(c.name) = lower(v_child ->> 'name')
                            and c.birth_date = (v_child ->> 'birth_date')::date);
      get diagnostics v_n = row_count;
      v_children := v_children + v_n;
    end loop;

    if v_row ->> 'tutor_id' is not null and public.family_assign(v_family, (v_row ->> 'tutor_id')::uuid, null, p_now) then
      v_assigned := v_assigned + 1;
    end if;
  end loop;

  insert into public.audit_log (at, action, details)
  values (p_now, 'import.families', jsonb_build_object('families_created', v_families, 'children_added', v_children,
          'assignments', v_assigned, 'contacts_updated', v_updated));
  return jsonb_build_object('families_created', v_families, 'children_added', v_children, 'assignments', v_assigned, 'updated', v_updated);
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.family_card(uuid) from public, anon, authenticated;
revoke execute on function public.staff_families(uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_queue(uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_tutors(uuid, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_family_lookup(uuid, bigint, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_member_lookup(uuid, bigint) from public, anon, authenticated;
revoke execute on function public.admin_invite(text, text, text, text, timestamptz, timestamptz) from public, anon, authenticated;
revoke execute on function public.import_reference() from public, anon, authenticated;
revoke execute on function public.import_families(jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.family_card(uuid) to service_role;
grant execute on function public.staff_families(uuid, timestamptz) to service_role;
grant execute on function public.staff_queue(uuid, timestamptz) to service_role;
grant execute on function public.staff_tutors(uuid, timestamptz) to service_role;
grant execute on function public.staff_family_lookup(uuid, bigint, timestamptz) to service_role;
grant execute on function public.staff_member_lookup(uuid, bigint) to service_role;
grant execute on function public.admin_invite(text, text, text, text, timestamptz, timestamptz) to service_role;
grant execute on function public.import_reference() to service_role;
grant execute on function public.import_families(jsonb, timestamptz) to service_role;
