-- ============================================================================
-- Pacing shared by every process: evenly spaced sends per provider sender
-- (pacing_take), and outbox_claim says when each chat may next be written to,
-- whichever process wrote last, and each row's priority; a broadcast a dead
-- sender had claimed but not begun is sent by another, only one that may have
-- left is reported interrupted. Only the new definitions.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Pacing shared by every dispatcher process: one row per provider sender
-- ----------------------------------------------------------------------------
create table public.pacing (
  -- the provider's rate-limited identity: telegram:<bot id>, whatsapp:<sender number>
  sender text primary key,
  -- the time the next send may be given: sends are spaced evenly, a little wider than the limit asks
  next_at timestamptz not null default '-infinity'
);
comment on table public.pacing is 'When each provider sender may next send, shared by every dispatcher so together they stay within its limit.';
alter table public.pacing enable row level security;

-- when a send was given its slot: a broadcast whose sender died before it is claimed again, not failed
alter table public.outbox add column leaving_at timestamptz;

-- the claim gained a parameter and a column: the old signature goes, so a call by name has one match
drop function public.outbox_claim(text, text, timestamptz, int, int);

-- ----------------------------------------------------------------------------
-- outbox_claim: the next messages of one channel, at most one per contact. A
-- chat's next message is its oldest due one: a row scheduled for later,
-- waiting out a back-off longer than a minute, or held for WhatsApp's window
-- never blocks a due one, so the reply to what she just wrote leaves at once.
-- A reply whose choices a newer reply already replaces leaves without them. A
-- paused contact (STOP) still gets the replies to what she writes, nothing
-- else. A 'sending' row whose lease ran out (its dispatcher died) is claimed again.
-- Each row says its priority (bulk paces behind replies) and, with a chat gap,
-- when its chat may next be sent to, whichever process sent the last one.
-- ----------------------------------------------------------------------------
create function public.outbox_claim(
  p_worker text,
  p_channel text,
  p_now timestamptz,
  p_limit int,
  p_lease_seconds int,
  p_chat_gap_ms int default 0
)
returns table (
  id bigint,
  priority smallint,
  -- the provider paces each chat (Telegram: one a second): not before the gap after its last send, by any process
  not_until timestamptz,
  contact_id uuid,
  provider_id text,
  language text,
  last_inbound_at timestamptz,
  kind text,
  payload jsonb,
  attempts int,
  template_sid text,
  template_variables text[]
)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query
  with candidates as (
    (select o.id from public.outbox o
      where o.channel = p_channel and o.status = 'pending' and o.not_before <= p_now
      order by o.priority, o.not_before, o.id
      limit p_limit * 10)
    union all
    (select o.id from public.outbox o
      where o.channel = p_channel and o.status = 'sending' and o.lease_until < p_now
        -- a broadcast that may have left is reported by outbox_expire_bulk, never sent twice
        and (o.kind <> 'broadcast' or o.leaving_at is null)
      order by o.lease_until
      limit p_limit)
  ),
  ready as (
    select o.id
      from public.outbox o
      join public.contacts c on c.id = o.contact_id
     where o.id in (select candidates.id from candidates)
       and (c.status = 'active' or (c.status = 'paused' and o.kind = 'reply'))
       and ((o.status = 'pending' and o.not_before <= p_now)
            or (o.status = 'sending' and o.lease_until < p_now and (o.kind <> 'broadcast' or o.leaving_at is null)))
       -- ahead of it: an older row of the same chat that is due, or retrying within a minute (a short
       -- back-off keeps the order; a long one, or a row scheduled for later, never stalls the chat)
       and not exists (
         select 1 from public.outbox e
          where e.contact_id = o.contact_id and e.id < o.id
            and ((e.status = 'pending' and (e.not_before <= p_now or (e.attempts > 0 and e.not_before <= p_now + interval '1 minute')))
                 or (e.status = 'sending' and e.lease_until < p_now))
            and (c.status = 'active' or e.kind = 'reply'))
       -- one message of a chat in flight at a time
       and not exists (
         select 1 from public.outbox s
          where s.contact_id = o.contact_id and s.id <> o.id and s.status = 'sending' and s.lease_until >= p_now)
     order by o.priority, o.not_before, o.id
     limit p_limit
     for update of o skip locked
  ),
  claimed as (
    update public.outbox o
       set status = 'sending', claimed_by = p_worker, lease_until = p_now + make_interval(secs => p_lease_seconds),
           attempts = o.attempts + 1, updated_at = p_now, leaving_at = null
      from ready
     where o.id = ready.id
    returning o.*
  )
  select cl.id, cl.priority,
         case when p_chat_gap_ms > 0
              then (select max(g.sent_at) from public.outbox g where g.contact_id = cl.contact_id) + make_interval(secs => p_chat_gap_ms / 1000.0)
         end,
         cl.contact_id, c.provider_id, c.language, c.last_inbound_at, cl.kind,
         case when cl.kind = 'reply' and cl.payload ? 'choices' and exists (
                select 1 from public.outbox n
                 where n.contact_id = cl.contact_id and n.id > cl.id and n.kind = 'reply'
                   and n.status in ('pending', 'sending') and n.payload ? 'choices')
              then cl.payload - 'choices' else cl.payload end,
         cl.attempts, t.content_sid, t.variables
    from claimed cl
    join public.contacts c on c.id = cl.contact_id
    left join public.message_templates t on t.kind = cl.kind and t.language = c.language
   order by cl.priority, cl.not_before, cl.id;
