-- ============================================================================
-- MESSAGING: inbound updates taken once, the outbox, media she sent,
-- WhatsApp templates
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Outbox
-- ----------------------------------------------------------------------------
create table public.outbox (
  id bigint generated always as identity primary key,
  -- e.g. reply:<inbound>:<n>, reminder:<child>:<item>:<stage>: a second insert is a no-op
  idempotency_key text not null unique,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  -- the contact's channel, copied so each channel's dispatcher reads its own index
  channel text not null check (channel in ('telegram', 'whatsapp')),
  kind text not null check (kind ~ '^[a-z_]{2,40}$'),
  -- 0 = a reply to someone who just wrote; higher numbers wait behind lower ones
  priority smallint not null default 5 check (priority between 0 and 9),
  payload jsonb not null,
  status text not null default 'pending'
    check (status in ('pending', 'sending', 'sent', 'failed', 'held', 'cancelled')),
  attempts int not null default 0,
  not_before timestamptz not null default now(),
  claimed_by text,
  lease_until timestamptz,
  provider_message_id text,
  delivery_status text,
  error_kind text check (error_kind in ('retry', 'contact_gone', 'permanent', 'no_template')),
  error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  updated_at timestamptz not null default now(),
  -- the conversation state a scheduled message opens (its choices), applied when it is sent
  question jsonb,
  -- when its send was given a slot: from then on it may have reached the provider
  leaving_at timestamptz
);
comment on table public.outbox is 'Every message to send, committed with its cause; the dispatcher claims, sends and records each row.';
comment on column public.outbox.question is 'The conversation a scheduled question opens ({step, offered}); applied when the message is sent, not when it is queued.';
create index outbox_ready_idx on public.outbox (channel, priority, not_before, id) where status = 'pending';
create index outbox_sending_idx on public.outbox (channel, lease_until) where status = 'sending';
create index outbox_provider_idx on public.outbox (provider_message_id) where provider_message_id is not null;
-- by contact, her latest send first: outbox_claim asks when her chat was last written to
create index outbox_contact_idx on public.outbox (contact_id, sent_at);
-- /metrics' outbox_depth counts the rows not done from this index alone, however many sent rows there are
create index outbox_depth_idx on public.outbox (channel, status, priority) where status in ('pending', 'sending', 'held', 'failed');
alter table public.outbox enable row level security;

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

-- ----------------------------------------------------------------------------
-- Inbound dedupe log
-- ----------------------------------------------------------------------------
create table public.inbound_log (
  channel text not null check (channel in ('telegram', 'whatsapp')),
  -- Telegram update_id (per bot) or Twilio MessageSid
  provider_message_id text not null,
  received_at timestamptz not null,
  -- set in the transaction that stores the replies: a crash before it lets the redelivery be handled
  handled_at timestamptz,
  primary key (channel, provider_message_id)
);
comment on table public.inbound_log is 'Provider ids of inbound updates already processed, so a redelivery is acknowledged and not handled twice.';
create index inbound_log_received_idx on public.inbound_log (received_at);
alter table public.inbound_log enable row level security;

-- ----------------------------------------------------------------------------
-- Media she sent (kept as a provider reference for her tutor, never downloaded here)
-- ----------------------------------------------------------------------------
create table public.media_refs (
  id uuid primary key default gen_random_uuid(),
  contact_id uuid not null references public.contacts (id) on delete cascade,
  provider_message_id text not null,
  kind text not null check (kind in ('photo', 'voice', 'document', 'video', 'other')),
  -- Twilio MediaUrl or Telegram file_id
  ref text not null,
  content_type text,
  received_at timestamptz not null,
  unique (provider_message_id, ref)
);
comment on table public.media_refs is 'Photos, voice notes and documents a person sent: the provider reference, for her tutor to open.';
create index media_refs_contact_idx on public.media_refs (contact_id);
alter table public.media_refs enable row level security;

-- ----------------------------------------------------------------------------
-- Media links opened: a link to a file streams once
-- ----------------------------------------------------------------------------
create table public.media_fetches (
  -- the signed link's nonce
  nonce text primary key,
  outbox_id bigint not null,
  fetched_at timestamptz not null
);
comment on table public.media_fetches is 'Each signed media link (PUBLIC_URL/media/<token>) already opened, so it streams its file once; pruned by housekeeping.';
create index media_fetches_at_idx on public.media_fetches (fetched_at);
alter table public.media_fetches enable row level security;

