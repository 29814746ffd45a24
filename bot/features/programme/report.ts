import { format, isValid, parseISO, startOfMonth } from 'date-fns';
import { inRome, romeDay } from '../../time';

type Counts = Record<string, number>;
interface Timed {
  total: number;
  taken: number;
  resolved: number;
  urgent?: number;
  median_take_hours: number | null;
  median_resolve_hours: number | null;
}

/** What programme_report answers: counts only, never a person. Exact: no door shows it as it is (see publicFigures). */
export interface ProgrammeReport {
  period: { from: string; to: string };
  families: { total: number; new: number; by_language: Counts; by_district: Counts; by_tutor: Counts; by_channel: Counts };
  children: { total: number; new: number; by_language: Counts; by_district: Counts; by_tutor: Counts; by_channel: Counts };
  reminders: { sent: number; done: number; mandatory_overdue: number; children_mandatory_overdue: number; weekly: { week: string; sent: number; done: number }[] };
  needs: {
    total: number; by_area: Record<string, Timed>; by_urgency: Record<string, Timed>;
    /** needs opened each week, by area, and how long that week's needs took to be taken in charge and resolved */
    weekly: { week: string; areas: Counts; taken: number; resolved: number; median_take_hours: number | null; median_resolve_hours: number | null }[];
  };
  questions: { answered: number; helped: number; forwarded: number };
  calls: { following: number; applied: number; by_kind: Record<string, { following: number; applied: number }> };
  /**
   * Every broadcast released in the period. recipients = skipped + queued; queued = sent + failed + held +
   * cancelled + waiting (+ any erased since); fallback = sent in Italian to someone of another language.
   */
  broadcasts: {
    total: number; recipients: number; queued: number; sent: number; delivered: number; read: number;
    failed: number; held: number; cancelled: number; waiting: number; skipped: number; fallback: number;
  };
}

/** Below this a figure that counts people is shown as "<5" (0 stays 0), and a median over fewer needs is withheld. */
export const SMALL_CELL = 5;

/** A figure that counts people as a programme output shows it: 1–4 are "<5". */
export type Cell = number | '<5';
type Cells = Record<string, Cell>;

/** One area's or urgency's needs as shown: counts as cells, a median only when it describes at least five needs. */
export interface PublicTimed {
  total: Cell;
  taken: Cell;
  resolved: Cell;
  urgent?: Cell;
  median_take_hours: number | null;
  median_resolve_hours: number | null;
}

/** Type-only mark of a report that went through publicFigures (never present at run time, never serialised). */
declare const suppressed: unique symbol;

/**
 * The programme report as every output outside a family's own tutor's view shows it (chat /report, npm run report,
 * GET /api/report, the desk): each count of people, in every breakdown, is 0, 5 or more, or "<5". The number of
 * broadcasts counts notices, not people, and stays as it is. Only publicFigures makes one, so a renderer cannot be
 * handed the exact figures by mistake.
 */
export interface PublicReport {
  readonly [suppressed]: true;
  period: { from: string; to: string };
  families: { total: Cell; new: Cell; by_language: Cells; by_district: Cells; by_tutor: Cells; by_channel: Cells };
  children: { total: Cell; new: Cell; by_language: Cells; by_district: Cells; by_tutor: Cells; by_channel: Cells };
  reminders: { sent: Cell; done: Cell; mandatory_overdue: Cell; children_mandatory_overdue: Cell; weekly: { week: string; sent: Cell; done: Cell }[] };
  needs: {
    total: Cell; by_area: Record<string, PublicTimed>; by_urgency: Record<string, PublicTimed>;
    weekly: { week: string; areas: Cells; taken: Cell; resolved: Cell; median_take_hours: number | null; median_resolve_hours: number | null }[];
  };
  questions: { answered: Cell; helped: Cell; forwarded: Cell };
  calls: { following: Cell; applied: Cell; by_kind: Record<string, { following: Cell; applied: Cell }> };
  broadcasts: {
    total: number; recipients: Cell; queued: Cell; sent: Cell; delivered: Cell; read: Cell;
    failed: Cell; held: Cell; cancelled: Cell; waiting: Cell; skipped: Cell; fallback: Cell;
  };
}

/** 1–4 → "<5"; 0 and 5 or more as they are. */
export const cell = (n: number): Cell => (n > 0 && n < SMALL_CELL ? '<5' : n);
const cells = (c: Counts): Cells => Object.fromEntries(Object.entries(c).map(([k, n]) => [k, cell(n)]));
/** A median describes the needs it is taken over (taken in charge, or resolved): withheld under five. */
const median = (value: number | null, over: number) => (over >= SMALL_CELL ? value : null);

