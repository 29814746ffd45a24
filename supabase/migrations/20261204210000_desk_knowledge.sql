-- ============================================================================
-- The desk's knowledge base: coordinators search the entries, edit an entry's
-- texts in the 13 languages with the Italian beside and mark it verified
-- (audited with who she is). kb_version now changes on any edit, also one
-- stamped earlier than the newest row, so the bot's index is rebuilt. Only the
-- new and changed definitions.
-- ============================================================================

-- changes whenever an entry or a text changes: the bot's search index is rebuilt then. Each row's own time is
-- summed in, not only the latest: an edit stamped earlier than the newest row (the seed's now(), a clock behind
-- the database's) changes it too.
create or replace function public.kb_version()
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

revoke execute on function public.kb_version(), public.desk_kb_list(uuid, text), public.desk_kb_entry(uuid, text),
  public.desk_kb_save(uuid, text, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.kb_version(), public.desk_kb_list(uuid, text), public.desk_kb_entry(uuid, text),
  public.desk_kb_save(uuid, text, jsonb, timestamptz) to service_role;
