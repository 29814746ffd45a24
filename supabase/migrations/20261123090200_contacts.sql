-- ============================================================================
-- CONTACTS: a person reachable on one channel, with language, consent and state
-- ============================================================================

create table public.contacts (
  id uuid primary key default gen_random_uuid(),
  channel text not null check (channel in ('telegram', 'whatsapp')),
  -- Telegram: the private chat id; WhatsApp: the number in E.164 (+39…)
  provider_id text not null check (length(provider_id) between 1 and 64),
  language text not null default 'it'
    check (language in ('it', 'ar', 'tl', 'zh', 'es', 'si', 'ro', 'uk', 'sq', 'bn', 'en', 'fr', 'ur')),
  language_confirmed boolean not null default false,
  consent text not null default 'pending' check (consent in ('pending', 'given', 'declined')),
  consent_source text check (consent_source in ('chat', 'paper')),
  consent_at timestamptz,
  status text not null default 'active' check (status in ('active', 'paused', 'unreachable')),
  unreachable_reason text,
  -- the conversation's current flow and step, so any process can take the next message
  conversation jsonb not null default '{}'::jsonb,
  -- opens WhatsApp's 24-hour window
  last_inbound_at timestamptz,
  family_id uuid references public.families (id) on delete set null,
  staff_id uuid references public.staff (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint contacts_channel_provider_key unique (channel, provider_id),
  constraint contacts_family_or_staff check (family_id is null or staff_id is null)
);
comment on table public.contacts is 'A person reachable on one channel: channel id, language, consent, status and conversation state.';
create index contacts_family_idx on public.contacts (family_id);
create index contacts_staff_idx on public.contacts (staff_id);

alter table public.contacts enable row level security;
revoke all on table public.contacts from public, anon, authenticated;
grant select, insert, update, delete on table public.contacts to service_role;
