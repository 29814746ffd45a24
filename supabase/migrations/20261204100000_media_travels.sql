-- ============================================================================
-- Files travel: voice notes, photos and documents reach the tutor's chat (and
-- hers) as files. Signed links open once (media_fetches); files at Twilio of a
-- person who erased her data are deleted (media_purge); a file that cannot be
-- delivered is told to its sender and noted on the request (author 'note').
-- Only the changed definitions; the schema files hold them all.
-- ============================================================================

-- supabase/schemas/04_messaging.sql
create table public.media_fetches (
  -- the signed link's nonce
  nonce text primary key,
  outbox_id bigint not null,
  fetched_at timestamptz not null
);
comment on table public.media_fetches is 'Each signed media link (PUBLIC_URL/media/<token>) already opened, so it streams its file once; pruned by housekeeping.';
create index media_fetches_at_idx on public.media_fetches (fetched_at);
alter table public.media_fetches enable row level security;

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

-- supabase/schemas/09_needs.sql
alter table public.need_messages drop constraint need_messages_author_check;
alter table public.need_messages add constraint need_messages_author_check check (author in ('family', 'staff', 'note'));

-- messaging_erase takes the clock now (for the deletions it queues)
drop function public.messaging_erase(uuid);


-- ----------------------------------------------------------------------------
-- inbound_finish: apply the core's effects, store the conversation's new
-- state, queue the replies, keep media references, and mark the inbound
-- message handled, all at once.
-- p_replies: [{text, choices?}]; p_media: [{kind, ref, content_type}]
-- ----------------------------------------------------------------------------
create or replace function public.inbound_finish(
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
-- outbox_media_failed: a file that could not be delivered for good. Its
-- sender is told in her language what happened (the texts came with the row,
-- one per problem: too_large, unsupported, unreachable, named in the error as
-- "media <problem>") and the request keeps a note.
-- ----------------------------------------------------------------------------
create or replace function public.outbox_media_failed(p_row public.outbox, p_error text, p_now timestamptz)
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
create or replace function public.outbox_record(
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
-- outbox_delivery_update: a provider status callback (sent, delivered, read,
-- failed, undelivered) for a message we sent. Never moves a status backwards.
-- ----------------------------------------------------------------------------
create or replace function public.outbox_delivery_update(
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
-- messaging_export: for her data export, the files she sent and how many
-- messages to her still wait
-- ----------------------------------------------------------------------------
create or replace function public.messaging_export(p_contact_id uuid)
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
create or replace function public.messaging_erase(p_contact_id uuid, p_now timestamptz)
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
create or replace function public.media_open(p_outbox_id bigint, p_media_id text, p_nonce text, p_now timestamptz)
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
create or replace function public.media_purge_due(p_now timestamptz, p_limit int)
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
create or replace function public.media_purge_done(p_id bigint, p_ok boolean, p_error text, p_now timestamptz)
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

-- ----------------------------------------------------------------------------
-- notice_recipients: the contacts that hear about a family: her current tutor,
-- and the active coordinators
-- ----------------------------------------------------------------------------
create or replace function public.notice_recipients(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'tutor', coalesce((
      select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language, 'channel', c.channel))
        from public.family_assignments a
        join public.staff s on s.id = a.tutor_id and s.active
        join public.contacts c on c.staff_id = s.id
       where a.family_id = p_family_id and a.ended_at is null), '[]'::jsonb),
    'coordinators', coalesce((
      select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language, 'channel', c.channel))
        from public.staff s join public.contacts c on c.staff_id = s.id
       where s.role = 'coordinator' and s.active), '[]'::jsonb));
$$;

-- ----------------------------------------------------------------------------
-- contact_profile: what the core needs to answer her: family, tutor, children,
-- her open needs and her check-in setting, or the staff member behind the contact
-- ----------------------------------------------------------------------------
create or replace function public.contact_profile(p_contact_id uuid)
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

