-- ============================================================================
-- SAFETY: danger heard in her words, from her very first message. Before she
-- has consented, only what an urgent request needs is kept (vital interest):
-- a family row with no children and no district, the request with her words,
-- and her channel id. Counters of alarms and false alarms, with nobody's name.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Safety events: how often each level fired and how she answered, per
-- language and concept; no link to who wrote
-- ----------------------------------------------------------------------------
create table public.safety_events (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  level text not null check (level in ('certain', 'possible')),
  concept text not null check (concept in ('violence', 'threat', 'control', 'sexual', 'child_harm', 'child_touched', 'thrown_out', 'fear', 'self_harm', 'menu')),
  language text not null,
  -- alerted: urgent request opened at once; asked: "are you in danger now?"; then her answer: now, tutor, safe
  outcome text not null check (outcome in ('alerted', 'asked', 'now', 'tutor', 'safe')),
  before_consent boolean not null default false
);
comment on table public.safety_events is 'Each danger alarm and each answer to "are you in danger now?" (false alarms: safe), by language and concept; anonymous.';
create index safety_events_at_idx on public.safety_events (at);

alter table public.safety_events enable row level security;
revoke all on table public.safety_events from public, anon, authenticated;
grant select, insert, update, delete on table public.safety_events to service_role;

-- the numbers of requests and families are drawn before the effects that use them
grant usage on sequence public.needs_ref_seq to service_role;
grant usage on sequence public.families_ref_seq to service_role;

-- ----------------------------------------------------------------------------
-- family_ref_next: the number a family opened for her safety will have (F-12),
-- so the alert to staff can name it before the family row is written
-- ----------------------------------------------------------------------------
create function public.family_ref_next()
returns bigint
language sql
volatile
set search_path = ''
as $$
  select nextval(pg_get_serial_sequence('public.families', 'ref'));
$$;

-- ----------------------------------------------------------------------------
-- safety_effect_apply: a family for a woman in danger who has not registered
-- (vital interest: no consent yet), and the anonymous counters
-- ----------------------------------------------------------------------------
create function public.safety_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  case p_effect ->> 'op'
  when 'safety_family' then
    if p_family_id is not null then return; end if;
    insert into public.families (id, ref, created_at, updated_at)
    overriding system value
    values ((p_effect ->> 'id')::uuid, (p_effect ->> 'ref')::bigint, p_now, p_now)
    on conflict (id) do nothing;
    update public.contacts set family_id = (p_effect ->> 'id')::uuid, updated_at = p_now
     where id = p_contact_id and family_id is null and staff_id is null;
    insert into public.audit_log (at, action, target_kind, target_id, details)
    values (p_now, 'family.opened_for_safety', 'family', (p_effect ->> 'id')::uuid, jsonb_build_object('consent', 'not yet'));

  when 'safety_event' then
    insert into public.safety_events (at, level, concept, language, outcome, before_consent)
    values (p_now, p_effect ->> 'level', p_effect ->> 'concept', p_effect ->> 'language', p_effect ->> 'outcome',
            coalesce((p_effect ->> 'before_consent')::boolean, false));

  else
    raise exception 'unknown effect %', p_effect ->> 'op' using errcode = '22023';
  end case;
end;
$$;

