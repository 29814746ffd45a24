-- ============================================================================
-- CHECK-INS: the quarterly check-in
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Check-in: the families due one (every p_months since consent or the last
-- check-in), and queueing it
-- ----------------------------------------------------------------------------
create function public.checkins_due(p_now timestamptz, p_months int, p_limit int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(x), '[]'::jsonb) from (
    select jsonb_build_object('family_id', f.id, 'contact_id', c.id, 'language', c.language) as x
      from public.families f
      join public.contacts c on c.family_id = f.id and c.consent = 'given' and c.status = 'active'
     where f.status = 'active' and f.checkin_on
       and coalesce(f.checkin_at, c.consent_at, f.created_at) <= p_now - make_interval(months => p_months)
     order by f.created_at
     limit p_limit
  ) due;
$$;

-- ----------------------------------------------------------------------------
-- checkins_enqueue: the check-in messages, each once by its key; its question
-- becomes hers when it is sent
-- p_items: [{family_id, contact_id, key, payload}]; sent from p_not_before (the send window)
-- ----------------------------------------------------------------------------
create function public.checkins_enqueue(p_items jsonb, p_not_before timestamptz, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_count int;
begin
  insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, question, not_before, created_at, updated_at)
  select i ->> 'key', c.id, c.channel, 'checkin', 2, i -> 'payload',
         jsonb_build_object('step', 'checkin.offer', 'offered', i -> 'payload' -> 'choices'), p_not_before, p_now, p_now
    from jsonb_array_elements(p_items) i join public.contacts c on c.id = (i ->> 'contact_id')::uuid
  on conflict (idempotency_key) do nothing;
  get diagnostics v_count = row_count;
  update public.families set checkin_at = p_now
   where id in (select (i ->> 'family_id')::uuid from jsonb_array_elements(p_items) i);
  return v_count;
end;
$$;

-- ----------------------------------------------------------------------------
-- checkins_effect_apply: her quarterly check-in switched on or off, and done.
-- Called by effect_apply for `checkins.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.checkins_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_verb text := split_part(p_effect ->> 'op', '.', 2);
begin
  if v_verb not in ('set', 'done') then
    return false;
  end if;
  if p_family_id is null then
    raise exception 'no family for contact' using errcode = 'P0002';
  end if;
  if v_verb = 'set' then
    update public.families set checkin_on = (p_effect ->> 'on')::boolean, updated_at = p_now where id = p_family_id;
  else
    update public.families set checkin_at = p_now, updated_at = p_now where id = p_family_id;
  end if;
  return true;
end;
$$;
