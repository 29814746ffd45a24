-- ============================================================================
-- BROADCASTS: coordinators' notices to chosen families in their languages,
-- each recipient's fate, coordinator API keys, tutor deactivation and the
-- programme's monitoring figures
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Broadcasts: one notice, its audience, its texts and when it leaves
-- ----------------------------------------------------------------------------
create table public.broadcasts (
  id uuid primary key default gen_random_uuid(),
  ref bigint generated always as identity unique,
  created_by uuid references public.staff (id) on delete set null,
  source text not null check (source in ('chat', 'api')),
  -- the inbound message or the API's Idempotency-Key: a redelivery creates nothing new
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

-- ----------------------------------------------------------------------------
-- API keys: coordinators' keys for POST /api/broadcasts (only the hash is kept)
-- ----------------------------------------------------------------------------
create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  staff_id uuid not null references public.staff (id) on delete cascade,
  -- sha256 of the key, hex; the key itself is shown once and never stored
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
comment on table public.api_keys is 'Coordinators'' API keys, stored as SHA-256 hashes; revoked or belonging to an inactive coordinator = refused.';

alter table public.broadcasts enable row level security;
alter table public.broadcast_recipients enable row level security;
alter table public.api_keys enable row level security;
revoke all on table public.broadcasts, public.broadcast_recipients, public.api_keys from public, anon, authenticated;
grant select, insert, update, delete on table public.broadcasts, public.broadcast_recipients, public.api_keys to service_role;

-- ----------------------------------------------------------------------------
-- coordinator_require: an active coordinator by staff id, else insufficient_privilege
-- ----------------------------------------------------------------------------
create function public.coordinator_require(p_staff_id uuid)
returns public.staff
language plpgsql
stable
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  select * into v_staff from public.staff where id = p_staff_id and active and role = 'coordinator';
  if not found then
    raise exception 'only an active coordinator may do this' using errcode = '42501';
  end if;
  return v_staff;
end;
$$;

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
-- broadcast_create: a scheduled broadcast (once per source key; audited)
-- ----------------------------------------------------------------------------
create function public.broadcast_create(
  p_staff_id uuid,
  p_source text,
  p_source_key text,
  p_audience jsonb,
  p_texts jsonb,
  p_send_at timestamptz,
  p_now timestamptz
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
  insert into public.broadcasts (created_by, source, source_key, audience, texts, send_at, created_at)
  values (v_staff.id, p_source, p_source_key, p_audience, p_texts, greatest(p_send_at, p_now), p_now)
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
  v_row public.broadcasts;
  v_cancelled int := 0;
begin
  select * into v_row from public.broadcasts where ref = p_ref for update;
  if not found then
    return null;
  end if;
  if v_row.status in ('scheduled', 'sending') then
    update public.outbox o set status = 'cancelled', updated_at = p_now
      from public.broadcast_recipients r
     where r.broadcast_id = v_row.id and o.id = r.outbox_id and o.status in ('pending', 'held');
    get diagnostics v_cancelled = row_count;
    update public.broadcasts set status = 'cancelled', cancelled_at = p_now, cancelled_by = v_staff.id where id = v_row.id;
    insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
    values (p_now, v_staff.id, 'broadcast.cancelled', 'broadcast', v_row.id, jsonb_build_object('was', v_row.status, 'messages_cancelled', v_cancelled));
  end if;
  return jsonb_build_object('ref', v_row.ref, 'was', v_row.status, 'status', case when v_row.status in ('scheduled', 'sending') then 'cancelled' else v_row.status end,
                            'messages_cancelled', v_cancelled);
end;
$$;

-- ----------------------------------------------------------------------------
-- broadcasts_due: scheduled broadcasts whose time has come
-- ----------------------------------------------------------------------------
create function public.broadcasts_due(p_now timestamptz)
returns table (id uuid, ref bigint, texts jsonb, audience jsonb)
language sql
stable
set search_path = ''
as $$
  select b.id, b.ref, b.texts, b.audience from public.broadcasts b
   where b.status = 'scheduled' and b.send_at <= p_now
   order by b.send_at, b.ref;
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
-- broadcast_counts: where each recipient's message stands (no one's identity)
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
    'fallback', count(*) filter (where r.skipped is null and r.text_language <> r.language),
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
-- broadcast_report: one broadcast's counts, for a coordinator (audited)
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
                            'text_it', v_row.texts ->> 'it', 'counts', public.broadcast_counts(v_row.id));
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
-- broadcasts_list: the latest broadcasts with their counts
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
                                        'counts', public.broadcast_counts(b.id)) order by b.ref desc)
      from (select * from public.broadcasts order by ref desc limit p_limit) b), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- outbox_expire_bulk: a broadcast message whose sender died mid-send is not