-- ----------------------------------------------------------------------------
-- Files to delete at the provider after an erasure
-- ----------------------------------------------------------------------------
create table public.media_purge (
  id bigint generated always as identity primary key,
  -- a Twilio media URL, or message:<MM sid> for every file of a message the bot sent
  target text not null unique,
  attempts int not null default 0,
  not_before timestamptz not null,
  error text,
  queued_at timestamptz not null
);
comment on table public.media_purge is 'Files at Twilio of a person who erased her data, to delete through the Media resource; a row goes when its deletion is done.';
create index media_purge_due_idx on public.media_purge (not_before);
alter table public.media_purge enable row level security;

-- ----------------------------------------------------------------------------
-- WhatsApp templates for business-initiated messages outside the 24-hour window
-- ----------------------------------------------------------------------------
create table public.message_templates (
  kind text not null check (kind ~ '^[a-z_]{2,40}$'),
  language text not null,
  -- Twilio Content SID (HX…) of an approved template
  content_sid text not null check (content_sid ~ '^HX[0-9a-fA-F]{32}$'),
  -- payload fields feeding {{1}}, {{2}}, …; empty for a template with no variables
  variables text[] not null default '{}',
  updated_at timestamptz not null default now(),
  primary key (kind, language)
);
comment on table public.message_templates is 'Approved WhatsApp Content templates per message kind and language, used outside the 24-hour window.';
alter table public.message_templates enable row level security;