end;
$$;

-- ----------------------------------------------------------------------------
-- pacing_take: a time one more message may leave this sender. Every
-- dispatcher of every process asks here, and the sends are spaced evenly at
-- 1.05 / limit seconds (a sliding second at the provider never sees more than
-- the limit, even when a send leaves a little late), so any number of
-- processes together keep the limit and one that dies holds at most the slots
-- it was given. Reserved: go after wait_ms from p_now. Not reserved: bulk
-- (priority 5 and above) is never given a slot further ahead than 100 ms, so a
-- reply or an alert queued now is given one within that; ask again after wait_ms.
-- Answers {reserved, wait_ms, claimed}.
-- The outbox row given a slot is marked as leaving (if its sender dies now, it
-- may have arrived); a row no longer claimed by this worker (its lease ran out
-- and another took it) is given no slot and must not be sent (claimed false).
-- ----------------------------------------------------------------------------
create function public.pacing_take(
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
  insert into public.pacing (sender) values (p_sender) on conflict (sender) do nothing;
  -- a slot already past when the answer arrives (a slow call) is given up by the caller, not sent late
  select greatest(p.next_at, p_now) into v_slot from public.pacing p where p.sender = p_sender for update;
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
-- outbox_expire_bulk: a broadcast message whose sender died while sending it
-- (its slot was given) is not sent again (it may have arrived): it fails with
-- that reason, so the report lists it and no one gets the notice twice. One
-- the dead sender had claimed but not begun is claimed again (outbox_claim).
-- ----------------------------------------------------------------------------
create or replace function public.outbox_expire_bulk(p_channel text, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_n int;
begin
  update public.outbox
     set status = 'failed', error_kind = 'permanent', error = 'interrupted while sending: not sent again, it may have arrived',
         lease_until = null, updated_at = p_now
   where channel = p_channel and status = 'sending' and lease_until < p_now and kind = 'broadcast' and leaving_at is not null;
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;


-- supabase/schemas/99_grants.sql covers new objects when run whole; a later migration grants its own
revoke all on table public.pacing from public, anon, authenticated;
grant select, insert, update, delete on table public.pacing to service_role;
revoke execute on function public.outbox_claim(text, text, timestamptz, int, int, int), public.pacing_take(text, int, int, timestamptz, bigint, text)
  from public, anon, authenticated;
grant execute on function public.outbox_claim(text, text, timestamptz, int, int, int), public.pacing_take(text, int, int, timestamptz, bigint, text)
  to service_role;