-- ----------------------------------------------------------------------------
-- needs_effect_apply: the decisions about needs. Hers: open a need, add to its
-- thread, the name she asked her tutor to use. Staff's: take charge, reply,
-- resolve, hand over; access checked here. Called by effect_apply for
-- `needs.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create or replace function public.needs_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_verb text := split_part(p_effect ->> 'op', '.', 2);
  v_need public.needs;
  v_staff public.staff;
  v_id uuid := (p_effect ->> 'need_id')::uuid;
begin
  if v_verb in ('open', 'message', 'caller_name') and p_family_id is null then
    raise exception 'no family for contact' using errcode = 'P0002';
  end if;
  case v_verb
  when 'open' then
    insert into public.needs (id, ref, family_id, child_id, kind, category, urgency, source, details, language, created_at, updated_at)
    values ((p_effect ->> 'id')::uuid, (p_effect ->> 'ref')::bigint, p_family_id,
            (select ch.id from public.children ch where ch.id = (p_effect ->> 'child_id')::uuid and ch.family_id = p_family_id),
            p_effect ->> 'kind', p_effect ->> 'category', p_effect ->> 'urgency', p_effect ->> 'source',
            coalesce(p_effect -> 'details', '{}'::jsonb), p_effect ->> 'language', p_now, p_now)
    on conflict (id) do nothing;
    if p_effect ? 'body' or jsonb_array_length(coalesce(p_effect -> 'media', '[]'::jsonb)) > 0 then
      insert into public.need_messages (id, need_id, author, language, body, translation, translation_language, media, created_at)
      values (coalesce((p_effect ->> 'message_id')::uuid, gen_random_uuid()), (p_effect ->> 'id')::uuid, 'family', p_effect ->> 'language', p_effect ->> 'body', p_effect ->> 'translation',
              p_effect ->> 'translation_language', coalesce(p_effect -> 'media', '[]'::jsonb), p_now);
    end if;

  when 'message' then
    if not exists (select 1 from public.needs where id = v_id and family_id = p_family_id and status <> 'resolved') then
      raise exception 'need not open for this family' using errcode = 'P0002';
    end if;
    insert into public.need_messages (id, need_id, author, language, body, translation, translation_language, media, created_at)
    values (coalesce((p_effect ->> 'message_id')::uuid, gen_random_uuid()), v_id, 'family', p_effect ->> 'language', p_effect ->> 'body', p_effect ->> 'translation',
            p_effect ->> 'translation_language', coalesce(p_effect -> 'media', '[]'::jsonb), p_now);
    update public.needs set updated_at = p_now where id = v_id;

  when 'note' then
    insert into public.need_messages (need_id, author, language, body, created_at)
    select n.id, 'note', 'it', left(p_effect ->> 'body', 4000), p_now from public.needs n where n.id = v_id;

  when 'caller_name' then
    update public.families set caller_name = nullif(btrim(p_effect ->> 'name'), ''), updated_at = p_now where id = p_family_id;

  when 'take' then
    v_staff := public.need_access(p_contact_id, v_id);
    update public.needs
       set status = 'in_charge', taken_by = v_staff.id, taken_at = coalesce(taken_at, p_now),
           assignee_id = v_staff.id, updated_at = p_now
     where id = v_id and status <> 'resolved';
    insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'need.taken', 'need', v_id);

  when 'reply' then
    v_staff := public.need_access(p_contact_id, v_id);
    select * into v_need from public.needs where id = v_id for update;
    if v_need.status = 'resolved' then raise exception 'need already resolved' using errcode = 'P0001'; end if;
    insert into public.need_messages (id, need_id, author, staff_id, language, body, translation, translation_language, media, created_at)
    values (coalesce((p_effect ->> 'message_id')::uuid, gen_random_uuid()), v_id, 'staff', v_staff.id, p_effect ->> 'language', p_effect ->> 'body', p_effect ->> 'translation', p_effect ->> 'translation_language',
            coalesce(p_effect -> 'media', '[]'::jsonb), p_now);
    -- replying is taking charge
    update public.needs
       set status = 'in_charge', taken_by = coalesce(taken_by, v_staff.id), taken_at = coalesce(taken_at, p_now),
           assignee_id = coalesce(taken_by, v_staff.id), updated_at = p_now
     where id = v_id;
    insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'need.replied', 'need', v_id);

  when 'resolve' then
    v_staff := public.need_access(p_contact_id, v_id);
    update public.needs
       set status = 'resolved', resolved_at = p_now, outcome = p_effect ->> 'outcome',
           taken_by = coalesce(taken_by, v_staff.id), taken_at = coalesce(taken_at, p_now), updated_at = p_now
     where id = v_id and status <> 'resolved';
    insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
    values (p_now, v_staff.id, 'need.resolved', 'need', v_id, jsonb_build_object('outcome', p_effect ->> 'outcome'));

  when 'hand' then
    v_staff := public.need_access(p_contact_id, v_id);
    if not exists (select 1 from public.staff where id = (p_effect ->> 'tutor_id')::uuid and active) then
      raise exception 'no such active staff member' using errcode = 'P0002';
    end if;
    update public.needs
       set assignee_id = (p_effect ->> 'tutor_id')::uuid, assigned_at = p_now, status = 'open', taken_by = null, taken_at = null,
           reminded_at = null, updated_at = p_now
     where id = v_id and status <> 'resolved';
    insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
    values (p_now, v_staff.id, 'need.handed', 'need', v_id, jsonb_build_object('to', p_effect ->> 'tutor_id'));

  else
    return false;
  end case;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- privacy_erase: her right to erasure, from each area: her family (and by
-- cascade everything about it), her queue and files, her contact down to its
-- channel id and language for the farewell
-- ----------------------------------------------------------------------------
create or replace function public.privacy_erase(p_contact_id uuid, p_family_id uuid, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform public.families_erase(p_family_id, p_now);
  perform public.messaging_erase(p_contact_id, p_now);
  perform public.contacts_erase(p_contact_id, p_now);
end;
$$;

-- ----------------------------------------------------------------------------
-- housekeeping_prune: forget inbound ids and finished job runs past their use,
-- codes that expired long ago, and a contact who declined or erased her data
-- whose goodbye could never be sent
-- ----------------------------------------------------------------------------
create or replace function public.housekeeping_prune(p_before timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_inbound int;
  v_runs int;
  v_codes int;
  v_forgotten int;
  v_links int;
begin
  delete from public.inbound_log where received_at < p_before;
  get diagnostics v_inbound = row_count;
  delete from public.job_runs where finished_at < p_before;
  get diagnostics v_runs = row_count;
  delete from public.link_codes where expires_at < p_before;
  get diagnostics v_codes = row_count;
  delete from public.contacts
   where consent = 'declined' and family_id is null and staff_id is null and conversation = '{}'::jsonb and updated_at < p_before;
  get diagnostics v_forgotten = row_count;
  delete from public.media_fetches where fetched_at < p_before;
  get diagnostics v_links = row_count;
  return jsonb_build_object('inbound_ids_pruned', v_inbound, 'job_runs_pruned', v_runs, 'codes_pruned', v_codes, 'declined_contacts_deleted', v_forgotten,
                            'media_links_pruned', v_links);
end;
$$;

-- supabase/schemas/99_grants.sql covers new objects when run whole; a later migration grants its own
revoke all on table public.media_fetches, public.media_purge from public, anon, authenticated;
grant select, insert, update, delete on table public.media_fetches, public.media_purge to service_role;
revoke all on sequence public.media_purge_id_seq from public, anon, authenticated;
grant usage, select on sequence public.media_purge_id_seq to service_role;
revoke execute on function public.outbox_media_failed(public.outbox, text, timestamptz), public.messaging_erase(uuid, timestamptz),
  public.media_open(bigint, text, text, timestamptz), public.media_purge_due(timestamptz, int), public.media_purge_done(bigint, boolean, text, timestamptz)
  from public, anon, authenticated;
grant execute on function public.outbox_media_failed(public.outbox, text, timestamptz), public.messaging_erase(uuid, timestamptz),
  public.media_open(bigint, text, text, timestamptz), public.media_purge_due(timestamptz, int), public.media_purge_done(bigint, boolean, text, timestamptz)
  to service_role;