-- ----------------------------------------------------------------------------
-- inbound_begin: dedupe a provider message and find (or create) its contact,
-- with the contact's profile in the same trip. Only the channel id and a
-- language suggestion are stored before consent.
-- ----------------------------------------------------------------------------
create function public.inbound_begin(
  p_channel text,
  p_provider_message_id text,
  p_provider_id text,
  p_language_hint text,
  p_now timestamptz
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_handled timestamptz;
  v_contact public.contacts;
  v_new boolean;
  v_first boolean;
begin
  insert into public.inbound_log (channel, provider_message_id, received_at)
  values (p_channel, p_provider_message_id, p_now)
  on conflict (channel, provider_message_id) do nothing;

  select handled_at into v_handled
    from public.inbound_log
   where channel = p_channel and provider_message_id = p_provider_message_id
   for update;
  if v_handled is not null then
    return jsonb_build_object('duplicate', true);
  end if;

  select * into v_contact from public.contacts where channel = p_channel and provider_id = p_provider_id for update;
  v_new := not found;
  -- an imported family's first message gets a first greeting
  v_first := v_new or v_contact.last_inbound_at is null;
  if v_new then
    insert into public.contacts (channel, provider_id, language, last_inbound_at)
    values (p_channel, p_provider_id, coalesce(p_language_hint, 'it'), p_now)
    returning * into v_contact;
  else
    -- writing again proves she is reachable; a pause (STOP) is only lifted by her own choice
    update public.contacts
       set last_inbound_at = greatest(coalesce(last_inbound_at, p_now), p_now),
           status = case when status = 'unreachable' then 'active' else status end,
           unreachable_reason = case when status = 'unreachable' then null else unreachable_reason end,
           updated_at = p_now
     where id = v_contact.id
     returning * into v_contact;
    -- WhatsApp's window is open again: what waited for it can go
    update public.outbox
       set status = 'pending', not_before = p_now, error_kind = null, error = null, updated_at = p_now
     where contact_id = v_contact.id and status = 'held';
  end if;

  return jsonb_build_object(
    'duplicate', false,
    'contact', jsonb_build_object(
      'id', v_contact.id,
      'is_new', v_new,
      'first_message', v_first,
      'language', v_contact.language,
      'language_confirmed', v_contact.language_confirmed,
      'consent', v_contact.consent,
      'consent_at', v_contact.consent_at,
      'status', v_contact.status,
      'conversation', v_contact.conversation,
      'profile', public.contact_profile(v_contact.id)
    )
  );
end;
$$;

-- ----------------------------------------------------------------------------
-- inbound_finish: apply the core's effects, store the conversation's new
-- state, queue the replies, keep media references, and mark the inbound
-- message handled, all at once.
-- p_replies: [{text, choices?}]; p_media: [{kind, ref, content_type}]
-- ----------------------------------------------------------------------------
create function public.inbound_finish(
  p_channel text,
  p_provider_message_id text,
  p_contact_id uuid,
  p_conversation jsonb,
  p_language text,
  p_language_confirmed boolean,
  p_effects jsonb,
  p_replies jsonb,
  p_media jsonb,
  p_now timestamptz
)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_effect jsonb;
  v_queued int;
begin
  update public.contacts
     set conversation = p_conversation,
         language = p_language,
         language_confirmed = p_language_confirmed,
         updated_at = p_now
   where id = p_contact_id;
  if not found then
    raise exception 'contact % not found', p_contact_id using errcode = 'P0002';
  end if;

  for v_effect in select e from jsonb_array_elements(coalesce(p_effects, '[]'::jsonb)) e loop
    perform public.effect_apply(p_contact_id, v_effect, p_now);
  end loop;

  insert into public.media_refs (id, contact_id, provider_message_id, kind, ref, content_type, received_at)
  select coalesce((m->>'id')::uuid, gen_random_uuid()), p_contact_id, p_provider_message_id, m->>'kind', m->>'ref', m->>'content_type', p_now
    from jsonb_array_elements(coalesce(p_media, '[]'::jsonb)) m
  on conflict (provider_message_id, ref) do nothing;

  with queued as (
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
    select format('reply:%s:%s:%s', p_channel, p_provider_message_id, r.n), p_contact_id, p_channel, 'reply', 0, r.reply, p_now, p_now, p_now
      from jsonb_array_elements(coalesce(p_replies, '[]'::jsonb)) with ordinality as r(reply, n)
    on conflict (idempotency_key) do nothing
    returning 1
  )
  select count(*) into v_queued from queued;

  update public.inbound_log set handled_at = p_now
   where channel = p_channel and provider_message_id = p_provider_message_id;
  return v_queued;
end;
$$;

-- ----------------------------------------------------------------------------
-- outbox_enqueue: a message not caused by an inbound one (alerts, reminders, notices)
-- ----------------------------------------------------------------------------
create function public.outbox_enqueue(
  p_contact_id uuid,
  p_idempotency_key text,
  p_kind text,
  p_priority int,
  p_payload jsonb,
  p_not_before timestamptz
)
returns boolean
language sql
volatile
set search_path = ''
as $$
  with queued as (
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before)
    select p_idempotency_key, c.id, c.channel, p_kind, p_priority, p_payload, p_not_before
      from public.contacts c where c.id = p_contact_id
    on conflict (idempotency_key) do nothing
    returning 1
  )
  select exists (select 1 from queued);
