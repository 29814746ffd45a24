-- ============================================================================
-- DESK: the coordinators' web desk. A one-time link asked for in the chat
-- opens an 8-hour session; only hashes of the link's and the session's secrets
-- are stored. Every desk action is audited like a chat command.
-- ============================================================================

create table public.desk_links (
  id uuid primary key default gen_random_uuid(),
  token_hash text not null unique,
  staff_id uuid not null references public.staff (id) on delete cascade,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  used_at timestamptz
);
comment on table public.desk_links is 'One-time sign-in links to the desk (SHA-256 of the secret only): 10 minutes, single use, for a coordinator.';
create index desk_links_staff_idx on public.desk_links (staff_id, created_at);
alter table public.desk_links enable row level security;

create table public.desk_sessions (
  id uuid primary key default gen_random_uuid(),
  token_hash text not null unique,
  staff_id uuid not null references public.staff (id) on delete cascade,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  ended_at timestamptz
);
comment on table public.desk_sessions is 'Desk sessions opened by a link (SHA-256 of the cookie''s secret only): 8 hours, ended by signing out or by the coordinator leaving.';
create index desk_sessions_staff_idx on public.desk_sessions (staff_id);
alter table public.desk_sessions enable row level security;

-- ----------------------------------------------------------------------------
-- staff_desk_links_recent: how many desk links a coordinator asked for in the
-- last hour (the chat refuses more than it allows)
-- ----------------------------------------------------------------------------
create function public.staff_desk_links_recent(p_contact_id uuid, p_now timestamptz)
returns int
language sql
stable
set search_path = ''
as $$
  select count(*)::int from public.desk_links l join public.contacts c on c.staff_id = l.staff_id
   where c.id = p_contact_id and l.created_at > p_now - interval '1 hour';
$$;

-- ----------------------------------------------------------------------------
-- desk_effect_apply: `desk.link` stores a new link's hash for the coordinator
-- behind the chat (her older unused links stop working). Called by
-- effect_apply; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.desk_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff;
begin
  case split_part(p_effect ->> 'op', '.', 2)
  when 'link' then
    v_staff := public.staff_require(p_contact_id, array['coordinator']);
    update public.desk_links set expires_at = least(expires_at, p_now) where staff_id = v_staff.id and used_at is null and expires_at > p_now;
    insert into public.desk_links (token_hash, staff_id, created_at, expires_at)
    values (p_effect ->> 'token_hash', v_staff.id, p_now, p_now + interval '10 minutes');
    insert into public.audit_log (at, staff_id, action) values (p_now, v_staff.id, 'desk.link');
  else
    return false;
  end case;
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_link_peek: what a link is (ok, used, expired, unknown) without using it:
-- chat apps fetch a link's page for its preview
-- ----------------------------------------------------------------------------
create function public.desk_link_peek(p_token_hash text, p_now timestamptz)
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce((
    select case when l.used_at is not null then 'used'
                when l.expires_at <= p_now or not s.active or s.role <> 'coordinator' then 'expired'
                else 'ok' end
      from public.desk_links l join public.staff s on s.id = l.staff_id
     where l.token_hash = p_token_hash), 'unknown');
$$;

-- ----------------------------------------------------------------------------
-- desk_link_open: uses a link once and opens a session with the given hash;
-- {status: ok} or {status: used|expired|unknown}, nothing changed
-- ----------------------------------------------------------------------------
create function public.desk_link_open(p_token_hash text, p_session_hash text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_link public.desk_links;
  v_status text;
begin
  update public.desk_links l set used_at = p_now
   where l.token_hash = p_token_hash and l.used_at is null and l.expires_at > p_now
     and exists (select 1 from public.staff s where s.id = l.staff_id and s.active and s.role = 'coordinator')
  returning l.* into v_link;
  if not found then
    v_status := public.desk_link_peek(p_token_hash, p_now);
    return jsonb_build_object('status', case when v_status = 'ok' then 'used' else v_status end);
  end if;
  insert into public.desk_sessions (token_hash, staff_id, created_at, expires_at)
  values (p_session_hash, v_link.staff_id, p_now, p_now + interval '8 hours');
  insert into public.audit_log (at, staff_id, action) values (p_now, v_link.staff_id, 'desk.signin');
  return jsonb_build_object('status', 'ok');
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_session_staff: the coordinator behind a session, or null when it has
-- ended, expired, or she is no longer an active coordinator
-- ----------------------------------------------------------------------------
create function public.desk_session_staff(p_session_hash text, p_now timestamptz)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name, 'role', s.role,
           'language', (select c.language from public.contacts c where c.staff_id = s.id order by c.last_inbound_at desc nulls last limit 1),
           'expires_at', d.expires_at)
    from public.desk_sessions d join public.staff s on s.id = d.staff_id
   where d.token_hash = p_session_hash and d.ended_at is null and d.expires_at > p_now
     and s.active and s.role = 'coordinator';
$$;

-- ----------------------------------------------------------------------------
-- desk_session_end: signing out ends the session (audited)
-- ----------------------------------------------------------------------------
create function public.desk_session_end(p_session_hash text, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff uuid;
begin
  update public.desk_sessions set ended_at = p_now where token_hash = p_session_hash and ended_at is null returning staff_id into v_staff;
  if not found then
    return false;
  end if;
  insert into public.audit_log (at, staff_id, action) values (p_now, v_staff, 'desk.signout');
  return true;
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_overview: the programme's figures for a period and the broadcasts
-- released in it with where their messages stand; audited as what the
-- coordinator looked at (the page, or one chart's CSV)
-- ----------------------------------------------------------------------------
create function public.desk_overview(p_staff_id uuid, p_from date, p_to date, p_chart text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  if not exists (select 1 from public.staff s where s.id = p_staff_id and s.active and s.role = 'coordinator') then
    raise exception 'staff action not allowed' using errcode = '42501';
  end if;
  insert into public.audit_log (at, staff_id, action, details)
  values (p_now, p_staff_id, case when p_chart is null then 'desk.overview' else 'desk.csv' end,
          jsonb_strip_nulls(jsonb_build_object('from', p_from, 'to', p_to, 'chart', p_chart)));
  return jsonb_build_object(
    'report', public.programme_report(p_from, p_to, p_now),
    'broadcasts', coalesce((
      select jsonb_agg(jsonb_build_object('ref', b.ref, 'released_at', b.released_at, 'status', b.status, 'counts', public.broadcast_counts(b.id))
                       order by b.released_at desc)
        from (select * from public.broadcasts b
               where b.released_at >= (p_from::timestamp at time zone 'Europe/Rome')
                 and b.released_at < ((p_to + 1)::timestamp at time zone 'Europe/Rome')
               order by b.released_at desc limit 50) b), '[]'::jsonb));
end;
$$;
