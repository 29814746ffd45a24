-- ============================================================================
-- BROADCASTS: coordinators' notices to chosen families in their languages
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Broadcasts: one notice, its audience, its texts and when it leaves
-- ----------------------------------------------------------------------------
create table public.broadcasts (
  id uuid primary key default gen_random_uuid(),
  ref bigint generated always as identity unique,
  created_by uuid references public.staff (id) on delete set null,
  source text not null check (source in ('chat', 'api', 'desk')),
  -- the inbound message, the API's Idempotency-Key or the desk form's key: a redelivery creates nothing new
  source_key text unique,
  -- {languages, districts, ages, tutors, channels, open_need}; {} = every family
  audience jsonb not null default '{}'::jsonb,
  -- {"it": "…", "ar": "…"}: Italian always; a language without its text gets the Italian one with a note
  texts jsonb not null check (texts ? 'it'),
  send_at timestamptz not null,
  status text not null default 'scheduled' check (status in ('scheduled', 'sending', 'done', 'cancelled')),
  created_at timestamptz not null default now(),
  released_at timestamptz,
  finished_at timestamptz,
  cancelled_at timestamptz,
  cancelled_by uuid references public.staff (id) on delete set null
);
comment on table public.broadcasts is 'A coordinator''s notice: audience filters, Italian and per-language texts, send time and where it stands.';
create index broadcasts_due_idx on public.broadcasts (send_at) where status = 'scheduled';
create index broadcasts_sending_idx on public.broadcasts (id) where status = 'sending';
alter table public.broadcasts enable row level security;

-- ----------------------------------------------------------------------------
-- Broadcast recipients: who was in the audience, skipped or queued, and which text
-- ----------------------------------------------------------------------------
create table public.broadcast_recipients (
  id bigint generated always as identity primary key,
  broadcast_id uuid not null references public.broadcasts (id) on delete cascade,
  -- null once she erased her data: the counts stay, the link goes
  contact_id uuid references public.contacts (id) on delete set null,
  family_ref bigint,
  channel text not null check (channel in ('telegram', 'whatsapp')),
  language text not null,
  -- the text she got: her language, or 'it' when the coordinator gave none in hers
  text_language text not null,
  skipped text check (skipped in ('paused', 'unreachable')),
  outbox_id bigint references public.outbox (id) on delete set null,
  unique (broadcast_id, contact_id)
);
comment on table public.broadcast_recipients is 'Each contact a broadcast was meant for: skipped (and why) or its outbox row, and the text language used.';
create index broadcast_recipients_outbox_idx on public.broadcast_recipients (outbox_id);
alter table public.broadcast_recipients enable row level security;

-- ----------------------------------------------------------------------------
-- broadcast_audience: the contacts a filter picks (families active, consent given)
-- ----------------------------------------------------------------------------
create function public.broadcast_audience(p_audience jsonb, p_today date)
returns table (contact_id uuid, family_ref bigint, language text, channel text, status text)
language sql
stable
set search_path = ''
as $$
  select c.id, f.ref, c.language, c.channel, c.status
    from public.contacts c
    join public.families f on f.id = c.family_id
   where f.status = 'active' and c.consent = 'given'
     and (not p_audience ? 'languages' or c.language in (select jsonb_array_elements_text(p_audience -> 'languages')))
     and (not p_audience ? 'channels' or c.channel in (select jsonb_array_elements_text(p_audience -> 'channels')))
     and (not p_audience ? 'districts' or f.district_code in (select jsonb_array_elements_text(p_audience -> 'districts')))
     and (not p_audience ? 'tutors' or exists (
           select 1 from public.family_assignments a join public.staff s on s.id = a.tutor_id
            where a.family_id = f.id and a.ended_at is null
              and s.ref in (select x::bigint from jsonb_array_elements_text(p_audience -> 'tutors') x)))
     and (coalesce((p_audience ->> 'open_need')::boolean, false) = false or exists (
           select 1 from public.needs n where n.family_id = f.id and n.status in ('open', 'in_charge')))
     and (not p_audience ? 'ages' or exists (
           select 1 from public.children ch
            where ch.family_id = f.id and (
              (p_audience -> 'ages' ? 'expecting' and ch.birth_date is null and ch.due_date >= p_today)
              or (p_audience -> 'ages' ? 'under1' and ch.birth_date > (p_today - interval '12 months')::date and ch.birth_date <= p_today)
              or (p_audience -> 'ages' ? '1to3' and ch.birth_date <= (p_today - interval '12 months')::date and ch.birth_date > (p_today - interval '36 months')::date)
              or (p_audience -> 'ages' ? '3to6' and ch.birth_date <= (p_today - interval '36 months')::date and ch.birth_date > (p_today - interval '72 months')::date))));
