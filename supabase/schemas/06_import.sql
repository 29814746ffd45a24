-- ============================================================================
-- IMPORT: reference data and families brought in by the import commands
-- ============================================================================

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
