/**
 * The desk's overview: the programme's figures for a period as charts, each with the same figures as a table
 * beside it (for screen readers, and for anyone who wants the numbers) and a CSV of that table. Pure functions:
 * the route fetches the figures (already through publicFigures) and hands them here. Counts of people arrive as
 * Cell (a number, or "<5"); "<5" is shown as "<5" everywhere and drawn as no bar.
 */
import type { TFunction } from 'i18next';
import type { Cell, PublicReport } from '../../bot/features/programme/report';
import { esc, jsonBlock } from './html';
import type { DeskLanguage } from './i18n';

/** A broadcast released in the period, with where its messages stand (each count already a Cell). */
export interface DeskBroadcast {
  ref: number;
  released_at: string | null;
  status: string;
  counts: { queued: Cell; sent: Cell; delivered: Cell; read: Cell; failed: Cell; held: Cell; skipped: Cell };
}

export interface DeskOverview {
  report: PublicReport;
  broadcasts: DeskBroadcast[];
}

export interface OverviewOptions {
  lang: DeskLanguage;
  from: string;
  to: string;
  /** where the period form goes (GET); the overview's own address */
  action?: string;
}

type Cells = Record<string, Cell>;

/** Every chart the overview can draw (and give as CSV); each broadcast also has its own, `broadcast-<ref>`. */
export const OVERVIEW_CHARTS = [
  'families-district',
  'families-language',
  'families-tutor',
  'families-channel',
  'reminders-weekly',
  'vaccinations-overdue',
  'needs-area',
  'needs-urgency',
  'needs-times-area',
  'needs-times-urgency',
  'needs-weekly',
  'needs-weekly-times',
  'questions',
  'calls-kind',
  'broadcasts',
] as const;
export type OverviewChart = (typeof OVERVIEW_CHARTS)[number];

const BROADCAST_CHART = /^broadcast-(\d{1,18})$/;

/** A chart id the overview knows (a broadcast's own chart included), whether or not this period has it. */
export const isOverviewChart = (id: string): boolean => (OVERVIEW_CHARTS as readonly string[]).includes(id) || BROADCAST_CHART.test(id);

/** What a row of a chart's table is: decides its column header and how its keys are worded. */
type RowKind = 'district' | 'language' | 'tutor' | 'channel' | 'week' | 'measure' | 'area' | 'urgency' | 'kind' | 'stage' | 'broadcast';
/** How a series is named: a measure (translated), or an area (the stacked weekly needs). */
type SeriesKind = 'measure' | 'area';
type Shape = 'hbar' | 'vbar' | 'stacked' | 'line';

interface Series {
  /** the CSV header and the key of its name */
  key: string;
  cells: (Cell | null)[];
}

/** A chart as data, before any word: rows keyed as the report keys them, series as the report names them. */
interface ChartModel {
  id: string;
  shape: Shape;
  rowKind: RowKind;
  seriesKind: SeriesKind;
  rows: string[];
  series: Series[];
  /** medians in hours rather than counts */
  hours?: boolean;
  /** extra leading CSV columns (the all-broadcasts file) */
  extra?: { key: string; values: string[] }[];
}

const AREAS = ['health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other'];
const URGENCIES = ['urgent', 'normal'];
const CALL_KINDS = ['nido', 'primavera', 'bonus_nido', 'nidi_gratis', 'sap', 'sat', 'rent_support', 'arrears', 'dote'];
const STAGES = ['queued', 'sent', 'delivered', 'read', 'failed', 'held', 'skipped'] as const;

/** A cell's weight for ordering: "<5" sits between 0 and 5 (all it says). */
const rank = (c: Cell | null | undefined): number => (c === '<5' ? 2.5 : (c ?? -1));

/** Keys in a known order first, then the rest alphabetically. */
function ordered(keys: Iterable<string>, known: string[]): string[] {
  const set = new Set(keys);
  return [...known.filter((k) => set.has(k)), ...[...set].filter((k) => !known.includes(k)).sort()];
}

/** Keys by the first series' size, largest first, then by name (T-2 before T-10). */
function bySize(keys: Iterable<string>, first: Cells): string[] {
  return [...new Set(keys)].sort((a, b) => rank(first[b]) - rank(first[a]) || a.localeCompare(b, 'en', { numeric: true }));
}