$$;

-- ----------------------------------------------------------------------------
-- broadcast_preview: how many a filter reaches, per language and channel, and
-- how many are skipped (paused, unreachable)
-- ----------------------------------------------------------------------------
create function public.broadcast_preview(p_staff_id uuid, p_audience jsonb, p_today date)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
begin
  return (
    with a as (select * from public.broadcast_audience(p_audience, p_today))
    select jsonb_build_object(
      'recipients', count(*) filter (where a.status = 'active'),
      'skipped', jsonb_build_object('paused', count(*) filter (where a.status = 'paused'), 'unreachable', count(*) filter (where a.status = 'unreachable')),
      'families', count(distinct a.family_ref) filter (where a.status = 'active'),
      'languages', coalesce((select jsonb_object_agg(l.language, l.n) from (
         select a2.language, count(*) as n from a a2 where a2.status = 'active' group by a2.language) l), '{}'::jsonb),
      'channels', coalesce((select jsonb_object_agg(ch.channel, ch.n) from (
         select a3.channel, count(*) as n from a a3 where a3.status = 'active' group by a3.channel) ch), '{}'::jsonb))
    from a);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcast_create: a scheduled broadcast (once per source key; audited). The
-- chat's broadcasts.create effect passes the B-<ref> it announced (p_ref, from
-- broadcast_ref_next); the API lets the sequence choose.
-- ----------------------------------------------------------------------------
create function public.broadcast_create(
  p_staff_id uuid,
  p_source text,
  p_source_key text,
  p_audience jsonb,
  p_texts jsonb,
  p_send_at timestamptz,
  p_now timestamptz,
  p_ref bigint default null
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_row public.broadcasts;
  v_lang text;
  v_text text;
begin
  if p_source_key is not null then
    select * into v_row from public.broadcasts where source_key = p_source_key;
    if found then
      return jsonb_build_object('id', v_row.id, 'ref', v_row.ref, 'status', v_row.status, 'send_at', v_row.send_at, 'created', false);
    end if;
  end if;
  if coalesce(length(trim(p_texts ->> 'it')), 0) = 0 then
    raise exception 'the Italian text is required' using errcode = '22023';
  end if;
  for v_lang, v_text in select key, value from jsonb_each_text(p_texts) loop
    if v_lang not in ('it', 'ar', 'tl', 'zh', 'es', 'si', 'ro', 'uk', 'sq', 'bn', 'en', 'fr', 'ur') then
      raise exception 'unknown language %', v_lang using errcode = '22023';
    end if;
    if length(trim(v_text)) = 0 or length(v_text) > 1000 then
      raise exception 'the % text must be 1 to 1000 characters', v_lang using errcode = '22023';
    end if;
  end loop;
  insert into public.broadcasts (ref, created_by, source, source_key, audience, texts, send_at, created_at)
  overriding system value
  values (coalesce(p_ref, nextval(pg_get_serial_sequence('public.broadcasts', 'ref'))),
          v_staff.id, p_source, p_source_key, p_audience, p_texts, greatest(p_send_at, p_now), p_now)
  returning * into v_row;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'broadcast.created', 'broadcast', v_row.id,
          jsonb_build_object('audience', p_audience, 'languages', (select jsonb_agg(k) from jsonb_object_keys(p_texts) k), 'source', p_source));
  return jsonb_build_object('id', v_row.id, 'ref', v_row.ref, 'status', v_row.status, 'send_at', v_row.send_at, 'created', true);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcast_cancel: a scheduled broadcast is cancelled; one already sending
