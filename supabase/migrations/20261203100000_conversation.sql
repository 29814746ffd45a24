-- ============================================================================
-- CONVERSATION: per-chat order only among what is due; a scheduled question
-- becomes her current question when it reaches her, not when it is queued;
-- one reminder question a day; a menu superseded by a newer one leaves
-- without its choices, so a number she types answers the last question she saw
-- ============================================================================

-- ----------------------------------------------------------------------------
-- outbox.question: the conversation state a scheduled message opens (its
-- choices), applied when it is sent
-- ----------------------------------------------------------------------------
alter table public.outbox add column question jsonb;
comment on column public.outbox.question is 'The conversation a scheduled question opens ({step, offered}); applied when the message is sent, not when it is queued.';

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
-- outbox_claim (v3): a chat's next message is its oldest due one: a row
-- scheduled for later, waiting out a back-off longer than a minute, or held
-- for WhatsApp's window never blocks a due one, so the reply to what she just
-- wrote leaves at once. A reply whose choices a newer reply already replaces
-- leaves without them.
-- ----------------------------------------------------------------------------
create or replace function public.outbox_claim(
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
       and (c.status = 'active' or (c.status = 'paused' and o.kind = 'reply'))
       and ((o.status = 'pending' and o.not_before <= p_now) or (o.status = 'sending' and o.lease_until < p_now))
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
           attempts = o.attempts + 1, updated_at = p_now
      from ready
     where o.id = ready.id
    returning o.*
  )
  select cl.id, cl.contact_id, c.provider_id, c.language, c.last_inbound_at, cl.kind,
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
-- reminders_enqueue (v2): the job's messages, each once by its key. A message
-- with choices carries its question, which becomes hers when it is sent; a
-- second question for her on the same day waits for the next day, so at most
-- one numbered reminder menu is open at a time.
-- p_messages: [{contact_id, key, kind, payload, not_before, question}]
-- ----------------------------------------------------------------------------
create or replace function public.reminders_enqueue(p_messages jsonb, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_m jsonb;
  v_n int := 0;
  v_not_before timestamptz;
  v_count int;
begin
  for v_m in select e from jsonb_array_elements(p_messages) e loop
    v_not_before := (v_m ->> 'not_before')::timestamptz;
    if v_m ? 'question' then
      -- the day (Rome) of her latest question still to send or sent that day: this one comes the day after
      while exists (
        select 1 from public.outbox o
         where o.contact_id = (v_m ->> 'contact_id')::uuid and o.question is not null
           and o.idempotency_key <> v_m ->> 'key'
           and o.status in ('pending', 'sending', 'sent', 'held')
           and (o.not_before at time zone 'Europe/Rome')::date = (v_not_before at time zone 'Europe/Rome')::date) loop
        v_not_before := v_not_before + interval '1 day';
      end loop;
    end if;
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, question, not_before, created_at, updated_at)
    select v_m ->> 'key', c.id, c.channel, v_m ->> 'kind', 5, v_m -> 'payload', v_m -> 'question', v_not_before, p_now, p_now
      from public.contacts c where c.id = (v_m ->> 'contact_id')::uuid
    on conflict (idempotency_key) do nothing;
    get diagnostics v_count = row_count;
    v_n := v_n + v_count;
  end loop;
  return v_n;
end;
$$;

-- ----------------------------------------------------------------------------
-- checkins_enqueue (v2): the check-in's question becomes hers when it is sent
-- ----------------------------------------------------------------------------
create or replace function public.checkins_enqueue(p_items jsonb, p_not_before timestamptz, p_now timestamptz)
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

revoke execute on function public.outbox_question_apply() from public, anon, authenticated;
grant execute on function public.outbox_question_apply() to service_role;