-- sent again (it may have arrived): it fails with that reason, so the report
-- lists it and no one gets the notice twice
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
   where channel = p_channel and status = 'sending' and lease_until < p_now and kind = 'broadcast';
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;

-- ----------------------------------------------------------------------------
-- API keys
-- ----------------------------------------------------------------------------
create function public.api_key_create(p_staff_ref bigint, p_key_hash text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  select * into v_staff from public.staff where ref = p_staff_ref and active and role = 'coordinator';
  if not found then
    raise exception 'no active coordinator T-%', p_staff_ref using errcode = 'P0002';
  end if;
  insert into public.api_keys (staff_id, key_hash, created_at) values (v_staff.id, p_key_hash, p_now);
  insert into public.audit_log (at, staff_id, action, target_kind, target_id) values (p_now, v_staff.id, 'api_key.created', 'staff', v_staff.id);
  return jsonb_build_object('staff_ref', v_staff.ref, 'name', v_staff.full_name);
end;
$$;

create function public.api_key_revoke(p_staff_ref bigint, p_now timestamptz)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_n int;
begin
  update public.api_keys k set revoked_at = p_now
    from public.staff s where s.id = k.staff_id and s.ref = p_staff_ref and k.revoked_at is null;
  get diagnostics v_n = row_count;
  insert into public.audit_log (at, action, details) values (p_now, 'api_key.revoked', jsonb_build_object('staff_ref', p_staff_ref, 'keys', v_n));
  return v_n;
end;
$$;

-- the coordinator a key belongs to, or null (unknown, revoked, or no longer an active coordinator)
create function public.api_key_staff(p_key_hash text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  select s.* into v_staff
    from public.api_keys k join public.staff s on s.id = k.staff_id
   where k.key_hash = p_key_hash and k.revoked_at is null and s.active and s.role = 'coordinator';
  if not found then
    return null;
  end if;
  update public.api_keys set last_used_at = p_now where key_hash = p_key_hash and (last_used_at is null or last_used_at < p_now - interval '1 minute');
  return jsonb_build_object('id', v_staff.id, 'ref', v_staff.ref, 'role', v_staff.role);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_tutors (v2): also each tutor's open needs
-- ----------------------------------------------------------------------------
create or replace function public.staff_tutors(p_contact_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  insert into public.audit_log (at, staff_id, action) values (p_now, v_staff.id, 'tutors.listed');
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role,
             'families', (select count(*) from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null),
             'open_needs', (select count(*) from public.needs n
                             where n.status in ('open', 'in_charge') and (n.taken_by = s.id or (n.taken_by is null and (n.assignee_id = s.id or (n.assignee_id is null
                               and exists (select 1 from public.family_assignments a where a.family_id = n.family_id and a.tutor_id = s.id and a.ended_at is null)))))))
           order by s.ref)
      from public.staff s where s.active and (s.role = 'tutor' or exists (
        select 1 from public.family_assignments a where a.tutor_id = s.id and a.ended_at is null))), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- staff_deactivate: a tutor leaves; her families go to the queue and her open
