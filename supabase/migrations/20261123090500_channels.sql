-- ============================================================================
-- CHANNELS: inbound handling and the outbox's claim / record cycle
-- Every function here is one transaction: a state change and the messages it
-- causes commit together.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- inbound_begin: dedupe a provider message and find (or create) its contact.
-- Only the channel id and a language suggestion are stored before consent.
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
      'language', v_contact.language,
      'language_confirmed', v_contact.language_confirmed,
      'consent', v_contact.consent,
      'status', v_contact.status,
      'conversation', v_contact.conversation
    )
  );
end;
$$;

-- ----------------------------------------------------------------------------
-- inbound_finish: store the conversation's new state, queue the replies, keep
-- media references, and mark the inbound message handled, all at once.
-- p_replies: [{text, choices?}]; p_media: [{kind, ref, content_type}]
-- ----------------------------------------------------------------------------
create function public.inbound_finish(
  p_channel text,
  p_provider_message_id text,
  p_contact_id uuid,
  p_conversation jsonb,
  p_language text,
  p_language_confirmed boolean,
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

  insert into public.media_refs (contact_id, provider_message_id, kind, ref, content_type, received_at)
  select p_contact_id, p_provider_message_id, m->>'kind', m->>'ref', m->>'content_type', p_now
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
-- outbox_claim: the next messages of one channel, at most one per contact and
-- only her oldest, so a chat's messages leave in order even with N dispatchers.
-- A 'sending' row whose lease ran out (its dispatcher died) is claimed again.
-- ----------------------------------------------------------------------------
create function public.outbox_claim(
  p_worker text,
  p_channel text,
  p_now timestamptz,
  p_limit int,
  p_lease_seconds int
)
returns table (
  id bigint,
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
  -- bounded look-ahead in dispatch order, so a claim costs the same with ten rows queued or a million
  with candidates as (
    (select o.id from public.outbox o
      where o.channel = p_channel and o.status = 'pending' and o.not_before <= p_now
      order by o.priority, o.not_before, o.id
      limit p_limit * 10)
    union all
    (select o.id from public.outbox o
      where o.channel = p_channel and o.status = 'sending' and o.lease_until < p_now
      order by o.lease_until
      limit p_limit)
  ),
  ready as (
    select o.id
      from public.outbox o
      join public.contacts c on c.id = o.contact_id
     where o.id in (select candidates.id from candidates)
       and c.status = 'active'
       and ((o.status = 'pending' and o.not_before <= p_now) or (o.status = 'sending' and o.lease_until < p_now))
       and not exists (
         select 1 from public.outbox e
          where e.contact_id = o.contact_id and e.id < o.id
            and (e.status = 'pending' or (e.status = 'sending' and e.lease_until >= p_now) or e.status = 'held'))
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
           attempts = o.attempts + 1, updated_at = p_now
      from ready
     where o.id = ready.id
    returning o.*
  )
  select cl.id, cl.contact_id, c.provider_id, c.language, c.last_inbound_at, cl.kind, cl.payload, cl.attempts,
         t.content_sid, t.variables
    from claimed cl
    join public.contacts c on c.id = cl.contact_id
    left join public.message_templates t on t.kind = cl.kind and t.language = c.language
   order by cl.priority, cl.not_before, cl.id;
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
    return 'sent';
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
    return 'failed';
  elsif p_outcome = 'permanent' then
    update public.outbox set status = 'failed', error_kind = 'permanent', error = p_error, lease_until = null, updated_at = p_now where id = p_id;
    return 'failed';
  elsif p_outcome = 'no_template' then
    update public.outbox set status = 'held', error_kind = 'no_template', error = p_error, lease_until = null, claimed_by = null, updated_at = p_now where id = p_id;
    return 'held';
  end if;
  raise exception 'unknown outcome %', p_outcome using errcode = '22023';
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
    else
      update public.outbox set status = 'failed', delivery_status = p_status, error_kind = 'permanent',
             error = 'provider error ' || coalesce(p_error_code, 'unknown'), updated_at = p_now where id = v_row.id;
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
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.inbound_begin(text, text, text, text, timestamptz) from public, anon, authenticated;
revoke execute on function public.inbound_finish(text, text, uuid, jsonb, text, boolean, jsonb, jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.outbox_enqueue(uuid, text, text, int, jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.outbox_claim(text, text, timestamptz, int, int) from public, anon, authenticated;
revoke execute on function public.outbox_record(bigint, text, text, text, text, timestamptz, timestamptz) from public, anon, authenticated;
revoke execute on function public.outbox_delivery_update(text, text, text, timestamptz) from public, anon, authenticated;
revoke execute on function public.outbox_counts() from public, anon, authenticated;
revoke execute on function public.message_template_upsert(text, text, text, text[], timestamptz) from public, anon, authenticated;
grant execute on function public.inbound_begin(text, text, text, text, timestamptz) to service_role;
grant execute on function public.inbound_finish(text, text, uuid, jsonb, text, boolean, jsonb, jsonb, timestamptz) to service_role;
grant execute on function public.outbox_enqueue(uuid, text, text, int, jsonb, timestamptz) to service_role;
grant execute on function public.outbox_claim(text, text, timestamptz, int, int) to service_role;
grant execute on function public.outbox_record(bigint, text, text, text, text, timestamptz, timestamptz) to service_role;
grant execute on function public.outbox_delivery_update(text, text, text, timestamptz) to service_role;
grant execute on function public.outbox_counts() to service_role;
grant execute on function public.message_template_upsert(text, text, text, text[], timestamptz) to service_role;
