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
  updated_at timestamptz not null default now()
);
comment on table public.outbox is 'Every message to send, committed with its cause; the dispatcher claims, sends and records each row.';
create index outbox_ready_idx on public.outbox (channel, priority, not_before, id) where status = 'pending';
create index outbox_sending_idx on public.outbox (channel, lease_until) where status = 'sending';
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
  -- set in the transaction that stores the replies: a crash before it lets the redelivery be handled
  handled_at timestamptz,
  primary key (channel, provider_message_id)
);
comment on table public.inbound_log is 'Provider ids of inbound updates already processed, so a redelivery is acknowledged and not handled twice.';

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
create index inbound_log_received_idx on public.inbound_log (received_at);

-- ----------------------------------------------------------------------------
-- Security
-- ----------------------------------------------------------------------------
alter table public.outbox enable row level security;
alter table public.inbound_log enable row level security;
alter table public.media_refs enable row level security;
alter table public.message_templates enable row level security;

revoke all on table public.outbox, public.inbound_log, public.media_refs, public.message_templates from public, anon, authenticated;
grant select, insert, update, delete on table public.outbox, public.inbound_log, public.media_refs, public.message_templates to service_role;