-- stops (its messages not yet sent are cancelled)
-- ----------------------------------------------------------------------------
create function public.broadcast_cancel(p_staff_id uuid, p_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_answer jsonb;
  v_id uuid;
  v_cancelled int := 0;
begin
  -- the same answer as the preview, the row locked first
  select id into v_id from public.broadcasts where ref = p_ref for update;
  v_answer := public.broadcast_cancel_preview(p_staff_id, p_ref);
  if v_answer is null or v_answer ->> 'was' not in ('scheduled', 'sending') then
    return v_answer;
  end if;
  update public.outbox o set status = 'cancelled', updated_at = p_now
    from public.broadcast_recipients r
   where r.broadcast_id = v_id and o.id = r.outbox_id and o.status in ('pending', 'held');
  get diagnostics v_cancelled = row_count;
  update public.broadcasts set status = 'cancelled', cancelled_at = p_now, cancelled_by = v_staff.id where id = v_id;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'broadcast.cancelled', 'broadcast', v_id, jsonb_build_object('was', v_answer ->> 'was', 'messages_cancelled', v_cancelled));
  return v_answer || jsonb_build_object('messages_cancelled', v_cancelled);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcasts_due: at most p_limit scheduled broadcasts whose time has come,
-- oldest first; the job releases them and takes the rest on its next run.
-- ----------------------------------------------------------------------------
create function public.broadcasts_due(p_now timestamptz, p_limit int)
returns table (id uuid, ref bigint, texts jsonb, audience jsonb)
language sql
stable
set search_path = ''
as $$
  select b.id, b.ref, b.texts, b.audience from public.broadcasts b
   where b.status = 'scheduled' and b.send_at <= p_now
   order by b.send_at, b.ref
   limit least(greatest(p_limit, 1), 100);
$$;

-- ----------------------------------------------------------------------------
-- broadcast_release: in one transaction, the audience is fixed, the skipped are
-- recorded and one outbox row per reachable contact is queued as bulk
-- (p_messages: {language: {text, text_language, notice}}, rendered by the app)
-- ----------------------------------------------------------------------------
create function public.broadcast_release(p_id uuid, p_messages jsonb, p_today date, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row public.broadcasts;
  v_queued int;
  v_skipped int;
begin
  select * into v_row from public.broadcasts where id = p_id for update;
  if not found or v_row.status <> 'scheduled' then
    return null;
  end if;
  with a as (
    select * from public.broadcast_audience(v_row.audience, p_today)
  ),
  queued as (
    insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
    select 'broadcast:' || v_row.ref || ':' || a.contact_id, a.contact_id, a.channel, 'broadcast', 8,
           jsonb_build_object('text', p_messages -> a.language ->> 'text', 'notice', p_messages -> a.language ->> 'notice'),
           p_now, p_now, p_now
      from a
     where a.status = 'active'
    on conflict (idempotency_key) do nothing
    returning public.outbox.id, public.outbox.contact_id
  ),
  recorded as (
    insert into public.broadcast_recipients (broadcast_id, contact_id, family_ref, channel, language, text_language, skipped, outbox_id)
    select v_row.id, a.contact_id, a.family_ref, a.channel, a.language,
           coalesce(p_messages -> a.language ->> 'text_language', 'it'),
           case when a.status = 'active' then null else a.status end, q.id
      from a left join queued q on q.contact_id = a.contact_id
    on conflict (broadcast_id, contact_id) do nothing
    returning outbox_id, skipped
  )
  select count(*) filter (where recorded.outbox_id is not null), count(*) filter (where recorded.skipped is not null)
    into v_queued, v_skipped from recorded;

  update public.broadcasts set status = 'sending', released_at = p_now where id = p_id;
  insert into public.audit_log (at, action, target_kind, target_id, details)
  values (p_now, 'broadcast.released', 'broadcast', p_id, jsonb_build_object('queued', v_queued, 'skipped', v_skipped));
  return jsonb_build_object('ref', v_row.ref, 'queued', v_queued, 'skipped', v_skipped);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcast_counts: where each recipient's message stands (no one's identity).
