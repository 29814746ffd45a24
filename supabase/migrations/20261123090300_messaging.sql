-- ============================================================================
-- MESSAGING: the outbox every outgoing message passes through, and the
-- inbound dedupe log
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Outbox
-- ----------------------------------------------------------------------------
create table public.outbox (
  id bigint generated always as identity primary key,
  -- e.g. reply:<inbound>:<n>, reminder:<child>:<item>:<stage>: a second insert is a no-op
  idempotency_key text not null unique,
  contact_id uuid not null references public.contacts (id) on delete cascade,
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
  updated_at timestamptz not null default now()
);
comment on table public.outbox is 'Every message to send, committed with its cause; the dispatcher claims, sends and records each row.';
create index outbox_ready_idx on public.outbox (priority, not_before, id) where status = 'pending';
create index outbox_sending_idx on public.outbox (lease_until) where status = 'sending';
create index outbox_provider_idx on public.outbox (provider_message_id) where provider_message_id is not null;
create index outbox_contact_idx on public.outbox (contact_id);

-- ----------------------------------------------------------------------------
-- Inbound dedupe log
-- ----------------------------------------------------------------------------
create table public.inbound_log (
  channel text not null check (channel in ('telegram', 'whatsapp')),
  -- Telegram update_id (per bot) or Twilio MessageSid
  provider_message_id text not null,
  received_at timestamptz not null,
  primary key (channel, provider_message_id)
);
comment on table public.inbound_log is 'Provider ids of inbound updates already processed, so a redelivery is acknowledged and not handled twice.';
create index inbound_log_received_idx on public.inbound_log (received_at);

-- ----------------------------------------------------------------------------
-- Security
-- ----------------------------------------------------------------------------
alter table public.outbox enable row level security;
alter table public.inbound_log enable row level security;

revoke all on table public.outbox, public.inbound_log from public, anon, authenticated;
grant select, insert, update, delete on table public.outbox, public.inbound_log to service_role;
