-- ============================================================================
-- API KEYS: coordinators' keys for the broadcasts API
-- ============================================================================

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
alter table public.api_keys enable row level security;

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