-- Each figure counts what its words say: sent, delivered and read only
-- messages that left; fallback only messages that left in a language other
-- than hers (the Italian text), never one held, cancelled, failed or waiting.
-- ----------------------------------------------------------------------------
create function public.broadcast_counts(p_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with r as (
    select r.channel, r.skipped, r.text_language, r.language, o.status, o.delivery_status, o.error_kind, o.error, r.outbox_id
      from public.broadcast_recipients r left join public.outbox o on o.id = r.outbox_id
     where r.broadcast_id = p_id
  )
  select jsonb_build_object(
    'recipients', count(*),
    'queued', count(*) filter (where r.skipped is null),
    'waiting', count(*) filter (where r.status in ('pending', 'sending')),
    'sent', count(*) filter (where r.status = 'sent'),
    'delivered', count(*) filter (where r.status = 'sent' and r.delivery_status in ('delivered', 'read')),
    'read', count(*) filter (where r.status = 'sent' and r.delivery_status = 'read'),
    'failed', count(*) filter (where r.status = 'failed'),
    'held', count(*) filter (where r.status = 'held'),
    'cancelled', count(*) filter (where r.status = 'cancelled'),
    'skipped', jsonb_build_object('paused', count(*) filter (where r.skipped = 'paused'), 'unreachable', count(*) filter (where r.skipped = 'unreachable')),
    'fallback', count(*) filter (where r.status = 'sent' and r.text_language <> r.language),
    'whatsapp_sent', count(*) filter (where r.status = 'sent' and r.channel = 'whatsapp'),
    'reasons', coalesce((select jsonb_object_agg(x.reason, x.n) from (
        select coalesce(r2.error_kind, 'unknown') as reason, count(*) as n from r r2 where r2.status in ('failed', 'held') group by 1) x), '{}'::jsonb))
  from r;
$$;

-- ----------------------------------------------------------------------------
-- broadcasts_finishing: broadcasts being sent with nothing left waiting, with
-- their counts and the creator's contacts (the job tells the creator, then
-- calls broadcast_done)
-- ----------------------------------------------------------------------------
create function public.broadcasts_finishing()
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', b.id, 'ref', b.ref, 'counts', public.broadcast_counts(b.id),
           'contacts', coalesce((select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language))
                                   from public.contacts c where c.staff_id = b.created_by), '[]'::jsonb))
         order by b.ref), '[]'::jsonb)
    from public.broadcasts b
   where b.status = 'sending'
     and not exists (select 1 from public.broadcast_recipients r join public.outbox o on o.id = r.outbox_id
                      where r.broadcast_id = b.id and o.status in ('pending', 'sending'));
$$;

-- ----------------------------------------------------------------------------
-- broadcast_done: marks it done and queues the report to its creator (once)
-- ----------------------------------------------------------------------------
create function public.broadcast_done(p_id uuid, p_messages jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ref bigint;
begin
  update public.broadcasts set status = 'done', finished_at = p_now where id = p_id and status = 'sending' returning ref into v_ref;
  if not found then
    return false;
  end if;
  insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before, created_at, updated_at)
  select 'broadcast-report:' || v_ref || ':' || c.id, c.id, c.channel, 'staff_notice', 3, m -> 'payload', p_now, p_now, p_now
    from jsonb_array_elements(p_messages) m join public.contacts c on c.id = (m ->> 'contact_id')::uuid
  on conflict (idempotency_key) do nothing;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcast_report: one broadcast's counts and texts, for a coordinator (audited)
