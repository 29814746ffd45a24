-- ============================================================================
-- KNOWLEDGE: the knowledge base that answers her questions in her language
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Knowledge base: questions and answers that matter to these families, per language
-- ----------------------------------------------------------------------------
create table public.kb_entries (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9-]{2,60}$'),
  category text not null check (category in ('health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other')),
  -- shown with a "check with the service" line
  unverified boolean not null default false,
  source text,
  active boolean not null default true,
  updated_at timestamptz not null default now()
);
comment on table public.kb_entries is 'One question of the knowledge base, language-independent: its area, source and whether it is verified.';
alter table public.kb_entries enable row level security;

create table public.kb_texts (
  entry_id uuid not null references public.kb_entries (id) on delete cascade,
  language text not null,
  question text not null check (length(question) between 3 and 300),
  phrasings text[] not null default '{}',
  keywords text not null default '',
  answer text not null check (length(answer) between 10 and 1500),
  updated_at timestamptz not null default now(),
  primary key (entry_id, language)
);
comment on table public.kb_texts is 'A knowledge-base entry in one language: the question, other ways to ask it, keywords and the answer.';
alter table public.kb_texts enable row level security;

create table public.kb_answers (
  id uuid primary key,
  entry_id uuid references public.kb_entries (id) on delete set null,
  language text not null,
  helped boolean,
  answered_at timestamptz not null
);
comment on table public.kb_answers is 'Each answer the knowledge base gave and whether she said it helped; no link to who asked.';
alter table public.kb_answers enable row level security;

-- ----------------------------------------------------------------------------
-- Knowledge base: the entries in a language, their version, and edits
-- ----------------------------------------------------------------------------
create function public.kb_list(p_language text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', e.id, 'slug', e.slug, 'category', e.category, 'unverified', e.unverified,
                                               'question', t.question, 'phrasings', t.phrasings, 'keywords', t.keywords, 'answer', t.answer)
                            order by e.slug), '[]'::jsonb)
    from public.kb_entries e join public.kb_texts t on t.entry_id = e.id and t.language = p_language
   where e.active;
$$;

-- changes whenever an entry or a text changes: the bot's search index is rebuilt then
create function public.kb_version()
returns text
language sql
stable
set search_path = ''
as $$
  select concat_ws(':', (select count(*) from public.kb_texts), (select max(updated_at) from public.kb_texts),
                   (select count(*) from public.kb_entries where active), (select max(updated_at) from public.kb_entries));
$$;

-- p_rows: [{slug, category, language, question, answer, phrasings?, keywords?, unverified?, source?, active?}]
create function public.kb_upsert(p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_row jsonb;
  v_entry uuid;
  v_inserted boolean;
  v_created int := 0;
  v_updated int := 0;
begin
  for v_row in select * from jsonb_array_elements(p_rows) loop
    insert into public.kb_entries (slug, category, unverified, source, active, updated_at)
    values (v_row ->> 'slug', v_row ->> 'category', coalesce((v_row ->> 'unverified')::boolean, false), v_row ->> 'source',
            coalesce((v_row ->> 'active')::boolean, true), p_now)
    on conflict (slug) do update
       set category = excluded.category, unverified = excluded.unverified, source = coalesce(excluded.source, public.kb_entries.source),
           active = excluded.active, updated_at = p_now
    returning id into v_entry;
    insert into public.kb_texts (entry_id, language, question, phrasings, keywords, answer, updated_at)
    values (v_entry, v_row ->> 'language', v_row ->> 'question',
            coalesce((select array_agg(x) from jsonb_array_elements_text(v_row -> 'phrasings') x), '{}'),
            coalesce(v_row ->> 'keywords', ''), v_row ->> 'answer', p_now)
    on conflict (entry_id, language) do update
       set question = excluded.question, phrasings = excluded.phrasings, keywords = excluded.keywords, answer = excluded.answer, updated_at = p_now
    returning (xmax = 0) into v_inserted;
    if v_inserted then v_created := v_created + 1; else v_updated := v_updated + 1; end if;
  end loop;
  return jsonb_build_object('created', v_created, 'updated', v_updated);
end;
$$;

-- ----------------------------------------------------------------------------
-- knowledge_effect_apply: an answer the knowledge base gave her, and whether
-- it helped. Called by effect_apply for `knowledge.<verb>`; false on a verb it
-- does not know.
-- ----------------------------------------------------------------------------
create function public.knowledge_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  case split_part(p_effect ->> 'op', '.', 2)
  when 'answered' then
    insert into public.kb_answers (id, entry_id, language, answered_at)
    values ((p_effect ->> 'answer_id')::uuid, (select id from public.kb_entries where id = (p_effect ->> 'entry_id')::uuid), p_effect ->> 'language', p_now)
    on conflict (id) do nothing;

  when 'feedback' then
    update public.kb_answers set helped = (p_effect ->> 'helped')::boolean where id = (p_effect ->> 'answer_id')::uuid;

  else
    return false;
  end case;
  return true;
end;
$$;