-- needs back to it, so nothing waits on someone who is gone
-- ----------------------------------------------------------------------------
create function public.staff_deactivate(p_contact_id uuid, p_staff_ref bigint, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
  v_target public.staff;
  v_families int;
  v_needs int;
begin
  select * into v_target from public.staff where ref = p_staff_ref for update;
  if not found then
    return null;
  end if;
  if v_target.id = v_staff.id then
    raise exception 'a coordinator cannot deactivate themself' using errcode = '22023';
  end if;
  if not v_target.active then
    return jsonb_build_object('ref', v_target.ref, 'name', v_target.full_name, 'already', true, 'families', 0, 'needs', 0);
  end if;
  update public.staff set active = false where id = v_target.id;
  update public.family_assignments set ended_at = greatest(p_now, assigned_at) where tutor_id = v_target.id and ended_at is null;
  get diagnostics v_families = row_count;
  update public.needs
     set assignee_id = null, assigned_at = null, taken_by = null, taken_at = null, status = 'open', reminded_at = null, updated_at = p_now
   where status in ('open', 'in_charge') and (taken_by = v_target.id or assignee_id = v_target.id);
  get diagnostics v_needs = row_count;
  update public.api_keys set revoked_at = p_now where staff_id = v_target.id and revoked_at is null;
  update public.contacts set conversation = '{}'::jsonb, updated_at = p_now where staff_id = v_target.id;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'staff.deactivated', 'staff', v_target.id, jsonb_build_object('families', v_families, 'needs', v_needs));
  return jsonb_build_object('ref', v_target.ref, 'name', v_target.full_name, 'already', false, 'families', v_families, 'needs', v_needs);
end;
$$;

-- ============================================================================
-- MONITORING: the programme's figures for a period; counts only, no person
-- ============================================================================
create function public.programme_report(p_from date, p_to date, p_now timestamptz)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_from timestamptz := (p_from::timestamp at time zone 'Europe/Rome');
  v_to timestamptz := ((p_to + 1)::timestamp at time zone 'Europe/Rome');
  v_result jsonb;