function publicTimed(v: Timed): PublicTimed {
  return {
    total: cell(v.total),
    ...(v.urgent === undefined ? {} : { urgent: cell(v.urgent) }),
    taken: cell(v.taken),
    resolved: cell(v.resolved),
    median_take_hours: median(v.median_take_hours, v.taken),
    median_resolve_hours: median(v.median_resolve_hours, v.resolved),
  };
}

/**
 * The one place small cells are suppressed: every door applies it to programme_report's answer before it renders
 * or returns anything. Totals are suppressed on their own terms only: a total minus its shown parts can still give
 * a suppressed part back (no complementary suppression).
 */
export function publicFigures(r: ProgrammeReport): PublicReport {
  const who = (s: ProgrammeReport['families']) => ({ total: cell(s.total), new: cell(s.new), by_language: cells(s.by_language), by_district: cells(s.by_district), by_tutor: cells(s.by_tutor), by_channel: cells(s.by_channel ?? {}) });
  const b = r.broadcasts;
  const shown: Omit<PublicReport, typeof suppressed> = {
    period: { ...r.period },
    families: who(r.families),
    children: who(r.children),
    reminders: {
      sent: cell(r.reminders.sent), done: cell(r.reminders.done),
      mandatory_overdue: cell(r.reminders.mandatory_overdue), children_mandatory_overdue: cell(r.reminders.children_mandatory_overdue),
      weekly: r.reminders.weekly.map((w) => ({ week: w.week, sent: cell(w.sent), done: cell(w.done) })),
    },
    needs: {
      total: cell(r.needs.total),
      by_area: Object.fromEntries(Object.entries(r.needs.by_area).map(([k, v]) => [k, publicTimed(v)])),
      by_urgency: Object.fromEntries(Object.entries(r.needs.by_urgency).map(([k, v]) => [k, publicTimed(v)])),
      weekly: r.needs.weekly.map((w) => ({
        week: w.week, areas: cells(w.areas), taken: cell(w.taken ?? 0), resolved: cell(w.resolved ?? 0),
        median_take_hours: median(w.median_take_hours ?? null, w.taken ?? 0), median_resolve_hours: median(w.median_resolve_hours ?? null, w.resolved ?? 0),
      })),
    },
    questions: { answered: cell(r.questions.answered), helped: cell(r.questions.helped), forwarded: cell(r.questions.forwarded) },
    calls: {
      following: cell(r.calls.following), applied: cell(r.calls.applied),
      by_kind: Object.fromEntries(Object.entries(r.calls.by_kind).map(([k, v]) => [k, { following: cell(v.following), applied: cell(v.applied) }])),
    },
    broadcasts: {
      total: b.total, recipients: cell(b.recipients), queued: cell(b.queued), sent: cell(b.sent), delivered: cell(b.delivered), read: cell(b.read),
      failed: cell(b.failed), held: cell(b.held), cancelled: cell(b.cancelled), waiting: cell(b.waiting), skipped: cell(b.skipped), fallback: cell(b.fallback),
    },
  };
  return shown as PublicReport;
}

/** Where a cell sorts among others: "<5" below any shown figure but 0; ties go by name, so the order tells nothing more. */
export const cellRank = (c: Cell): number => (c === '<5' ? 0.5 : c);
/** The cell's number for scaling a chart; a "<5" draws no bar (its length would tell the value). */
const drawn = (c: Cell): number => (c === '<5' ? 0 : c);

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** --from/--to as given, or this month so far (Rome); an error names what is wrong. */
export function periodOf(from: string | undefined, to: string | undefined, now: Date): { from: string; to: string } | { error: string } {
  const today = romeDay(now);
  for (const [name, v] of [['from', from], ['to', to]] as const) {
    if (v !== undefined && (!ISO_DAY.test(v) || !isValid(parseISO(v)))) return { error: `${name} must be a date like ${today}` };
  }
  const end = to ?? today;
  const start = from ?? format(startOfMonth(inRome(parseISO(`${end}T12:00:00`))), 'yyyy-MM-dd');
  if (start > end) return { error: 'from must not be after to' };
  return { from: start, to: end };
}

const BAR = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
/** A horizontal Unicode bar, `width` characters for the largest value. */
export function bar(value: number, max: number, width = 24): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + BAR[eighths % 8];
}

