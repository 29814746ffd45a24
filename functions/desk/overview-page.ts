/** The overview (/desk) and its charts' CSV files: the programme's figures, small cells hidden, audited. */
import { format, parseISO, startOfWeek, subWeeks } from 'date-fns';
import { call } from '../../bot/db/rpc';
import { romeDay } from '../../bot/time';
import { cell, periodOf, publicFigures, type ProgrammeReport } from '../../bot/features/programme/report';
import type { BroadcastCounts } from '../../bot/features/broadcasts/service';
import { esc, SECURITY_HEADERS } from './html';
import type { DeskContext, DeskPage } from './page';
import { overviewCsv, renderOverview, type DeskBroadcast, type DeskOverview } from './overview';

type RawBroadcast = { ref: number; released_at: string | null; status: string; counts: BroadcastCounts };

/** A broadcast's funnel for the desk: its recipients are people, so small cells are hidden like every other figure. */
function funnel(b: RawBroadcast): DeskBroadcast {
  const c = b.counts;
  return {
    ref: b.ref, released_at: b.released_at, status: b.status,
    counts: { queued: cell(c.queued), sent: cell(c.sent), delivered: cell(c.delivered), read: cell(c.read), failed: cell(c.failed), held: cell(c.held), skipped: cell(c.skipped.paused + c.skipped.unreachable) },
  };
}

/** The period asked for, or the last twelve weeks (Monday to today, Rome); a bad one says why and shows the default. */
export function overviewPeriod(url: URL, now: Date): { from: string; to: string; error?: string } {
  const today = romeDay(now);
  const fallback = { from: format(startOfWeek(subWeeks(parseISO(today), 11), { weekStartsOn: 1 }), 'yyyy-MM-dd'), to: today };
  const from = url.searchParams.get('from') || undefined;
  const to = url.searchParams.get('to') || undefined;
  if (!from && !to) return fallback;
  const p = periodOf(from, to, now);
  return 'error' in p ? { ...fallback, error: p.error } : p;
}

async function overviewData(ctx: DeskContext, from: string, to: string, chart: string | null): Promise<DeskOverview> {
  const raw = await call<{ report: ProgrammeReport; broadcasts: RawBroadcast[] }>(ctx.db, 'desk_overview', {
    p_staff_id: ctx.staff.id, p_from: from, p_to: to, p_chart: chart, p_now: ctx.now.toISOString() });
  return { report: publicFigures(raw.report), broadcasts: raw.broadcasts.map(funnel) };
}

export const overviewPages: DeskPage[] = [
  {
    path: '/desk',
    nav: { label: 'layout.overview', order: 10, href: '/desk' },
    async get(ctx) {
      const period = overviewPeriod(ctx.url, ctx.now);
      const data = await overviewData(ctx, period.from, period.to, null);
      const warning = period.error ? `<p class="warning" role="alert">${esc(ctx.t('login.badPeriod', { why: period.error }))}</p>` : '';
      return ctx.render(ctx.t('layout.overview'), warning + renderOverview(data, ctx.t, { lang: ctx.lang, from: period.from, to: period.to }), { scripts: ['chart.js', 'desk.js'] });
    },
  },
  {
    path: '/desk/overview.csv',
    async get(ctx) {
      const chart = ctx.url.searchParams.get('chart') ?? '';
      const period = overviewPeriod(ctx.url, ctx.now);
      const text = overviewCsv(await overviewData(ctx, period.from, period.to, chart), chart);
      if (text === undefined) return ctx.render(ctx.t('layout.overview'), `<p>${esc(ctx.t('layout.notFound'))}</p>`, { status: 404 });
      return new Response(text, { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${chart}-${period.from}-${period.to}.csv"` } });
    },
  },
];
