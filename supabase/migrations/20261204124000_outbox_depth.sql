-- ============================================================================
-- Operators can see it: /metrics reads the outbox's depth by channel, status
-- and priority in one grouped query per scrape, read from an index of the rows
-- not done. Only the new definitions.
-- ============================================================================

-- supabase/schemas/04_messaging.sql
-- /metrics' outbox_depth counts the rows not done from this index alone, however many sent rows there are
create index outbox_depth_idx on public.outbox (channel, status, priority) where status in ('pending', 'sending', 'held', 'failed');

-- ----------------------------------------------------------------------------
-- outbox_depth: the rows not done yet by channel, status and priority, for
-- /metrics: one grouped query per scrape, at most 2 × 4 × 10 rows (far under
-- the API's row cap). Sent and cancelled rows are done and not counted.
-- ----------------------------------------------------------------------------
create function public.outbox_depth()
returns jsonb
language sql
stable
set search_path = ''
as $$
  -- one value, not a set: nothing for the API's row cap to cut
  select coalesce(jsonb_agg(jsonb_build_object('channel', d.channel, 'status', d.status, 'priority', d.priority, 'n', d.n)
                            order by d.channel, d.status, d.priority), '[]'::jsonb)
    from (select o.channel, o.status, o.priority::int as priority, count(*)::int as n
            from public.outbox o
           where o.status in ('pending', 'sending', 'held', 'failed')
           group by o.channel, o.status, o.priority) d;
$$;

-- supabase/schemas/99_grants.sql covers new objects when run whole; a later migration grants its own
revoke execute on function public.outbox_depth() from public, anon, authenticated;
grant execute on function public.outbox_depth() to service_role;
