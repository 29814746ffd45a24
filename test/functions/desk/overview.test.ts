import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { publicFigures } from '../../../bot/features/programme/report';
import { esc } from '../../../functions/desk/html';
import { createDeskTranslator, DESK_LANGUAGES, type DeskLanguage } from '../../../functions/desk/i18n';
import { isOverviewChart, OVERVIEW_CHARTS, overviewCsv, renderOverview, type DeskOverview } from '../../../functions/desk/overview';
import { sampleOverview, sampleReport } from '../../support/desk-overview-sample';

const tFor = createDeskTranslator();
const HOSTILE = '<img src=x onerror=alert(1)></script><script>alert(2)</script>';
const options = { extraDistricts: { 'milano-4': { families: 3, children: 4 }, [HOSTILE]: { families: 30, children: 41 }, '=HYPERLINK("http://evil.example","x")': { families: 22, children: 25 } } };
/** The exact figures, and what the route hands the overview: the same through publicFigures (three families on Telegram). */
const raw = sampleReport(options);
raw.families.by_channel = { telegram: 3, whatsapp: raw.families.total - 3 };
raw.children.by_channel = { whatsapp: raw.children.total };
const data: DeskOverview = { ...sampleOverview(options), report: publicFigures(raw) };
const period = { from: raw.period.from, to: raw.period.to };
const render = (lang: DeskLanguage, d: DeskOverview = data) => renderOverview(d, tFor(lang), { lang, ...period });

const unescape = (s: string) => s.replace(/<[^>]+>/g, '').replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!).trim();

/** A chart's table as text: the header row, then one row per <tr>, cells in order. */
function tableOf(html: string, id: string): string[][] {
  const fig = new RegExp(`<figure[^>]* id="chart-${id}"[\\s\\S]*?</figure>`).exec(html)?.[0];
  if (!fig) throw new Error(`no figure ${id}`);
  const table = /<table>([\s\S]*?)<\/table>/.exec(fig)![1]!;
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((tr) => [...tr[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => unescape(c[1]!)));
}

/** A CSV file as rows of fields (RFC 4180: quoted fields, doubled quotes). */
function parseCsv(text: string): string[][] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text.slice(0, -2).split('\r\n').map((line) => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => (m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!)));
}

/** What the page shows for an exact count: "<5" for 1–4, the number otherwise (English digits: 1,234). */
const shown = (n: number) => (n > 0 && n < 5 ? '<5' : n.toLocaleString('en'));

