-- ============================================================================
-- CONTACTS: a person on one channel, and what the conversation core knows
-- about her
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
  -- relink: consent moved over from her previous account when her tutor relinks a new one
  consent_source text check (consent_source in ('chat', 'paper', 'relink')),
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

-- ----------------------------------------------------------------------------
-- notice_recipients: the contacts that hear about a family: her current tutor,
-- and the active coordinators
-- ----------------------------------------------------------------------------
create function public.notice_recipients(p_family_id uuid)
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
-- family_card: what a tutor needs to recognise a family (no phone numbers)
-- ----------------------------------------------------------------------------
create function public.family_card(p_family_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', f.id, 'ref', f.ref, 'district', d.name,
    'tutor', (select jsonb_build_object('id', s.id, 'ref', s.ref, 'name', s.full_name)
                from public.family_assignments a join public.staff s on s.id = a.tutor_id
               where a.family_id = f.id and a.ended_at is null),
    'children', coalesce((
      select jsonb_agg(jsonb_build_object('name', ch.name, 'birth_date', ch.birth_date, 'due_date', ch.due_date)
                       order by coalesce(ch.birth_date, ch.due_date))
        from public.children ch where ch.family_id = f.id), '[]'::jsonb),
    'contacts', coalesce((
      select jsonb_agg(jsonb_build_object('contact_id', c.id, 'language', c.language, 'channel', c.channel) order by c.created_at)
        from public.contacts c where c.family_id = f.id), '[]'::jsonb))
  from public.families f left join public.districts d on d.code = f.district_code
  where f.id = p_family_id;
$$;

-- ----------------------------------------------------------------------------
-- contacts_export: for her data export, her contact as the bot knows it
-- ----------------------------------------------------------------------------
create function public.contacts_export(p_contact_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('contact', jsonb_build_object(
    'channel', c.channel, 'id', c.provider_id, 'language', c.language, 'consent', c.consent,
    'consent_source', c.consent_source, 'consent_at', c.consent_at, 'status', c.status,
    'created_at', c.created_at, 'last_message_at', c.last_inbound_at))
    from public.contacts c where c.id = p_contact_id;
$$;

-- ----------------------------------------------------------------------------
-- contacts_erase: her erasure: the contact keeps only channel id and language
-- until the farewell is sent, then outbox_record deletes it
-- ----------------------------------------------------------------------------
create function public.contacts_erase(p_contact_id uuid, p_now timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  update public.contacts
     set consent = 'declined', consent_source = null, consent_at = null, family_id = null, status = 'active',
         language_confirmed = false, unreachable_reason = null, updated_at = p_now
   where id = p_contact_id;
$$;
