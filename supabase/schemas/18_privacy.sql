-- ============================================================================
-- PRIVACY: her data, exported and erased, assembled from each area
-- ============================================================================

-- ----------------------------------------------------------------------------
-- privacy_export: everything stored about her and her children, from each area
-- that holds personal data: her contact, her family and children, her tutor,
-- her needs, her calls, the files she sent and the messages waiting for her
-- ----------------------------------------------------------------------------
create function public.privacy_export(p_contact_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select public.contacts_export(c.id)
         || jsonb_build_object('family', public.families_export(c.family_id) || public.staff_export(c.family_id)
                                         || public.needs_export(c.family_id) || public.calls_export(c.family_id))
         || public.messaging_export(c.id)
    from public.contacts c where c.id = p_contact_id;
$$;

-- ----------------------------------------------------------------------------
-- privacy_erase: her right to erasure, from each area: her family (and by
-- cascade everything about it), her queue and files, her contact down to its
-- channel id and language for the farewell
-- ----------------------------------------------------------------------------
create function public.privacy_erase(p_contact_id uuid, p_family_id uuid, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform public.families_erase(p_family_id, p_now);
  perform public.messaging_erase(p_contact_id, p_now);
  perform public.contacts_erase(p_contact_id, p_now);
end;
$$;

-- ----------------------------------------------------------------------------
-- privacy_effect_apply: "forget me", decided in the chat. Called by
-- effect_apply for `privacy.<verb>`; false on a verb it does not know.
-- ----------------------------------------------------------------------------
create function public.privacy_effect_apply(p_contact_id uuid, p_family_id uuid, p_effect jsonb, p_now timestamptz)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  case split_part(p_effect ->> 'op', '.', 2)
  when 'forget' then
    perform public.privacy_erase(p_contact_id, p_family_id, p_now);
  else
    return false;
  end case;
  return true;
end;
$$;

-- when a family is erased, the copies of staff messages about it go too: every
-- staff message about a family names it F-<ref>
create function private.families_forget_staff_copies()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  delete from public.outbox o
   using public.contacts c
   where c.id = o.contact_id and c.staff_id is not null
     and o.payload ->> 'text' ~ ('F-' || old.ref || '([^0-9]|$)');
  return old;
end;
$$;

create trigger families_forget_staff_copies after delete on public.families for each row execute function private.families_forget_staff_copies();