describe('renderOverview', () => {
  const en = render('en');

  it.each([
    ['families-district', 'milano-4', [shown(3), shown(4)]],
    ['families-district', 'district-01', [shown(raw.families.by_district['district-01']!), shown(raw.children.by_district['district-01']!)]],
    ['families-district', 'Not given', [shown(raw.families.by_district['-']!), shown(raw.children.by_district['-']!)]],
    ['families-language', 'Arabic', [shown(raw.families.by_language.ar!), shown(raw.children.by_language.ar!)]],
    ['families-language', 'Urdu', [shown(raw.families.by_language.ur!), shown(raw.children.by_language.ur!)]],
    ['families-tutor', 'T-8', [shown(raw.families.by_tutor['T-8']!), shown(raw.children.by_tutor['T-8']!)]],
    ['families-tutor', 'Waiting for a tutor', [shown(raw.families.by_tutor.queue!), shown(raw.children.by_tutor.queue!)]],
    ['families-channel', 'Telegram', ['<5', '0']],
    ['reminders-weekly', 'Sep 7, 2026', ['<5', '<5']],
    ['reminders-weekly', 'Sep 14, 2026', [shown(raw.reminders.weekly[1]!.sent), shown(raw.reminders.weekly[1]!.done)]],
    ['vaccinations-overdue', 'Mandatory vaccinations overdue', ['137']],
    ['vaccinations-overdue', 'Children with at least one mandatory vaccination overdue', ['88']],
    ['needs-area', 'Health, pediatrician, vaccines', ['total', 'urgent', 'taken', 'resolved'].map((m) => shown(raw.needs.by_area.health![m as 'total']!))],
    ['needs-area', 'Violence or danger', ['<5', '<5', '<5', '<5']],
    ['needs-urgency', 'Urgent', ['total', 'taken', 'resolved'].map((m) => shown(raw.needs.by_urgency.urgent![m as 'total']))],
    ['needs-times-area', 'Violence or danger', ['–', '–']], // three needs: no median
    ['needs-weekly', 'Sep 7, 2026', ['health', 'education', 'protection'].map((a) => shown(raw.needs.weekly[0]!.areas[a]!))],
    ['questions', 'Answered by the knowledge base', ['1,480']],
    ['questions', 'Forwarded to a tutor', ['312']],
    ['calls-kind', 'Temporary housing (SAT)', ['<5', '<5']],
    ['calls-kind', 'Nido enrollment', [shown(raw.calls.by_kind.nido!.following), shown(raw.calls.by_kind.nido!.applied)]],
    ['broadcast-39', 'Failed', ['<5']],
    ['broadcast-39', 'Skipped (paused or unreachable)', ['17']],
  ] as const)('shows in the %s table, row %s, the figures %j', (id, row, cells) => {
    const found = tableOf(en, id).find((r) => r[0] === row);
    expect(found, `${id}: ${tableOf(en, id).map((r) => r[0]).join(' | ')}`).toBeDefined();
    expect(found!.slice(1, 1 + cells.length)).toEqual(cells);
  });

  it('shows a median in hours under two days and in days after, and the weekly medians when the report has them', () => {
    const h = raw.needs.by_area.health!;
    const row = tableOf(en, 'needs-times-area').find((r) => r[0] === 'Health, pediatrician, vaccines')!;
    const said = (x: number) => (x < 48 ? `${x.toLocaleString('en', { maximumFractionDigits: 1 })} hour${x === 1 ? '' : 's'}` : `${(x / 24).toLocaleString('en', { maximumFractionDigits: 1 })} day${x / 24 === 1 ? '' : 's'}`);
    expect(row.slice(1)).toEqual([said(h.median_take_hours!), said(h.median_resolve_hours!)]);
    expect(tableOf(en, 'needs-weekly-times')[2]!.slice(1)).toEqual(['–', '–']); // a week without a median
    expect(tableOf(render('it'), 'needs-times-area').find((r) => r[0] === 'Salute, pediatra, vaccini')!.slice(1)).toEqual([
      h.median_take_hours! < 48 ? `${h.median_take_hours!.toLocaleString('it')} ore` : expect.stringMatching(/ giorn[oi]$/),
      h.median_resolve_hours! < 48 ? `${h.median_resolve_hours!.toLocaleString('it')} ore` : expect.stringMatching(/ giorn[oi]$/),
    ]);
  });

  it('shows a small count as "<5" in the table and in the chart\'s data, never as the number', () => {
    const fig = /<figure[^>]* id="chart-families-district"[\s\S]*?<\/figure>/.exec(en)![0];
    expect(fig).toMatch(/<th scope="row">milano-4<\/th><td>&lt;5<\/td><td>&lt;5<\/td>/);
    const spec = JSON.parse(/<script type="application\/json" id="chart-data-families-district">([\s\S]*?)<\/script>/.exec(fig)![1]!) as { labels: string[]; series: { cells: unknown[] }[] };
    const i = spec.labels.indexOf('milano-4');
    expect(spec.series.map((s) => s.cells[i])).toEqual(['<5', '<5']);
    // the exact figures (3 families, 4 children) are nowhere in that row
    expect(fig).not.toMatch(/milano-4<\/th><td>[34]</);
    expect(JSON.stringify(spec.series.map((s) => s.cells[i]))).not.toMatch(/[34]/);
  });

  it('escapes a hostile district name everywhere it appears', () => {
    expect(en).not.toContain('<img');
    expect(en).not.toContain('<script>alert');
    expect(en.match(/<script/g)!.length).toBe(en.match(/<script type="application\/json" id="chart-data-[a-z0-9-]+">/g)!.length);
    expect(en).toContain(`<th scope="row">${esc(HOSTILE)}</th>`);
    const block = /<script type="application\/json" id="chart-data-families-district">([\s\S]*?)<\/script>/.exec(en)![1]!;
    expect(block).not.toContain('<');
    expect((JSON.parse(block) as { labels: string[] }).labels).toContain(HOSTILE);
    expect(parseCsv(overviewCsv(data, 'families-district')!)).toContainEqual([HOSTILE, '30', '41']);
  });

  it('links each chart to its CSV with the chart and the period only, and labels every canvas and the period form', () => {
    const links = [...en.matchAll(/href="([^"]*overview\.csv[^"]*)"/g)].map((m) => unescape(m[1]!));
    const figures = en.match(/<figure class="chart-figure[^"]*"/g)!.length;
    expect(links.length).toBe(figures + 1); // and one for every broadcast at once
    for (const link of links) {
      expect(link).toMatch(/^\/desk\/overview\.csv\?chart=[a-z0-9-]+&from=2026-09-07&to=2026-11-29$/);
      expect(isOverviewChart(new URL(link, 'http://x').searchParams.get('chart')!)).toBe(true);
    }
    expect(en.match(/<canvas role="img" aria-label="Chart: [^"]+\. The same figures are in the table\."/g)!.length).toBe(figures);
    expect(en.match(/<table>/g)!.length).toBe(figures);
    expect(en.match(/<caption id="tcap-[a-z0-9-]+">/g)!.length).toBe(figures);
    expect(en.match(/<th scope="col">/g)!.length).toBeGreaterThan(figures * 2);
    expect(en).toContain('<form class="period" method="get" action="/desk">');
    expect(en).toMatch(/<label for="period-from">From<\/label> <input type="date" id="period-from" name="from" value="2026-09-07" required>/);
    expect(en).toMatch(/<label for="period-to">To<\/label> <input type="date" id="period-to" name="to" value="2026-11-29" required>/);
  });

  it('names tutors only by reference, and the queue in words', () => {
    const rows = tableOf(en, 'families-tutor').slice(1).map((r) => r[0]);
    expect(rows.length).toBe(51);
    for (const r of rows) expect(r).toMatch(/^(T-\d+|Waiting for a tutor)$/);
    expect(tableOf(render('it'), 'families-tutor').slice(1).map((r) => r[0])).toContain('In attesa di una tutor');
  });

  it('says when a period has no figures or no broadcast, and draws no empty chart', () => {
    const empty = publicFigures({
      ...raw,
      families: { ...raw.families, by_district: {}, by_language: {}, by_tutor: {}, by_channel: {} },
      children: { ...raw.children, by_district: {}, by_language: {}, by_tutor: {}, by_channel: {} },
      needs: { ...raw.needs, by_area: {}, by_urgency: {}, weekly: raw.needs.weekly.map((w) => ({ ...w, taken: 2, resolved: 1 })) },
    });
    const html = renderOverview({ report: empty, broadcasts: [] }, tFor('en'), { lang: 'en', ...period });
    for (const [id, title] of [['families-district', 'Families and children by district'], ['families-channel', 'Families and children by channel'], ['needs-times-area', 'Median time to take charge and to resolve, by area'], ['needs-weekly-times', 'Median time to take charge and to resolve, week by week']]) {
      expect(html).toContain(`id="chart-${id}" aria-labelledby="cap-${id}"><figcaption id="cap-${id}">${title}</figcaption><p>No figures in this period.</p></figure>`);
      expect(html).not.toContain(`chart=${id}&`);
    }
    expect(html).toContain('No broadcast was released in this period.');
    expect(html).not.toContain('chart=broadcasts');
    expect(html).toContain('id="chart-reminders-weekly"'); // the weeks are still there
    expect(html).toMatch(/<canvas[^>]* data-chart="chart-data-reminders-weekly">/);
  });
});

describe('overviewCsv', () => {
  const present = OVERVIEW_CHARTS.filter((id) => overviewCsv(data, id) !== undefined);

  it('has a file for every chart of a full report', () => {
    expect(present).toEqual([...OVERVIEW_CHARTS]);
  });

  it.each(OVERVIEW_CHARTS.filter((id) => id !== 'broadcasts'))('gives %s with the same rows and figures as its table', (id) => {
    const rows = parseCsv(overviewCsv(data, id)!);
    const table = tableOf(render('en'), id);
    expect(rows.length).toBe(table.length);
    expect(rows[0]!.length).toBe(table[0]!.length);
    rows.slice(1).forEach((row, i) => {
      const cells = table[i + 1]!.slice(1);
      row.slice(1).forEach((v, j) => {
        const t = cells[j]!;
        if (v === '<5' || t === '<5') expect([v, t]).toEqual(['<5', '<5']);
        else if (v === '') expect(t).toBe('–');
        else if (/hour|day/.test(t)) expect(t).toMatch(/^[\d.,]+ (hours?|days?)$/);
        else expect(t.replace(/,/g, '')).toBe(v);
      });
    });
  });

  it.each([
    ['families-district', ['district', 'families', 'children'], ['milano-4', '<5', '<5']],
    ['families-channel', ['channel', 'families', 'children'], ['telegram', '<5', '0']],
    ['reminders-weekly', ['week', 'sent', 'done'], ['2026-09-07', '<5', '<5']],
    ['vaccinations-overdue', ['measure', 'count'], ['mandatory_overdue', '137']],
    ['needs-area', ['area', 'total', 'urgent', 'taken', 'resolved'], ['protection', '<5', '<5', '<5', '<5']],
    ['needs-times-area', ['area', 'median_take_hours', 'median_resolve_hours'], ['protection', '', '']],
    ['needs-weekly', ['week', 'health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other'], undefined],
    ['questions', ['measure', 'count'], ['helped', '905']],
    ['calls-kind', ['kind', 'following', 'applied'], ['sat', '<5', '<5']],
    ['broadcasts', ['broadcast', 'released_at', 'status', 'queued', 'sent', 'delivered', 'read', 'failed', 'held', 'skipped'], undefined],
    ['broadcast-39', ['stage', 'count'], ['failed', '<5']],
  ] as const)('gives %s with its header first and machine keys', (id, header, row) => {
    const rows = parseCsv(overviewCsv(data, id)!);
    expect(rows[0]).toEqual(header);
    if (row) expect(rows).toContainEqual(row);
  });

  it('quotes as RFC 4180 asks and disarms a name a spreadsheet would run', () => {
    const text = overviewCsv(data, 'families-district')!;
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")",22,25\r\n`);
    expect(text).toContain('\r\n-,12,15\r\n'); // "not given" stays a plain dash
  });

  it.each(['nothing', '', 'broadcast-999', 'broadcast-', '__proto__', 'constructor', 'families-district '])('has no file for %j', (id) => {
    expect(overviewCsv(data, id)).toBeUndefined();
  });

  it('gives only the header when the period has nothing to count', () => {
    const none: DeskOverview = { report: publicFigures({ ...raw, families: { ...raw.families, by_channel: {} }, children: { ...raw.children, by_channel: {} } }), broadcasts: [] };
    expect(overviewCsv(none, 'families-channel')).toBe('channel,families,children\r\n');
    expect(overviewCsv(none, 'broadcasts')).toBe('broadcast,released_at,status,queued,sent,delivered,read,failed,held,skipped\r\n');
  });
});

describe('the overview in both languages', () => {
  const locale = (lang: DeskLanguage) => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as { overview: Record<string, unknown> }).overview;
  const leaves = (o: Record<string, unknown>, prefix = ''): [string, string][] =>
    Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [[`${prefix}${k}`, v] as [string, string]] : leaves(v as Record<string, unknown>, `${prefix}${k}.`)));
  const base = (k: string) => k.replace(/_(one|many|other)$/, '');

  it('has the same keys in Italian and English', () => {
    expect([...new Set(leaves(locale('it')).map(([k]) => base(k)))].sort()).toEqual([...new Set(leaves(locale('en')).map(([k]) => base(k)))].sort());
  });

  it.each(DESK_LANGUAGES)('renders (%s) every one of its words and no raw key', (lang) => {
    // the full sample, an empty period, and broadcasts in every state: between them every string has its place
    const statuses = ['scheduled', 'sending', 'done', 'cancelled'].map((status, i) => ({ ...data.broadcasts[0]!, ref: 90 + i, status, released_at: i === 0 ? null : data.broadcasts[0]!.released_at }));
    const pages = [
      render(lang),
      render(lang, { report: publicFigures({ ...raw, families: { ...raw.families, by_district: {} }, children: { ...raw.children, by_district: {} } }), broadcasts: [] }),
      render(lang, { ...data, broadcasts: statuses }),
    ].join('\n');
    expect(pages).not.toMatch(/overview\.(?!csv\?)/);
    const missing = leaves(locale(lang))
      .filter(([k]) => !/_(one|many)$/.test(k))
      .filter(([, v]) => !v.split(/\{\{\w+\}\}/).filter((part) => part.trim()).every((part) => pages.includes(esc(part)) || pages.includes(part)));
    expect(missing).toEqual([]);
  });
});
