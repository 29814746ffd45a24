-- ============================================================================
-- The desk's broadcasts: a broadcast made on the desk says so (source 'desk',
-- its form's key as source key, so a reloaded POST creates nothing new); the
-- list carries when each was made and its audience, the report its texts per
-- language; the tutor filter's names come by staff id. Only the new and
-- changed definitions.
-- ============================================================================

alter table public.broadcasts drop constraint broadcasts_source_check;
alter table public.broadcasts add constraint broadcasts_source_check check (source in ('chat', 'api', 'desk'));

-- ----------------------------------------------------------------------------
-- broadcast_report: one broadcast's counts and texts, for a coordinator (audited)
-- ----------------------------------------------------------------------------
create or replace function public.broadcast_report(p_staff_id uuid, p_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_row public.broadcasts;
begin
  select * into v_row from public.broadcasts where ref = p_ref;
  if not found then
    return null;
  end if;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'broadcast.report', 'broadcast', v_row.id);
  return jsonb_build_object('ref', v_row.ref, 'status', v_row.status, 'source', v_row.source, 'send_at', v_row.send_at,
                            'created_at', v_row.created_at, 'finished_at', v_row.finished_at, 'audience', v_row.audience,
                            'languages', (select jsonb_agg(k order by k) from jsonb_object_keys(v_row.texts) k),
                            'text_it', v_row.texts ->> 'it', 'texts', v_row.texts, 'counts', public.broadcast_counts(v_row.id));
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcasts_list: the latest broadcasts with when and how they were made,
-- their audience and their counts
-- ----------------------------------------------------------------------------
create or replace function public.broadcasts_list(p_staff_id uuid, p_limit int)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
begin
  return coalesce((
    select jsonb_agg(jsonb_build_object('ref', b.ref, 'status', b.status, 'send_at', b.send_at, 'text_it', left(b.texts ->> 'it', 60),
                                        'created_at', b.created_at, 'source', b.source, 'audience', b.audience,
                                        'counts', public.broadcast_counts(b.id)) order by b.ref desc)
      from (select * from public.broadcasts order by ref desc limit p_limit) b), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcast_tutors: the staff a broadcast's tutor filter can name (active, a
-- tutor or following families), by ref and name, for a coordinator
-- ----------------------------------------------------------------------------
create function public.broadcast_tutors(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
begin
  return coalesce((
    select jsonb_agg(jsonb_build_object('ref', s.ref, 'name', s.full_name) order by s.ref)
      from public.staff s where s.active and (s.role = 'tutor' or exists (
        select 1 from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))), '[]'::jsonb);
end;
$$;

revoke execute on function public.broadcast_tutors(uuid) from public, anon, authenticated;
grant execute on function public.broadcast_tutors(uuid) to service_role;
