-- ============================================================================
-- A request handed to a colleague takes her files with it: the colleague's
-- channel, so each file is checked against it. Only the changed definition.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- need_hand_targets: the active tutors and coordinators a need can be handed to
-- ----------------------------------------------------------------------------
create or replace function public.need_hand_targets(p_contact_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['tutor', 'coordinator']);
begin
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role,
                                        'contacts', coalesce((select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language, 'channel', c.channel))
                                                                from public.contacts c where c.staff_id = s.id), '[]'::jsonb))
                     order by s.role desc, s.full_name)
      from public.staff s where s.active and s.id <> v_staff.id), '[]'::jsonb);
end;
$$;