-- ----------------------------------------------------------------------------
-- care_effect_apply (v4): safety effects go to safety_effect_apply; the rest as before
-- ----------------------------------------------------------------------------
create or replace function public.care_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_child uuid := (p_effect ->> 'child_id')::uuid;
begin
  if p_effect ->> 'op' like 'safety\_%' then
    perform public.safety_effect_apply(p_contact_id, p_family_id, p_effect, p_now);
    return;
  end if;
  if p_effect ->> 'op' like 'call\_%' then
    perform public.calls_effect_apply(p_contact_id, p_family_id, p_effect, p_now);
    return;
  end if;
  if p_effect ->> 'op' not in ('plan_done', 'plan_book', 'plan_wait', 'reminders', 'need') then
    perform public.need_effect_apply(p_contact_id, p_family_id, p_effect, p_now);
    return;
  end if;
  if not exists (select 1 from public.children where id = v_child and family_id = p_family_id) then
    raise exception 'child not in this family' using errcode = 'P0002';
  end if;
  case p_effect ->> 'op'
  when 'plan_done' then
    update public.child_plan set status = 'done', done_on = (p_effect ->> 'done_on')::date, booked_on = null, snooze_until = null, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
    update public.children set planned_for = null where id = v_child;
  when 'plan_book' then
    update public.child_plan set status = 'booked', booked_on = (p_effect ->> 'booked_on')::date, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
  when 'plan_wait' then
    update public.child_plan set status = 'not_yet', snooze_until = (p_effect ->> 'until')::date, updated_at = p_now
     where child_id = v_child and due_on = (p_effect ->> 'due_on')::date and status <> 'done';
  when 'reminders' then
    update public.children set reminders = (p_effect ->> 'on')::boolean, updated_at = p_now where id = v_child;
  when 'need' then
    insert into public.needs (id, ref, family_id, child_id, kind, category, source, details, language, created_at, updated_at)
    values (coalesce((p_effect ->> 'id')::uuid, gen_random_uuid()),
            coalesce((p_effect ->> 'ref')::bigint, nextval(pg_get_serial_sequence('public.needs', 'ref'))),
            p_family_id, v_child, 'need', p_effect ->> 'category', p_effect ->> 'source',
            coalesce(p_effect -> 'details', '{}'::jsonb), p_effect ->> 'language', p_now, p_now)
    on conflict (id) do nothing;
  end case;
end;
$$;

-- ----------------------------------------------------------------------------
-- need_card (contacts): a woman who wrote before consenting is reachable by her
-- tutor's reply (her request exists for her safety)
-- ----------------------------------------------------------------------------
create or replace function public.need_card(p_contact_id uuid, p_need_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_need public.needs;
  v_staff public.staff;
begin
  select * into v_need from public.needs where ref = p_need_ref;
  if not found then return null; end if;
  begin
    v_staff := public.need_access(p_contact_id, v_need.id);
  exception when insufficient_privilege then
    return null;
  end;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'need.read', 'need', v_need.id);
  return (
    select jsonb_build_object(
      'id', n.id, 'ref', n.ref, 'kind', n.kind, 'category', n.category, 'urgency', n.urgency, 'status', n.status,
      'source', n.source, 'language', n.language, 'details', n.details, 'created_at', n.created_at, 'outcome', n.outcome,
      'assignee', (select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name) from public.staff s where s.id = n.assignee_id),
      'family', jsonb_build_object('id', f.id, 'ref', f.ref, 'caller_name', f.caller_name, 'district', d.name,
        'children', coalesce((select jsonb_agg(jsonb_build_object('id', ch.id, 'name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date)
                                               order by coalesce(ch.birth_date, ch.due_date))
                                from public.children ch where ch.family_id = f.id), '[]'::jsonb)),
      'contacts', coalesce((select jsonb_agg(jsonb_build_object('contact_id', c.id, 'channel', c.channel, 'language', c.language,
                                                                'last_inbound_at', c.last_inbound_at, 'status', c.status))
                              from public.contacts c where c.family_id = f.id
                                and (c.consent = 'given' or (c.consent = 'pending' and c.last_inbound_at is not null))), '[]'::jsonb),
      'thread', coalesce((select jsonb_agg(jsonb_build_object('id', m.id, 'author', m.author, 'language', m.language, 'body', m.body,
                                                              'translation', m.translation, 'media', m.media, 'at', m.created_at,
                                                              'staff', (select s.full_name from public.staff s where s.id = m.staff_id))
                                           order by m.seq)
                            from public.need_messages m where m.need_id = n.id), '[]'::jsonb))
      from public.needs n join public.families f on f.id = n.family_id left join public.districts d on d.code = f.district_code
     where n.id = v_need.id);
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.family_ref_next() from public, anon, authenticated;
revoke execute on function public.safety_effect_apply(uuid, uuid, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.family_ref_next() to service_role;
grant execute on function public.safety_effect_apply(uuid, uuid, jsonb, timestamptz) to service_role;