-- ----------------------------------------------------------------------------
create function public.broadcast_report(p_staff_id uuid, p_ref bigint, p_now timestamptz)
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
-- broadcast_failures: the recipients it did not reach, by family reference,
-- channel and reason (no names, numbers or texts); null when there is no such broadcast
-- ----------------------------------------------------------------------------
create function public.broadcast_failures(p_staff_id uuid, p_ref bigint, p_limit int)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
begin
  if not exists (select 1 from public.broadcasts where ref = p_ref) then
    return null;
  end if;
  return coalesce((
    select jsonb_agg(jsonb_build_object('family_ref', x.family_ref, 'channel', x.channel, 'language', x.language, 'kind', x.kind, 'reason', x.reason)
                     order by x.family_ref)
      from (select r.family_ref, r.channel, r.language,
                   coalesce(r.skipped, o.error_kind, case when o.id is null then 'erased' end) as kind,
                   coalesce(o.error, r.skipped) as reason
              from public.broadcasts b
              join public.broadcast_recipients r on r.broadcast_id = b.id
              left join public.outbox o on o.id = r.outbox_id
             where b.ref = p_ref and (r.skipped is not null or o.status in ('failed', 'held'))
             order by r.family_ref
             limit p_limit) x), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcasts_list: the latest broadcasts with when and how they were made,
-- their audience and their counts
-- ----------------------------------------------------------------------------
create function public.broadcasts_list(p_staff_id uuid, p_limit int)
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

-- ----------------------------------------------------------------------------
-- broadcast_ref_next: the number a broadcast created in the chat will have
-- (B-3), so the reply can name it before the broadcasts.create effect writes it
-- ----------------------------------------------------------------------------
create function public.broadcast_ref_next()
returns bigint
language sql
volatile
set search_path = ''
as $$
  select nextval(pg_get_serial_sequence('public.broadcasts', 'ref'));
$$;

-- ----------------------------------------------------------------------------
-- broadcast_cancel_preview: what broadcast_cancel would answer, without
-- changing anything: {ref, was, status, messages_cancelled}, or null when no
-- broadcast has that B-<ref>. The chat answers with it and cancels through the
-- broadcasts.cancel effect.
-- ----------------------------------------------------------------------------
create function public.broadcast_cancel_preview(p_staff_id uuid, p_ref bigint)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_row public.broadcasts;
  v_cancelled int := 0;
begin
  select * into v_row from public.broadcasts where ref = p_ref;
  if not found then
    return null;
  end if;
  if v_row.status in ('scheduled', 'sending') then
    select count(*) into v_cancelled
      from public.outbox o
     where o.status in ('pending', 'held')
       and o.id in (select r.outbox_id from public.broadcast_recipients r where r.broadcast_id = v_row.id);
  end if;
  return jsonb_build_object('ref', v_row.ref, 'was', v_row.status, 'status', case when v_row.status in ('scheduled', 'sending') then 'cancelled' else v_row.status end,
                            'messages_cancelled', v_cancelled);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcasts_effect_apply: a coordinator's broadcast created or cancelled in
-- the chat, by the active coordinator behind the writing contact. Called by
-- effect_apply for `broadcasts.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.broadcasts_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_verb text := split_part(p_effect ->> 'op', '.', 2);
  v_staff public.staff;
begin
  if v_verb not in ('create', 'cancel') then
    return false;
  end if;
  v_staff := public.staff_require(p_contact_id, array['coordinator']);
  if v_verb = 'create' then
    perform public.broadcast_create(v_staff.id, p_effect ->> 'source', p_effect ->> 'source_key', coalesce(p_effect -> 'audience', '{}'::jsonb),
                                    p_effect -> 'texts', (p_effect ->> 'send_at')::timestamptz, p_now, (p_effect ->> 'ref')::bigint);
  else
    perform public.broadcast_cancel(v_staff.id, (p_effect ->> 'ref')::bigint, p_now);
  end if;
  return true;
end;
$$;