begin
  with fam as (
    select f.id, f.created_at, coalesce(f.district_code, '-') as district,
           coalesce((select c.language from public.contacts c where c.family_id = f.id order by c.created_at limit 1), '-') as language,
           coalesce((select 'T-' || s.ref from public.family_assignments a join public.staff s on s.id = a.tutor_id
                      where a.family_id = f.id and a.ended_at is null), 'queue') as tutor
      from public.families f where f.status = 'active' and f.created_at < v_to
  ),
  kids as (
    select ch.id, ch.created_at, fam.district, fam.language, fam.tutor
      from public.children ch join fam on fam.id = ch.family_id
     where ch.created_at < v_to and (ch.birth_date is null or ch.birth_date > p_to - interval '72 months')
  ),
  need as (
    select n.category, n.urgency, n.kind, n.created_at, n.taken_at, n.resolved_at,
           extract(epoch from (n.taken_at - n.created_at)) / 3600.0 as take_h,
           extract(epoch from (n.resolved_at - n.created_at)) / 3600.0 as resolve_h
      from public.needs n where n.created_at >= v_from and n.created_at < v_to
  ),
  weeks as (
    select generate_series(date_trunc('week', p_from::timestamp), date_trunc('week', p_to::timestamp), interval '1 week')::date as week
  )
  select jsonb_build_object(
    'period', jsonb_build_object('from', p_from, 'to', p_to),
    'families', jsonb_build_object(
      'total', (select count(*) from fam),
      'new', (select count(*) from fam where fam.created_at >= v_from),
      'by_language', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.language as k, count(*) as n from fam group by 1) x),
      'by_district', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.district as k, count(*) as n from fam group by 1) x),
      'by_tutor', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select fam.tutor as k, count(*) as n from fam group by 1) x)),
    'children', jsonb_build_object(
      'total', (select count(*) from kids),
      'new', (select count(*) from kids where kids.created_at >= v_from),
      'by_language', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.language as k, count(*) as n from kids group by 1) x),
      'by_district', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.district as k, count(*) as n from kids group by 1) x),
      'by_tutor', (select coalesce(jsonb_object_agg(x.k, x.n), '{}'::jsonb) from (select kids.tutor as k, count(*) as n from kids group by 1) x)),
    'reminders', jsonb_build_object(
      'sent', (select count(*) from public.outbox o where o.kind = 'reminder' and o.status = 'sent' and o.sent_at >= v_from and o.sent_at < v_to),
      'done', (select count(*) from public.child_plan p where p.status = 'done' and p.done_on between p_from and p_to),
      'mandatory_overdue', (select count(*) from public.child_plan p join public.care_items i on i.code = p.item_code
                              join public.children ch on ch.id = p.child_id join public.families f on f.id = ch.family_id
                             where f.status = 'active' and i.mandatory and p.status in ('planned', 'not_yet', 'overdue') and p.window_end < p_to),
      'children_mandatory_overdue', (select count(distinct p.child_id) from public.child_plan p join public.care_items i on i.code = p.item_code
                              join public.children ch on ch.id = p.child_id join public.families f on f.id = ch.family_id
                             where f.status = 'active' and i.mandatory and p.status in ('planned', 'not_yet', 'overdue') and p.window_end < p_to),
      'weekly', (select coalesce(jsonb_agg(jsonb_build_object('week', w.week,
                   'sent', (select count(*) from public.outbox o where o.kind = 'reminder' and o.status = 'sent'
                             and o.sent_at >= greatest(v_from, w.week::timestamp at time zone 'Europe/Rome')
                             and o.sent_at < least(v_to, (w.week + 7)::timestamp at time zone 'Europe/Rome')),
                   'done', (select count(*) from public.child_plan p where p.status = 'done'
                             and p.done_on >= greatest(p_from, w.week) and p.done_on <= least(p_to, w.week + 6))) order by w.week), '[]'::jsonb) from weeks w)),
    'needs', jsonb_build_object(
      'total', (select count(*) from need where need.kind = 'need'),
      'by_area', (select coalesce(jsonb_object_agg(x.category, x.v), '{}'::jsonb) from (
                   select need.category, jsonb_build_object('total', count(*), 'urgent', count(*) filter (where need.urgency = 'urgent'),
                            'taken', count(need.taken_at), 'resolved', count(need.resolved_at),
                            'median_take_hours', round((percentile_cont(0.5) within group (order by need.take_h))::numeric, 1),
                            'median_resolve_hours', round((percentile_cont(0.5) within group (order by need.resolve_h))::numeric, 1)) as v
                     from need where need.kind = 'need' group by need.category) x),
      'by_urgency', (select coalesce(jsonb_object_agg(x.urgency, x.v), '{}'::jsonb) from (
                   select need.urgency, jsonb_build_object('total', count(*), 'taken', count(need.taken_at), 'resolved', count(need.resolved_at),
                            'median_take_hours', round((percentile_cont(0.5) within group (order by need.take_h))::numeric, 1),
                            'median_resolve_hours', round((percentile_cont(0.5) within group (order by need.resolve_h))::numeric, 1)) as v
                     from need where need.kind = 'need' group by need.urgency) x),
      'weekly', (select coalesce(jsonb_agg(jsonb_build_object('week', w.week, 'areas', (
                   select coalesce(jsonb_object_agg(x.category, x.n), '{}'::jsonb) from (
                     select need.category, count(*) as n from need
                      where need.kind = 'need' and need.created_at >= w.week::timestamp at time zone 'Europe/Rome'
                        and need.created_at < (w.week + 7)::timestamp at time zone 'Europe/Rome' group by 1) x)) order by w.week), '[]'::jsonb) from weeks w)),
    'questions', jsonb_build_object(
      'answered', (select count(*) from public.kb_answers k where k.answered_at >= v_from and k.answered_at < v_to),
      'helped', (select count(*) from public.kb_answers k where k.answered_at >= v_from and k.answered_at < v_to and k.helped),
      'forwarded', (select count(*) from need where need.kind = 'question')),
    'calls', jsonb_build_object(
      'following', (select count(*) from public.call_follows cf join public.families f on f.id = cf.family_id where f.status = 'active' and cf.following),
      'applied', (select count(*) from public.call_follows cf where cf.applied_at >= v_from and cf.applied_at < v_to),
      'by_kind', (select coalesce(jsonb_object_agg(x.kind, x.v), '{}'::jsonb) from (
                   select c.kind, jsonb_build_object('following', count(*) filter (where cf.following),
                            'applied', count(*) filter (where cf.applied_at >= v_from and cf.applied_at < v_to)) as v
                     from public.call_follows cf join public.calls c on c.id = cf.call_id group by c.kind) x)),
    'broadcasts', (
      select jsonb_build_object('total', count(*),
               'recipients', coalesce(sum((x.c ->> 'recipients')::int), 0), 'sent', coalesce(sum((x.c ->> 'sent')::int), 0),
               'delivered', coalesce(sum((x.c ->> 'delivered')::int), 0), 'read', coalesce(sum((x.c ->> 'read')::int), 0),
               'failed', coalesce(sum((x.c ->> 'failed')::int), 0),
               'skipped', coalesce(sum((x.c -> 'skipped' ->> 'paused')::int + (x.c -> 'skipped' ->> 'unreachable')::int), 0))
        from (select public.broadcast_counts(b.id) as c from public.broadcasts b
               where b.status in ('sending', 'done') and b.released_at >= v_from and b.released_at < v_to) x)
  ) into v_result;
  return v_result;
