-- ============================================================================
-- CONVERSATION: what the core reads about a contact, and the one dispatcher
-- of its decisions (effects), applied by inbound_finish with the replies
-- ============================================================================

-- ----------------------------------------------------------------------------
-- effect_apply: one decision of the conversation core, applied by inbound_finish
-- in the transaction of its replies. Its op is `area.verb`; the area's own
-- <area>_effect_apply applies it and returns false on a verb it does not know,
-- so "unknown effect" is raised here only. Her contact row is locked first: two
-- messages of hers apply one after the other.
-- ----------------------------------------------------------------------------
create function public.effect_apply(p_contact_id uuid, p_effect jsonb, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_op text := p_effect ->> 'op';
  v_family uuid;
  v_applied boolean;
begin
  select family_id into v_family from public.contacts where id = p_contact_id for update;
  if not found then
    raise exception 'contact % not found', p_contact_id using errcode = 'P0002';
  end if;
  v_applied := case split_part(v_op, '.', 1)
    when 'profile' then public.profile_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'privacy' then public.privacy_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'messaging' then public.messaging_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'staff' then public.staff_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'care' then public.care_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'needs' then public.needs_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'knowledge' then public.knowledge_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'checkins' then public.checkins_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'calls' then public.calls_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'broadcasts' then public.broadcasts_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'safety' then public.safety_effect_apply(p_contact_id, v_family, p_effect, p_now)
    when 'desk' then public.desk_effect_apply(p_contact_id, v_family, p_effect, p_now)
    else false
  end;
  if not coalesce(v_applied, false) then
    raise exception 'unknown effect %', v_op using errcode = '22023';
  end if;
end;
$$;

-- ----------------------------------------------------------------------------
-- contact_profile: what the core needs to answer her: family, tutor, children,
-- her open needs and her check-in setting, or the staff member behind the contact
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
        'caller_name', f.caller_name, 'checkin_on', f.checkin_on,
        'tutor', (
          select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name)
            from public.family_assignments a join public.staff s on s.id = a.tutor_id
           where a.family_id = f.id and a.ended_at is null),
        'children', coalesce((
          select jsonb_agg(jsonb_build_object('id', ch.id, 'name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date, 'reminders', ch.reminders)
                           order by coalesce(ch.birth_date, ch.due_date), ch.created_at)
            from public.children ch where ch.family_id = f.id), '[]'::jsonb),
        'needs', coalesce((
          select jsonb_agg(jsonb_build_object('id', n.id, 'ref', n.ref, 'kind', n.kind, 'category', n.category, 'status', n.status,
                                              'urgency', n.urgency, 'handler', s.full_name,
                                              'handler_contacts', coalesce((
                                                select jsonb_agg(jsonb_build_object('contact_id', hc.id, 'language', hc.language, 'channel', hc.channel))
                                                  from public.contacts hc where hc.staff_id = s.id and s.active), '[]'::jsonb))
                           order by n.updated_at desc)
            from public.needs n left join public.staff s on s.id = coalesce(n.taken_by, n.assignee_id)
           where n.family_id = f.id and n.status <> 'resolved'), '[]'::jsonb))
        from public.families f left join public.districts d on d.code = f.district_code
       where f.id = c.family_id),
    'staff', (
      select jsonb_build_object('id', s.id, 'ref', s.ref, 'role', s.role, 'name', s.full_name, 'active', s.active)
        from public.staff s where s.id = c.staff_id)
  )
  from public.contacts c where c.id = p_contact_id;
$$;