$$;

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
-- outbox_media_failed: a file that could not be delivered for good. Its
-- sender is told in her language what happened (the texts came with the row,
-- one per problem: too_large, unsupported, unreachable, named in the error as
-- "media <problem>") and the request keeps a note.
-- ----------------------------------------------------------------------------
create function public.outbox_media_failed(p_row public.outbox, p_error text, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_failure jsonb := p_row.payload -> 'failure';
  v_problem text := coalesce(substring(p_error from 'media (too_large|unsupported|unreachable)'), 'unreachable');
begin
  if v_failure is null then
    return;
  end if;
  insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
  select 'media_failed:' || p_row.id, c.id, c.channel, 'media_failed', 1, jsonb_build_object('text', v_failure -> 'texts' ->> v_problem), p_now, p_now, p_now
    from public.contacts c
   where c.id = (v_failure ->> 'contact_id')::uuid and v_failure -> 'texts' ->> v_problem is not null
  on conflict (idempotency_key) do nothing;
  if v_failure ? 'need_id' then
    insert into public.need_messages (need_id, author, language, body, created_at)
    select n.id, 'note', 'it', v_failure -> 'notes' ->> v_problem, p_now
      from public.needs n where n.id = (v_failure ->> 'need_id')::uuid and v_failure -> 'notes' ->> v_problem is not null;
  end if;
end;
$$;

-- ----------------------------------------------------------------------------
-- outbox_record: what the provider said. Ignored when the lease moved to
-- another dispatcher meanwhile. Returns the row's new status.
--   sent          → sent, with the provider's message id
--   retry         → pending again from p_retry_at
--   contact_gone  → failed; the contact is unreachable and her queue stops
--   permanent     → failed with the reason
--   no_template   → held until she writes (WhatsApp 24-hour window)
-- Then a contact who declined or erased her data is deleted once her last
-- message (the farewell) has left.
-- ----------------------------------------------------------------------------
create function public.outbox_record(
  p_id bigint,
  p_worker text,
  p_outcome text,
  p_provider_message_id text,
  p_error text,
  p_retry_at timestamptz,
  p_now timestamptz
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row public.outbox;
  v_result text;
begin
  select * into v_row from public.outbox where id = p_id for update;
  if not found or v_row.status <> 'sending' or v_row.claimed_by is distinct from p_worker then
    return coalesce(v_row.status, 'missing');
  end if;

  if p_outcome = 'sent' then
    update public.outbox
       set status = 'sent', provider_message_id = p_provider_message_id, delivery_status = 'sent', sent_at = p_now,
           lease_until = null, error_kind = null, error = null, updated_at = p_now
     where id = p_id;
    v_result := 'sent';
  elsif p_outcome = 'retry' then
    update public.outbox
       set status = 'pending', not_before = coalesce(p_retry_at, p_now), lease_until = null, claimed_by = null,
           error_kind = 'retry', error = p_error, updated_at = p_now
     where id = p_id;
    return 'pending';
  elsif p_outcome = 'contact_gone' then
    update public.outbox set status = 'failed', error_kind = 'contact_gone', error = p_error, lease_until = null, updated_at = p_now where id = p_id;
    update public.contacts set status = 'unreachable', unreachable_reason = p_error, updated_at = p_now where id = v_row.contact_id;
    -- the rest of her queue would only wait forever: close it with the reason
    update public.outbox set status = 'failed', error_kind = 'contact_gone', error = 'contact unreachable: ' || p_error, updated_at = p_now
     where contact_id = v_row.contact_id and status in ('pending', 'held');
    v_result := 'failed';
  elsif p_outcome = 'permanent' then
    update public.outbox set status = 'failed', error_kind = 'permanent', error = p_error, lease_until = null, updated_at = p_now where id = p_id;
    perform public.outbox_media_failed(v_row, p_error, p_now);
    v_result := 'failed';
  elsif p_outcome = 'no_template' then
    update public.outbox set status = 'held', error_kind = 'no_template', error = p_error, lease_until = null, claimed_by = null, updated_at = p_now where id = p_id;
    return 'held';
  else
    raise exception 'unknown outcome %', p_outcome using errcode = '22023';
  end if;

  delete from public.contacts c
   where c.id = v_row.contact_id and c.consent = 'declined' and c.family_id is null and c.staff_id is null
     and c.conversation = '{}'::jsonb
     and not exists (select 1 from public.outbox o where o.contact_id = c.id and o.status in ('pending', 'sending', 'held'));
  return v_result;
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
create function public.outbox_record_many(p_worker text, p_records jsonb)
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

-- ----------------------------------------------------------------------------
-- outbox_delivery_update: a provider status callback (sent, delivered, read,
-- failed, undelivered) for a message we sent. Never moves a status backwards.
-- ----------------------------------------------------------------------------
create function public.outbox_delivery_update(
  p_provider_message_id text,
  p_status text,
  p_error_code text,
  p_now timestamptz
)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row public.outbox;
  v_rank constant jsonb := '{"queued":0,"sending":1,"sent":2,"delivered":3,"read":4}';
begin
  select * into v_row from public.outbox where provider_message_id = p_provider_message_id for update;
  if not found then
    return false;
  end if;
  if p_status in ('failed', 'undelivered') then
    if p_error_code = '63016' then
      -- outside the 24-hour window after all: wait for her next message
      update public.outbox set status = 'held', delivery_status = p_status, error_kind = 'no_template',
             error = 'provider error 63016: outside the 24-hour window', updated_at = p_now where id = v_row.id;
    elsif p_error_code = '21610' then
      update public.outbox set status = 'failed', delivery_status = p_status, error_kind = 'contact_gone', error = 'provider error 21610: opted out', updated_at = p_now where id = v_row.id;
      update public.contacts set status = 'unreachable', unreachable_reason = 'provider error 21610: opted out', updated_at = p_now where id = v_row.contact_id;
      update public.outbox set status = 'failed', error_kind = 'contact_gone', error = 'contact unreachable: provider error 21610', updated_at = p_now
       where contact_id = v_row.contact_id and status in ('pending', 'held');
    elsif v_row.payload ? 'media' and p_error_code in ('63019', '11200') and v_row.attempts < 5 then
      -- the provider could not fetch the file from our link: a new link later, like any retry
      update public.outbox set status = 'pending', delivery_status = p_status, error_kind = 'retry', claimed_by = null, lease_until = null,
             not_before = p_now + make_interval(secs => 30 * 2 ^ v_row.attempts),
             error = 'provider error ' || p_error_code || ': media unreachable', updated_at = p_now where id = v_row.id;
    else
      update public.outbox set status = 'failed', delivery_status = p_status, error_kind = 'permanent',
             error = 'provider error ' || coalesce(p_error_code, 'unknown'), updated_at = p_now where id = v_row.id;
      perform public.outbox_media_failed(v_row, 'media ' || case when p_error_code in ('11751') then 'too_large'
                                                            when p_error_code in ('63021') then 'unsupported'
                                                            else 'unreachable' end, p_now);
    end if;
  elsif coalesce((v_rank ->> p_status)::int, -1) > coalesce((v_rank ->> v_row.delivery_status)::int, -1) then
    update public.outbox set delivery_status = p_status, updated_at = p_now where id = v_row.id;
  end if;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- outbox_counts: how the queue stands, for /healthz and operators
-- ----------------------------------------------------------------------------
create function public.outbox_counts()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'pending', count(*) filter (where status in ('pending', 'sending')),
    'held', count(*) filter (where status = 'held'),
    'failed', count(*) filter (where status = 'failed')
  ) from public.outbox;
$$;

-- ----------------------------------------------------------------------------
-- outbox_depth: the rows not done yet by channel, status and priority, for
-- /metrics: one grouped query per scrape, at most 2 × 4 × 10 rows (far under
-- the API's row cap). Sent and cancelled rows are done and not counted.
-- ----------------------------------------------------------------------------
create function public.outbox_depth()
returns jsonb
language sql
stable
set search_path = ''
as $$
  -- one value, not a set: nothing for the API's row cap to cut
  select coalesce(jsonb_agg(jsonb_build_object('channel', d.channel, 'status', d.status, 'priority', d.priority, 'n', d.n)
                            order by d.channel, d.status, d.priority), '[]'::jsonb)
    from (select o.channel, o.status, o.priority::int as priority, count(*)::int as n
            from public.outbox o
           where o.status in ('pending', 'sending', 'held', 'failed')
           group by o.channel, o.status, o.priority) d;
$$;

-- ----------------------------------------------------------------------------
-- message_template_upsert: configure a WhatsApp template for a kind and language
-- ----------------------------------------------------------------------------
create function public.message_template_upsert(p_kind text, p_language text, p_content_sid text, p_variables text[], p_now timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into public.message_templates (kind, language, content_sid, variables, updated_at)
  values (p_kind, p_language, p_content_sid, coalesce(p_variables, '{}'), p_now)
  on conflict (kind, language) do update set content_sid = excluded.content_sid, variables = excluded.variables, updated_at = excluded.updated_at;
$$;

-- ----------------------------------------------------------------------------
-- desk_templates: every WhatsApp template configured, for the desk's list of
-- kinds and languages (coordinators only)
-- ----------------------------------------------------------------------------
create function public.desk_templates(p_staff_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.coordinator_require(p_staff_id);
  return coalesce((
    select jsonb_agg(jsonb_build_object('kind', t.kind, 'language', t.language, 'content_sid', t.content_sid,
                                        'variables', to_jsonb(t.variables), 'updated_at', t.updated_at)
                     order by t.kind, t.language)
      from public.message_templates t), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_template_set: a coordinator sets the template of a kind and language
-- (p_content_sid an HX… Content SID) or clears it (null: such messages are
-- held outside the window again); audited with the SID it replaced.
-- {was: the SID before, or null}
-- ----------------------------------------------------------------------------
create function public.desk_template_set(p_staff_id uuid, p_kind text, p_language text, p_content_sid text, p_variables text[], p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_was text;
begin
  if p_kind is null or p_kind !~ '^[a-z_]{2,40}$' or p_language is null or p_language !~ '^[a-z]{2,3}$' then
    raise exception 'not a message kind and language' using errcode = '22023';
  end if;
  if p_content_sid is not null and p_content_sid !~ '^HX[0-9a-f]{32}$' then
    raise exception 'not a Twilio Content SID' using errcode = '22023';
  end if;
  if exists (select 1 from unnest(coalesce(p_variables, '{}')) v where v is null or v !~ '^[a-z_]{1,40}$') then
    raise exception 'not a payload field' using errcode = '22023';
  end if;
  select t.content_sid into v_was from public.message_templates t where t.kind = p_kind and t.language = p_language for update;
  if p_content_sid is null then
    delete from public.message_templates where kind = p_kind and language = p_language;
  else
    perform public.message_template_upsert(p_kind, p_language, p_content_sid, p_variables, p_now);
  end if;
  insert into public.audit_log (at, staff_id, action, target_kind, details)
  values (p_now, v_staff.id, case when p_content_sid is null then 'desk.template_cleared' else 'desk.template_set' end, 'message_template',
          jsonb_build_object('kind', p_kind, 'language', p_language, 'content_sid', p_content_sid, 'was', v_was,
                             'variables', to_jsonb(coalesce(p_variables, '{}'))));
  return jsonb_build_object('was', v_was);
end;
$$;

-- "a message from your tutor is waiting" is pointless once the window is open again: the message itself goes
create function private.outbox_drop_stale_nudge()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status = 'held' and new.status = 'pending' and new.kind = 'tutor_waiting' then
    new.status := 'cancelled';
  end if;
  return new;
end;
$$;

create trigger outbox_drop_stale_nudge before update of status on public.outbox for each row execute function private.outbox_drop_stale_nudge();

-- ----------------------------------------------------------------------------
-- outbox_expire_bulk: a broadcast message whose sender died while sending it
-- (its slot was given) is not sent again (it may have arrived): it fails with
-- that reason, so the report lists it and no one gets the notice twice. One
-- the dead sender had claimed but not begun is claimed again (outbox_claim).
-- ----------------------------------------------------------------------------
create function public.outbox_expire_bulk(p_channel text, p_now timestamptz)
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

-- ----------------------------------------------------------------------------
-- outbox_question_apply: when a scheduled question has left, it is her current
-- question; in the middle of another step only its choices become current
-- ----------------------------------------------------------------------------
create function public.outbox_question_apply()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.contacts
     set conversation = case
           when coalesce(conversation ->> 'step', 'menu') in ('menu', 'care', 'checkin.offer') then new.question
           else conversation || jsonb_build_object('offered', new.question -> 'offered')
         end,
         updated_at = new.updated_at
   where id = new.contact_id;
  return new;
end;
$$;

create trigger outbox_question_sent
  after update of status on public.outbox
  for each row
  when (new.status = 'sent' and old.status is distinct from 'sent' and new.question is not null)
  execute function public.outbox_question_apply();

-- ----------------------------------------------------------------------------
-- messaging_effect_apply: a message to someone else (a notice to staff, to a
-- family), queued once per key. Called by effect_apply for `messaging.<verb>`.
-- ----------------------------------------------------------------------------
create function public.messaging_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  case split_part(p_effect ->> 'op', '.', 2)
  when 'enqueue' then
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
    select p_effect ->> 'key', c.id, c.channel, p_effect ->> 'kind', 1, p_effect -> 'payload', p_now, p_now, p_now
      from public.contacts c where c.id = (p_effect ->> 'contact_id')::uuid
    on conflict (idempotency_key) do nothing;
  else
    return false;
  end case;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- messaging_export: for her data export, the files she sent and how many
-- messages to her still wait
-- ----------------------------------------------------------------------------
create function public.messaging_export(p_contact_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    -- what was sent and when, never the files nor their provider links
    'files', coalesce((
      select jsonb_agg(jsonb_build_object('kind', m.kind, 'content_type', m.content_type, 'received_at', m.received_at) order by m.received_at)
        from public.media_refs m where m.contact_id = p_contact_id), '[]'::jsonb),
    'files_received', coalesce((
      select jsonb_agg(jsonb_build_object('kind', o.payload -> 'media' ->> 'kind', 'sent_at', o.sent_at) order by o.sent_at)
        from public.outbox o where o.contact_id = p_contact_id and o.kind = 'media' and o.status = 'sent'), '[]'::jsonb),
    'messages_waiting', (select count(*) from public.outbox o where o.contact_id = p_contact_id and o.status in ('pending', 'held')));
$$;

-- ----------------------------------------------------------------------------
-- messaging_erase: her erasure: her queue and the references to her files;
-- the files Twilio keeps (hers, and copies the bot sent on WhatsApp, to her
-- or with her file to her tutor) are queued for deletion at Twilio
-- ----------------------------------------------------------------------------
create function public.messaging_erase(p_contact_id uuid, p_now timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into public.media_purge (target, not_before, queued_at)
  select target, p_now, p_now from (
    select m.ref as target
      from public.media_refs m
      join public.contacts c on c.id = m.contact_id and c.channel = 'whatsapp'
     where m.contact_id = p_contact_id
    union
    select 'message:' || o.provider_message_id
      from public.outbox o
     where o.channel = 'whatsapp' and o.kind = 'media' and o.provider_message_id is not null
       and (o.contact_id = p_contact_id
            or o.payload -> 'media' ->> 'id' in (select m.id::text from public.media_refs m where m.contact_id = p_contact_id))
  ) t
  on conflict (target) do nothing;
  delete from public.outbox where contact_id = p_contact_id;
  delete from public.media_refs where contact_id = p_contact_id;
$$;

-- ----------------------------------------------------------------------------
-- media_open: a signed media link being opened. The file, when the outbox row
-- it names carries it and the link was not opened before; null otherwise.
-- ----------------------------------------------------------------------------
create function public.media_open(p_outbox_id bigint, p_media_id text, p_nonce text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_media jsonb;
begin
  select o.payload -> 'media' into v_media
    from public.outbox o
   where o.id = p_outbox_id and o.payload -> 'media' ->> 'id' = p_media_id and o.status in ('sending', 'sent');
  if v_media is null then
    return null;
  end if;
  insert into public.media_fetches (nonce, outbox_id, fetched_at) values (p_nonce, p_outbox_id, p_now)
  on conflict (nonce) do nothing;
  if not found then
    return null;
  end if;
  return jsonb_build_object('channel', v_media ->> 'channel', 'ref', v_media ->> 'ref', 'content_type', v_media ->> 'contentType',
                            'file_name', v_media ->> 'fileName', 'kind', v_media ->> 'kind');
end;
$$;

-- ----------------------------------------------------------------------------
-- media_purge_due: files at Twilio waiting to be deleted, oldest first
-- ----------------------------------------------------------------------------
create function public.media_purge_due(p_now timestamptz, p_limit int)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'target', p.target, 'attempts', p.attempts) order by p.id), '[]'::jsonb)
    from (select * from public.media_purge where not_before <= p_now order by id limit p_limit) p;
$$;

-- ----------------------------------------------------------------------------
-- media_purge_done: a deletion done (the row goes) or failed (tried again
-- later, waiting longer each time, at most a day)
-- ----------------------------------------------------------------------------
create function public.media_purge_done(p_id bigint, p_ok boolean, p_error text, p_now timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  delete from public.media_purge where id = p_id and p_ok;
  update public.media_purge
     set attempts = attempts + 1, error = left(p_error, 500),
         not_before = p_now + least(interval '1 day', make_interval(mins => power(2, least(attempts, 11))::int))
   where id = p_id and not p_ok;
$$;