const SPARK = '▁▂▃▄▅▆▇█';
/** One character a week: · none, ▁…█ to scale, ░ fewer than five (shown, never scaled). */
export function sparkline(values: Cell[]): string {
  const max = Math.max(0, ...values.map(drawn));
  return values.map((v) => (v === '<5' ? '░' : max === 0 || v === 0 ? '·' : SPARK[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
}

const sorted = (c: Cells) => Object.entries(c).sort((a, b) => cellRank(b[1]) - cellRank(a[1]) || a[0].localeCompare(b[0]));
const hours = (h: number | null) => (h === null || h === undefined ? '–' : h < 48 ? `${h} h` : `${Math.round((h / 24) * 10) / 10} d`);
/** A share; none when either part is "<5" (the share would give it back). */
const pct = (a: Cell, b: Cell) => (a === '<5' || b === '<5' ? '–' : a + b > 0 ? `${Math.round((a / (a + b)) * 100)}%` : '–');

function mdCounts(title: string, c: Cells): string[] {
  const rows = sorted(c);
  const max = Math.max(0, ...rows.map(([, n]) => drawn(n)));
  return [`| ${title} | n | |`, '|---|---:|---|', ...rows.map(([k, n]) => `| ${k} | ${n} | ${bar(drawn(n), max)} |`), ''];
}

function markdown(r: PublicReport): string {
  const areas = [...new Set(r.needs.weekly.flatMap((w) => Object.keys(w.areas)))].sort();
  const remMax = Math.max(0, ...r.reminders.weekly.flatMap((w) => [drawn(w.sent), drawn(w.done)]));
  const timed = (title: string, rows: Record<string, PublicTimed>) => [
    `| ${title} | opened | urgent | taken in charge | resolved | median time to take charge | median time to resolve |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(rows).sort((a, b) => cellRank(b[1].total) - cellRank(a[1].total) || a[0].localeCompare(b[0])).map(([k, v]) => `| ${k} | ${v.total} | ${v.urgent ?? '–'} | ${v.taken} | ${v.resolved} | ${hours(v.median_take_hours)} | ${hours(v.median_resolve_hours)} |`),
    '',
  ];
  const b = r.broadcasts;
  return [
    `# Programme report, ${r.period.from} to ${r.period.to}`,
    '',
    'Counts only: no names, numbers or messages. Tutors appear by reference (T-n); "queue" = families waiting for a tutor.',
    `Figures from 1 to 4 are shown as "<5" and carry no bar; a median over fewer than ${SMALL_CELL} needs is not given (–).`,
    '',
    '## Families and children followed',
    '',
    `- Families: **${r.families.total}** (${r.families.new} new in the period)`,
    `- Children 0–6 and pregnancies: **${r.children.total}** (${r.children.new} new in the period)`,
    '',
    ...mdCounts('Families by language', r.families.by_language),
    ...mdCounts('Families by district', r.families.by_district),
    ...mdCounts('Families by tutor', r.families.by_tutor),
    ...mdCounts('Families by channel', r.families.by_channel),
    ...mdCounts('Children by language', r.children.by_language),
    ...mdCounts('Children by district', r.children.by_district),
    ...mdCounts('Children by tutor', r.children.by_tutor),
    ...mdCounts('Children by channel', r.children.by_channel),
    '## Reminders',
    '',
    `- Reminders sent: **${r.reminders.sent}**; vaccinations and check-ups confirmed done: **${r.reminders.done}**`,
    `- Mandatory vaccinations past their window and not confirmed: **${r.reminders.mandatory_overdue}** (${r.reminders.children_mandatory_overdue} children)`,
    '',
    'Reminders sent (▓) and confirmed done (█) per week:',
    '',
    '```',
    ...r.reminders.weekly.flatMap((w) => [`${w.week}  sent ${String(w.sent).padStart(5)} ${bar(drawn(w.sent), remMax).replace(/█/g, '▓')}`, `            done ${String(w.done).padStart(5)} ${bar(drawn(w.done), remMax)}`]),
    '```',
    '',
    '## Needs',
    '',
    `- Needs opened: **${r.needs.total}**`,
    '',
    ...timed('Area', r.needs.by_area),
    ...timed('Urgency', r.needs.by_urgency),
    'Needs opened per area, week by week (from ' + (r.needs.weekly[0]?.week ?? r.period.from) + '; ░ = fewer than 5):',
    '',
    '```',
    ...areas.map((a) => `${a.padEnd(11)} ${sparkline(r.needs.weekly.map((w) => w.areas[a] ?? 0))}  ${r.needs.by_area[a]?.total ?? '–'}`),
    ...(areas.length ? [] : ['(none)']),
    '```',
    '',
    '## Questions',
    '',
    `- Answered by the knowledge base: **${r.questions.answered}** (${r.questions.helped} said it helped); forwarded to a tutor: **${r.questions.forwarded}**; answered automatically: ${pct(r.questions.answered, r.questions.forwarded)}`,
    '',
    '## Nido and housing calls',
    '',
    `- Families following a call: **${r.calls.following}**; applications made in the period: **${r.calls.applied}**`,
    '',
    '| Call kind | following | applied |',
    '|---|---:|---:|',
    ...Object.entries(r.calls.by_kind).sort().map(([k, v]) => `| ${k} | ${v.following} | ${v.applied} |`),
    '',
    '## Broadcasts',
    '',
    `- Broadcasts released: **${b.total}**, meant for ${b.recipients} contacts: ${b.skipped} skipped (paused or unreachable), ${b.queued} queued`,
    `- Messages that left: **${b.sent}** (${b.fallback} of them in Italian to someone of another language); ${b.delivered} delivered and ${b.read} read (WhatsApp reports these)`,
    `- Messages that did not leave: ${b.failed} failed, ${b.held} held (outside WhatsApp's 24 hours, no approved template), ${b.cancelled} cancelled, ${b.waiting} still to send`,
    '',
  ].join('\n');
}

const csvCell = (v: Cell | string) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

function csv(r: PublicReport): string {
  const rows: (Cell | string)[][] = [['section', 'breakdown', 'key', 'measure', 'value']];
  const add = (section: string, breakdown: string, key: string, measure: string, value: Cell | null) => rows.push([section, breakdown, key, measure, value ?? '']);
  for (const who of ['families', 'children'] as const) {
    const s = r[who];
    add(who, 'all', '', 'total', s.total);
    add(who, 'all', '', 'new', s.new);
    for (const [b, c] of [['language', s.by_language], ['district', s.by_district], ['tutor', s.by_tutor], ['channel', s.by_channel]] as const) for (const [k, n] of sorted(c)) add(who, b, k, 'total', n);
  }
  add('reminders', 'all', '', 'sent', r.reminders.sent);
  add('reminders', 'all', '', 'done', r.reminders.done);
  add('reminders', 'all', '', 'mandatory_overdue', r.reminders.mandatory_overdue);
  add('reminders', 'all', '', 'children_mandatory_overdue', r.reminders.children_mandatory_overdue);
  for (const w of r.reminders.weekly) {
    add('reminders', 'week', w.week, 'sent', w.sent);
    add('reminders', 'week', w.week, 'done', w.done);
  }
  add('needs', 'all', '', 'total', r.needs.total);
  for (const [b, c] of [['area', r.needs.by_area], ['urgency', r.needs.by_urgency]] as const) {
    for (const [k, v] of Object.entries(c)) for (const m of ['total', 'urgent', 'taken', 'resolved', 'median_take_hours', 'median_resolve_hours'] as const) if (v[m] !== undefined) add('needs', b, k, m, v[m] ?? null);
  }
  for (const w of r.needs.weekly) for (const [a, n] of Object.entries(w.areas)) add('needs', 'week_area', `${w.week} ${a}`, 'total', n);
  for (const m of ['answered', 'helped', 'forwarded'] as const) add('questions', 'all', '', m, r.questions[m]);
  add('calls', 'all', '', 'following', r.calls.following);
  add('calls', 'all', '', 'applied', r.calls.applied);
  for (const [k, v] of Object.entries(r.calls.by_kind)) {
    add('calls', 'kind', k, 'following', v.following);
    add('calls', 'kind', k, 'applied', v.applied);
  }
  for (const m of ['total', 'recipients', 'queued', 'sent', 'delivered', 'read', 'failed', 'held', 'cancelled', 'waiting', 'skipped', 'fallback'] as const) add('broadcasts', 'all', '', m, r.broadcasts[m]);
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** The report as shown (publicFigures applied): a Markdown page with Unicode-bar charts, or long-format CSV for a spreadsheet. */
export function renderReport(r: PublicReport, as: 'md' | 'csv'): string {
  return as === 'md' ? markdown(r) : csv(r);
}
