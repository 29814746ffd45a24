-- ============================================================================
-- A sender's pacing row is made once, not on every call; a chat's last send
-- is found from the index, not by reading her history; a dispatcher records
-- several sends in one call (outbox_record_many). Only the new definitions.
-- ============================================================================

-- by contact, her latest send first: outbox_claim asks when her chat was last written to
drop index public.outbox_contact_idx;
create index outbox_contact_idx on public.outbox (contact_id, sent_at);

-- ----------------------------------------------------------------------------
-- pacing_take: a time one more message may leave this sender. Every
-- dispatcher of every process asks here, and the sends are spaced evenly at
-- 1.05 / limit seconds (a sliding second at the provider never sees more than
-- the limit while a send arrives at most 50 ms late), so any number of
-- processes together keep the limit and one that dies holds at most the slots
-- it was given. Reserved: go after wait_ms from p_now. Not reserved: bulk
-- (priority 5 and above) is never given a slot further ahead than 100 ms, so a
-- reply or an alert queued now is given one within that; ask again after wait_ms.
-- Answers {reserved, wait_ms, claimed}.
-- The outbox row given a slot is marked as leaving (if its sender dies now, it
-- may have arrived); a row no longer claimed by this worker (its lease ran out
-- and another took it) is given no slot and must not be sent (claimed false).
-- ----------------------------------------------------------------------------
create or replace function public.pacing_take(
  p_sender text,
  p_per_second int,
  p_priority int,
  p_now timestamptz,
  p_outbox_id bigint default null,
  p_worker text default null
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_spacing constant interval := make_interval(secs => 1.05 / p_per_second);
  v_horizon constant interval := interval '100 milliseconds';
  v_slot timestamptz;
begin
  -- a slot already past when the answer arrives (a slow call) is given up by the caller, not sent late
  select greatest(p.next_at, p_now) into v_slot from public.pacing p where p.sender = p_sender for update;
  if not found then
    -- a sender's first send: its row is made once, not on every call
    insert into public.pacing (sender) values (p_sender) on conflict (sender) do nothing;
    select greatest(p.next_at, p_now) into v_slot from public.pacing p where p.sender = p_sender for update;
  end if;
  if p_priority >= 5 and v_slot > p_now + v_horizon then
    return jsonb_build_object('reserved', false, 'wait_ms', greatest(1, floor(extract(epoch from v_slot - v_horizon - p_now) * 1000))::int, 'claimed', true);
  end if;
  if p_outbox_id is not null then
    update public.outbox set leaving_at = v_slot
     where id = p_outbox_id and status = 'sending' and claimed_by is not distinct from coalesce(p_worker, claimed_by);
    if not found then
      return jsonb_build_object('reserved', false, 'wait_ms', 0, 'claimed', false);
    end if;
  end if;
  update public.pacing set next_at = v_slot + v_spacing where sender = p_sender;
  return jsonb_build_object('reserved', true, 'wait_ms', floor(extract(epoch from v_slot - p_now) * 1000)::int, 'claimed', true);
end;
$$;

-- ----------------------------------------------------------------------------
-- outbox_record_many: several sends' outcomes in one call (a busy dispatcher
-- records what finished while its last call was on the way). Each is
-- outbox_record's, on its own: one that fails leaves its row 'sending' (sent
-- again when its lease runs out) and the others are kept. p_records: [{id,
-- outcome, provider_message_id, error, retry_at, at}]; answers each row's new
-- status, or 'error: <message>', in the same order.
-- ----------------------------------------------------------------------------
create or replace function public.outbox_record_many(p_worker text, p_records jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_record jsonb;
  v_results jsonb := '[]'::jsonb;
begin
  for v_record in select r from jsonb_array_elements(p_records) r loop
    begin
      v_results := v_results || to_jsonb(public.outbox_record(
        (v_record ->> 'id')::bigint, p_worker, v_record ->> 'outcome', v_record ->> 'provider_message_id',
        v_record ->> 'error', (v_record ->> 'retry_at')::timestamptz, (v_record ->> 'at')::timestamptz));
    exception when others then
      v_results := v_results || to_jsonb('error: ' || sqlerrm);
    end;
  end loop;
  return v_results;
end;
$$;

revoke execute on function public.outbox_record_many(text, jsonb) from public, anon, authenticated;
grant execute on function public.outbox_record_many(text, jsonb) to service_role;