end;
$$;

-- the same figures for a coordinator in chat (audited)
create function public.staff_programme_report(p_contact_id uuid, p_from date, p_to date, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.staff_require(p_contact_id, array['coordinator']);
begin
  insert into public.audit_log (at, staff_id, action, details) values (p_now, v_staff.id, 'report.read', jsonb_build_object('from', p_from, 'to', p_to));
  return public.programme_report(p_from, p_to, p_now);
end;
$$;

-- ----------------------------------------------------------------------------
-- Grants
-- ----------------------------------------------------------------------------
revoke execute on function public.coordinator_require(uuid) from public, anon, authenticated;
revoke execute on function public.broadcast_audience(jsonb, date) from public, anon, authenticated;
revoke execute on function public.broadcast_preview(uuid, jsonb, date) from public, anon, authenticated;
revoke execute on function public.broadcast_create(uuid, text, text, jsonb, jsonb, timestamptz, timestamptz) from public, anon, authenticated;
revoke execute on function public.broadcast_cancel(uuid, bigint, timestamptz) from public, anon, authenticated;
revoke execute on function public.broadcasts_due(timestamptz) from public, anon, authenticated;
revoke execute on function public.broadcast_release(uuid, jsonb, date, timestamptz) from public, anon, authenticated;
revoke execute on function public.broadcast_counts(uuid) from public, anon, authenticated;
revoke execute on function public.broadcasts_finishing() from public, anon, authenticated;
revoke execute on function public.broadcast_done(uuid, jsonb, timestamptz) from public, anon, authenticated;
revoke execute on function public.broadcast_report(uuid, bigint, timestamptz) from public, anon, authenticated;
revoke execute on function public.broadcast_failures(uuid, bigint, int) from public, anon, authenticated;
revoke execute on function public.broadcasts_list(uuid, int) from public, anon, authenticated;
revoke execute on function public.outbox_expire_bulk(text, timestamptz) from public, anon, authenticated;
revoke execute on function public.api_key_create(bigint, text, timestamptz) from public, anon, authenticated;
revoke execute on function public.api_key_revoke(bigint, timestamptz) from public, anon, authenticated;
revoke execute on function public.api_key_staff(text, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_deactivate(uuid, bigint, timestamptz) from public, anon, authenticated;
revoke execute on function public.programme_report(date, date, timestamptz) from public, anon, authenticated;
revoke execute on function public.staff_programme_report(uuid, date, date, timestamptz) from public, anon, authenticated;
grant execute on function public.coordinator_require(uuid) to service_role;
grant execute on function public.broadcast_audience(jsonb, date) to service_role;
grant execute on function public.broadcast_preview(uuid, jsonb, date) to service_role;
grant execute on function public.broadcast_create(uuid, text, text, jsonb, jsonb, timestamptz, timestamptz) to service_role;
grant execute on function public.broadcast_cancel(uuid, bigint, timestamptz) to service_role;
grant execute on function public.broadcasts_due(timestamptz) to service_role;
grant execute on function public.broadcast_release(uuid, jsonb, date, timestamptz) to service_role;
grant execute on function public.broadcast_counts(uuid) to service_role;
grant execute on function public.broadcasts_finishing() to service_role;
grant execute on function public.broadcast_done(uuid, jsonb, timestamptz) to service_role;
grant execute on function public.broadcast_report(uuid, bigint, timestamptz) to service_role;
grant execute on function public.broadcast_failures(uuid, bigint, int) to service_role;
grant execute on function public.broadcasts_list(uuid, int) to service_role;
grant execute on function public.outbox_expire_bulk(text, timestamptz) to service_role;
grant execute on function public.api_key_create(bigint, text, timestamptz) to service_role;
grant execute on function public.api_key_revoke(bigint, timestamptz) to service_role;
grant execute on function public.api_key_staff(text, timestamptz) to service_role;
grant execute on function public.staff_deactivate(uuid, bigint, timestamptz) to service_role;
grant execute on function public.programme_report(date, date, timestamptz) to service_role;
grant execute on function public.staff_programme_report(uuid, date, date, timestamptz) to service_role;
