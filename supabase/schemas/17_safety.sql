-- ============================================================================
-- SAFETY: a family opened for a woman in danger, and the anonymous counters
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

-- ----------------------------------------------------------------------------
-- safety_effect_apply: a family for a woman in danger who has not registered
-- (vital interest: no consent yet), and the anonymous counters. Called by
-- effect_apply for `safety.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.safety_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  case split_part(p_effect ->> 'op', '.', 2)
  when 'family' then
    if p_family_id is not null then return true; end if;
    insert into public.families (id, ref, created_at, updated_at)
    overriding system value
    values ((p_effect ->> 'id')::uuid, (p_effect ->> 'ref')::bigint, p_now, p_now)
    on conflict (id) do nothing;
    update public.contacts set family_id = (p_effect ->> 'id')::uuid, updated_at = p_now
     where id = p_contact_id and family_id is null and staff_id is null;
    insert into public.audit_log (at, action, target_kind, target_id, details)
    values (p_now, 'family.opened_for_safety', 'family', (p_effect ->> 'id')::uuid, jsonb_build_object('consent', 'not yet'));

  when 'event' then
    insert into public.safety_events (at, level, concept, language, outcome, before_consent)
    values (p_now, p_effect ->> 'level', p_effect ->> 'concept', p_effect ->> 'language', p_effect ->> 'outcome',
            coalesce((p_effect ->> 'before_consent')::boolean, false));

  else
    return false;
  end case;
  return true;
end;
$$;
