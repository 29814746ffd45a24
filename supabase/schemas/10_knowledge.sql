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

-- changes whenever an entry or a text changes: the bot's search index is rebuilt then. Each row's own time is
-- summed in, not only the latest: an edit stamped earlier than the newest row (the seed's now(), a clock behind
-- the database's) changes it too.
create function public.kb_version()
returns text
language sql
stable
set search_path = ''
as $$
  select concat_ws(':', (select count(*) from public.kb_texts), (select max(updated_at) from public.kb_texts),
                   (select sum(hashtext(t.entry_id::text || t.language || t.updated_at::text)::bigint) from public.kb_texts t),
                   (select count(*) from public.kb_entries where active), (select max(updated_at) from public.kb_entries),
                   (select sum(hashtext(e.id::text || e.active::text || e.updated_at::text)::bigint) from public.kb_entries e));
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
-- desk_kb_list: the entries on the desk (coordinators only; calls_coordinator
-- is the desk's coordinator check), found by code or by words of the Italian
-- question, phrasings or answer; each with its area, whether it is verified,
-- the languages it has and when it was last changed. p_query '' = all.
-- ----------------------------------------------------------------------------
create function public.desk_kb_list(p_staff_id uuid, p_query text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_words text[] := array(select w from regexp_split_to_table(lower(trim(coalesce(p_query, ''))), '\s+') w where w <> '');
begin
  perform public.calls_coordinator(p_staff_id);
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'slug', e.slug, 'category', e.category, 'unverified', e.unverified, 'active', e.active, 'question_it', it.question,
             'languages', (select coalesce(jsonb_agg(x.language order by x.language), '[]'::jsonb) from public.kb_texts x where x.entry_id = e.id),
             'updated_at', greatest(e.updated_at, (select max(x.updated_at) from public.kb_texts x where x.entry_id = e.id)))
           order by e.slug)
      from public.kb_entries e
      left join public.kb_texts it on it.entry_id = e.id and it.language = 'it'
     where not exists (
             select 1 from unnest(v_words) w
              where strpos(lower(concat_ws(' ', e.slug, it.question, array_to_string(it.phrasings, ' '), it.answer)), w) = 0)), '[]'::jsonb);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_kb_entry: one entry with its texts in every language it has, and who
-- last marked it verified on the desk, and when (from the audit log); null
-- when there is no such entry. Coordinators only.
-- ----------------------------------------------------------------------------
create function public.desk_kb_entry(p_staff_id uuid, p_slug text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  perform public.calls_coordinator(p_staff_id);
  return (
    select jsonb_build_object(
             'slug', e.slug, 'category', e.category, 'unverified', e.unverified, 'source', e.source, 'active', e.active, 'updated_at', e.updated_at,
             'texts', (select coalesce(jsonb_object_agg(t.language, jsonb_build_object('question', t.question, 'phrasings', to_jsonb(t.phrasings),
                                                                                       'keywords', t.keywords, 'answer', t.answer, 'updated_at', t.updated_at)), '{}'::jsonb)
                         from public.kb_texts t where t.entry_id = e.id),
             'verified', (select jsonb_build_object('by', s.full_name, 'at', a.at)
                            from public.audit_log a left join public.staff s on s.id = a.staff_id
                           where a.action = 'desk.kb_saved' and a.target_id = e.id and (a.details ->> 'verified')::boolean
                           order by a.at desc, a.id desc limit 1))
      from public.kb_entries e where e.slug = p_slug);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_kb_save: one entry's texts edited in the desk's form (every row checked
-- beforehand, as the CSV import checks them), written by kb_upsert; audited
-- with the languages whose text changed and whether she marked it verified.
-- p_rows as kb_upsert, all of one existing entry. {changed: [language]}
-- ----------------------------------------------------------------------------
create function public.desk_kb_save(p_staff_id uuid, p_slug text, p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.calls_coordinator(p_staff_id);
  v_entry public.kb_entries;
  v_before jsonb;
  v_after jsonb;
  v_changed jsonb;
begin
  select * into v_entry from public.kb_entries where slug = p_slug for update;
  if not found then raise exception 'no such entry' using errcode = 'P0002'; end if;
  if exists (select 1 from jsonb_array_elements(p_rows) r where r ->> 'slug' is distinct from p_slug) then
    raise exception 'rows of another entry' using errcode = '22023';
  end if;
  select coalesce(jsonb_object_agg(t.language, to_jsonb(t) - 'updated_at' - 'entry_id'), '{}'::jsonb) into v_before from public.kb_texts t where t.entry_id = v_entry.id;
  perform public.kb_upsert(p_rows, p_now);
  select coalesce(jsonb_object_agg(t.language, to_jsonb(t) - 'updated_at' - 'entry_id'), '{}'::jsonb) into v_after from public.kb_texts t where t.entry_id = v_entry.id;
  select coalesce(jsonb_agg(k order by k), '[]'::jsonb) into v_changed
    from jsonb_object_keys(v_after) k where v_before -> k is distinct from v_after -> k;
  insert into public.audit_log (at, staff_id, action, target_kind, target_id, details)
  values (p_now, v_staff.id, 'desk.kb_saved', 'kb_entry', v_entry.id,
          jsonb_build_object('slug', p_slug, 'changed', v_changed,
                             'verified', not coalesce((p_rows -> 0 ->> 'unverified')::boolean, v_entry.unverified),
                             'was_verified', not v_entry.unverified));
  return jsonb_build_object('changed', v_changed);
end;
$$;

-- ----------------------------------------------------------------------------
-- desk_kb_import: a CSV of knowledge-base rows uploaded on the desk (every row
-- checked beforehand, nothing written when one is bad), written as the
-- command-line import writes them (kb_upsert); audited with who uploaded it.
-- p_rows as kb_upsert. {created, updated}
-- ----------------------------------------------------------------------------
create function public.desk_kb_import(p_staff_id uuid, p_rows jsonb, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_staff public.staff := public.coordinator_require(p_staff_id);
  v_result jsonb := public.kb_upsert(p_rows, p_now);
begin
  insert into public.audit_log (at, staff_id, action, details)
  values (p_now, v_staff.id, 'desk.kb_imported', jsonb_build_object('rows', jsonb_array_length(p_rows),
          'created', (v_result ->> 'created')::int, 'updated', (v_result ->> 'updated')::int));
  return v_result;
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