/** The families and children of one breakdown, side by side. */
function whoModel(id: string, rowKind: RowKind, f: Cells, c: Cells): ChartModel {
  const rows = bySize([...Object.keys(f), ...Object.keys(c)], f);
  return {
    id, shape: 'hbar', rowKind, seriesKind: 'measure', rows,
    series: [{ key: 'families', cells: rows.map((k) => f[k] ?? 0) }, { key: 'children', cells: rows.map((k) => c[k] ?? 0) }],
  };
}

function broadcastModel(b: DeskBroadcast): ChartModel {
  return { id: `broadcast-${b.ref}`, shape: 'hbar', rowKind: 'stage', seriesKind: 'measure', rows: [...STAGES], series: [{ key: 'count', cells: STAGES.map((s) => b.counts[s]) }] };
}

/** Every chart this period has, in page order (the all-broadcasts file and each broadcast's funnel last). */
function chartModels(data: DeskOverview): ChartModel[] {
  const r = data.report;
  const models: ChartModel[] = [];
  models.push(whoModel('families-district', 'district', r.families.by_district, r.children.by_district));
  models.push(whoModel('families-language', 'language', r.families.by_language, r.children.by_language));
  models.push(whoModel('families-tutor', 'tutor', r.families.by_tutor, r.children.by_tutor));
  models.push(whoModel('families-channel', 'channel', r.families.by_channel, r.children.by_channel));

  const weeks = r.reminders.weekly;
  models.push({
    id: 'reminders-weekly', shape: 'vbar', rowKind: 'week', seriesKind: 'measure', rows: weeks.map((w) => w.week),
    series: [{ key: 'sent', cells: weeks.map((w) => w.sent) }, { key: 'done', cells: weeks.map((w) => w.done) }],
  });
  models.push({
    id: 'vaccinations-overdue', shape: 'hbar', rowKind: 'measure', seriesKind: 'measure', rows: ['mandatory_overdue', 'children_mandatory_overdue'],
    series: [{ key: 'count', cells: [r.reminders.mandatory_overdue, r.reminders.children_mandatory_overdue] }],
  });

  const areas = Object.keys(r.needs.by_area).sort((a, b) => rank(r.needs.by_area[b]!.total) - rank(r.needs.by_area[a]!.total) || AREAS.indexOf(a) - AREAS.indexOf(b));
  const urgencies = ordered(Object.keys(r.needs.by_urgency), URGENCIES);
  const byArea = (m: 'total' | 'urgent' | 'taken' | 'resolved' | 'median_take_hours' | 'median_resolve_hours') => areas.map((a) => r.needs.by_area[a]![m] ?? null);
  const byUrgency = (m: 'total' | 'taken' | 'resolved' | 'median_take_hours' | 'median_resolve_hours') => urgencies.map((u) => r.needs.by_urgency[u]![m] ?? null);
  models.push({
    id: 'needs-area', shape: 'hbar', rowKind: 'area', seriesKind: 'measure', rows: areas,
    series: (['total', 'urgent', 'taken', 'resolved'] as const).map((m) => ({ key: m, cells: byArea(m) })),
  });
  models.push({
    id: 'needs-urgency', shape: 'hbar', rowKind: 'urgency', seriesKind: 'measure', rows: urgencies,
    series: (['total', 'taken', 'resolved'] as const).map((m) => ({ key: m, cells: byUrgency(m) })),
  });
  models.push({
    id: 'needs-times-area', shape: 'hbar', rowKind: 'area', seriesKind: 'measure', rows: areas, hours: true,
    series: (['median_take_hours', 'median_resolve_hours'] as const).map((m) => ({ key: m, cells: byArea(m) })),
  });
  models.push({
    id: 'needs-times-urgency', shape: 'hbar', rowKind: 'urgency', seriesKind: 'measure', rows: urgencies, hours: true,
    series: (['median_take_hours', 'median_resolve_hours'] as const).map((m) => ({ key: m, cells: byUrgency(m) })),
  });
  const needWeeks = r.needs.weekly;
  const weeklyAreas = ordered(needWeeks.flatMap((w) => Object.keys(w.areas)), AREAS);
  models.push({
    id: 'needs-weekly', shape: 'stacked', rowKind: 'week', seriesKind: 'area', rows: needWeeks.map((w) => w.week),
    series: weeklyAreas.map((a) => ({ key: a, cells: needWeeks.map((w) => w.areas[a] ?? 0) })),
  });
  // each week's medians over the needs opened that week; none at all (every week under five needs): no chart to draw
  const timedWeeks = needWeeks.some((w) => w.median_take_hours !== null || w.median_resolve_hours !== null) ? needWeeks : [];
  models.push({
    id: 'needs-weekly-times', shape: 'line', rowKind: 'week', seriesKind: 'measure', rows: timedWeeks.map((w) => w.week), hours: true,
    series: (['median_take_hours', 'median_resolve_hours'] as const).map((m) => ({ key: m, cells: timedWeeks.map((w) => w[m]) })),
  });

  models.push({
    id: 'questions', shape: 'hbar', rowKind: 'measure', seriesKind: 'measure', rows: ['answered', 'helped', 'forwarded'],
    series: [{ key: 'count', cells: [r.questions.answered, r.questions.helped, r.questions.forwarded] }],
  });
  const kinds = ordered(Object.keys(r.calls.by_kind), CALL_KINDS);
  models.push({
    id: 'calls-kind', shape: 'hbar', rowKind: 'kind', seriesKind: 'measure', rows: kinds,
    series: (['following', 'applied'] as const).map((m) => ({ key: m, cells: kinds.map((k) => r.calls.by_kind[k]![m]) })),
  });

  const b = data.broadcasts;
  models.push({
    id: 'broadcasts', shape: 'hbar', rowKind: 'broadcast', seriesKind: 'measure', rows: b.map((x) => `B-${x.ref}`),
    extra: [{ key: 'released_at', values: b.map((x) => x.released_at ?? '') }, { key: 'status', values: b.map((x) => x.status) }],
    series: STAGES.map((s) => ({ key: s, cells: b.map((x) => x.counts[s]) })),
  });
  models.push(...b.map(broadcastModel));
  return models;
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

/** RFC 4180: quoted when it holds a comma, a quote or a line break; a text a spreadsheet would run as a formula gets a leading '. */
function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && (/^[=+@\t\r]/.test(s) || /^-[^\d]/.test(s))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The figures of one chart as a CSV file: header row first, one row per table row; "<5" kept; no median → empty. */
export function overviewCsv(data: DeskOverview, chart: string): string | undefined {
  const m = chartModels(data).find((x) => x.id === chart);
  if (!m) return undefined;
  const header = [m.rowKind, ...(m.extra ?? []).map((e) => e.key), ...m.series.map((s) => s.key)];
  const lines = [header, ...m.rows.map((row, i) => [row, ...(m.extra ?? []).map((e) => e.values[i] ?? ''), ...m.series.map((s) => s.cells[i] ?? '')])];
  return lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

/** The page's words: i18next interpolates raw (escapeValue off) and the whole string is escaped once here. */
type Words = (key: string, values?: Record<string, string | number>) => string;

interface Formats {
  words: Words;
  number: (c: Cell | null) => string;
  hours: (h: number | null) => string;
  week: (iso: string) => string;
  /** a week on the chart's axis: day and month only */
  weekShort: (iso: string) => string;
  when: (iso: string) => string;
  language: (code: string) => string;
}

function formats(t: TFunction, lang: DeskLanguage): Formats {
  const words: Words = (key, values) => esc(t(`overview.${key}`, { ...values, interpolation: { escapeValue: false } }));
  const nf = new Intl.NumberFormat(lang);
  const nf1 = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const weekFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const weekShortFormat = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const whenFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Rome' });
  const languages = new Intl.DisplayNames([lang], { type: 'language', fallback: 'code' });
  return {
    words,
    number: (c) => (c === null ? '–' : c === '<5' ? esc('<5') : esc(nf.format(c))),
    hours: (h) => {
      if (h === null) return '–';
      // the same rule as the report: under two days in hours, then in days
      return h < 48 ? esc(t('overview.hours', { count: h, n: nf1.format(h), interpolation: { escapeValue: false } })) : esc(t('overview.days', { count: Math.round((h / 24) * 10) / 10, n: nf1.format(h / 24), interpolation: { escapeValue: false } }));
    },
    week: (iso) => esc(weekFormat.format(new Date(`${iso}T00:00:00Z`))),
    weekShort: (iso) => esc(weekShortFormat.format(new Date(`${iso}T00:00:00Z`))),
    when: (iso) => esc(whenFormat.format(new Date(iso))),
    language: (code) => {
      try {
        const name = languages.of(code) ?? code;
        return esc(name.charAt(0).toLocaleUpperCase(lang) + name.slice(1));
      } catch {
        return esc(code);
      }
    },
  };
}

/** A row's name as shown (already escaped). */
function rowLabel(f: Formats, kind: RowKind, key: string): string {
  const { words } = f;
  if (key === '-' && (kind === 'district' || kind === 'language')) return words('notGiven');
  switch (kind) {
    case 'language':
      return f.language(key);
    case 'tutor':
      return key === 'queue' ? words('queue') : esc(key);
    case 'channel':
    case 'area':
    case 'urgency':
    case 'measure':
    case 'stage':
      return known(f, `${kind}.${key}`, key);
    case 'kind':
      return known(f, `callKind.${key}`, key);
    case 'week':
      return f.week(key);
    default:
      return esc(key);
  }
}

/** A translated name when the desk has one, else the key itself (a new area still shows, by its code). */
function known(f: Formats, key: string, fallback: string): string {
  const s = f.words(key);
  return s === esc(`overview.${key}`) ? esc(fallback) : s;
}

const seriesLabel = (f: Formats, m: ChartModel, key: string): string => (m.seriesKind === 'area' ? known(f, `area.${key}`, key) : f.words(`series.${key}`));

/** HTML text back to plain text for the chart's JSON (the canvas draws text, it does not parse it). */
const plain = (html: string): string => html.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);

function csvHref(id: string, opts: OverviewOptions): string {
  return `/desk/overview.csv?${new URLSearchParams({ chart: id, from: opts.from, to: opts.to })}`;
}

/** One chart: its caption, the canvas (drawn by desk.js from the JSON beside it), the table and the CSV link. */
function figure(f: Formats, m: ChartModel, title: string, opts: OverviewOptions, small = false): string {
  const cap = `cap-${m.id}`;
  if (m.rows.length === 0 || m.series.length === 0) {
    return `<figure class="chart-figure empty" id="chart-${esc(m.id)}" aria-labelledby="${cap}"><figcaption id="${cap}">${title}</figcaption><p>${f.words('empty')}</p></figure>`;
  }
  const labels = m.rows.map((k) => rowLabel(f, m.rowKind, k));
  const names = m.series.map((s) => seriesLabel(f, m, s.key));
  const value = (c: Cell | null) => (m.hours ? f.hours(c as number | null) : f.number(c));
  const spec = {
    shape: m.shape,
    labels: m.rowKind === 'week' ? m.rows.map((k) => plain(f.weekShort(k))) : labels.map(plain),
    series: m.series.map((s, i) => ({ label: plain(names[i]!), cells: s.cells })),
    ...(m.hours ? { unit: plain(f.words('unitHours')), axis: plain(f.words('axisHours')) } : {}),
  };
  const head = `<tr><th scope="col">${f.words(`column.${m.rowKind}`)}</th>${names.map((n) => `<th scope="col">${n}</th>`).join('')}</tr>`;
  const body = m.rows
    .map((k, i) => {
      const th = m.rowKind === 'week' ? `<time datetime="${esc(k)}">${labels[i]}</time>` : labels[i];
      return `<tr><th scope="row">${th}</th>${m.series.map((s) => `<td>${value(s.cells[i] ?? null)}</td>`).join('')}</tr>`;
    })
    .join('');
  return `<figure class="chart-figure${small ? ' small' : ''}" id="chart-${esc(m.id)}" aria-labelledby="${cap}">
<figcaption id="${cap}">${title}</figcaption>
<div class="chart" data-shape="${m.shape}" data-rows="${m.rows.length}" data-series="${m.series.length}"><canvas role="img" aria-label="${f.words('chartAria', { title: plain(title) })}" data-chart="chart-data-${esc(m.id)}"></canvas></div>
${jsonBlock(`chart-data-${m.id}`, spec)}
<div class="side">
<div class="table-wrap" role="region" aria-labelledby="tcap-${esc(m.id)}" tabindex="0"><table><caption id="tcap-${esc(m.id)}">${title}</caption><thead>${head}</thead><tbody>${body}</tbody></table></div>
<p class="csv"><a href="${esc(csvHref(m.id, opts))}" download>${f.words('csv')}<span class="vh">: ${title}</span></a></p>
</div>
</figure>`;
}

/** The overview's content (the shell adds the title and the menu). */
export function renderOverview(data: DeskOverview, t: TFunction, opts: OverviewOptions): string {
  const f = formats(t, opts.lang);
  const { words } = f;
  const r = data.report;
  const models = new Map(chartModels(data).map((m) => [m.id, m]));
  const chart = (id: string) => {
    const m = models.get(id);
    return m ? figure(f, m, words(`chart.${id}`), opts) : '';
  };
  const fig = (label: string, value: string) => `<div><dt>${label}</dt><dd>${value}</dd></div>`;
  const n = f.number;

  const period = `<form class="period" method="get" action="${esc(opts.action ?? '/desk')}">
<fieldset><legend>${words('period.legend')}</legend>
<p><label for="period-from">${words('period.from')}</label> <input type="date" id="period-from" name="from" value="${esc(opts.from)}" required></p>
<p><label for="period-to">${words('period.to')}</label> <input type="date" id="period-to" name="to" value="${esc(opts.to)}" required></p>
<p><button type="submit">${words('period.submit')}</button></p>
</fieldset>
</form>`;

  const summary = `<section aria-labelledby="h-summary">
<h2 id="h-summary">${words('section.summary')}</h2>
<p>${words('period.showing', { from: plain(f.week(r.period.from)), to: plain(f.week(r.period.to)) })}</p>
<dl class="figures">
${fig(words('figures.families'), words('figures.familiesValue', { n: plain(n(r.families.total)), new: plain(n(r.families.new)) }))}
${fig(words('figures.children'), words('figures.childrenValue', { n: plain(n(r.children.total)), new: plain(n(r.children.new)) }))}
${fig(words('figures.needs'), n(r.needs.total))}
${fig(words('figures.questions'), words('figures.questionsValue', { answered: plain(n(r.questions.answered)), forwarded: plain(n(r.questions.forwarded)) }))}
${fig(words('figures.calls'), words('figures.callsValue', { following: plain(n(r.calls.following)), applied: plain(n(r.calls.applied)) }))}
${fig(words('figures.broadcasts'), n(r.broadcasts.total))}
</dl>
<p class="note">${words('privacy')}</p>
</section>`;

  const section = (id: string, charts: string[], intro = '') =>
    `<section aria-labelledby="h-${id}">
<h2 id="h-${id}">${words(`section.${id}`)}</h2>
${intro}${charts.map(chart).join('\n')}
</section>`;

  const broadcasts = data.broadcasts;
  const funnels = broadcasts
    .map((b) => {
      const title = words('broadcast.title', {
        ref: `B-${b.ref}`,
        when: b.released_at ? plain(f.when(b.released_at)) : plain(words('broadcast.notReleased')),
        status: plain(known(f, `broadcast.status.${b.status}`, b.status)),
      });
      return figure(f, models.get(`broadcast-${b.ref}`)!, title, opts, true);
    })
    .join('\n');
  const broadcastSection = `<section aria-labelledby="h-broadcasts">
<h2 id="h-broadcasts">${words('section.broadcasts')}</h2>
${broadcasts.length === 0 ? `<p>${words('noBroadcasts')}</p>` : `<p>${words('broadcastsIntro')}</p>
<p class="csv"><a href="${esc(csvHref('broadcasts', opts))}" download>${words('csvAll')}</a></p>
<div class="multiples">
${funnels}
</div>`}
</section>`;

  return [
    period,
    summary,
    section('families', ['families-district', 'families-language', 'families-tutor', 'families-channel'], `<p>${words('tutorsNote')}</p>\n`),
    section('reminders', ['reminders-weekly', 'vaccinations-overdue']),
    section('needs', ['needs-area', 'needs-urgency', 'needs-times-area', 'needs-times-urgency', 'needs-weekly', 'needs-weekly-times'], `<p>${words('needsNote')}</p>\n`),
    section('questions', ['questions']),
    section('calls', ['calls-kind']),
    broadcastSection,
  ].join('\n');
}
