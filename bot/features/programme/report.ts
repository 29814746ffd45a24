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

/** What programme_report answers: counts only, never a person. */
export interface ProgrammeReport {
  period: { from: string; to: string };
  families: { total: number; new: number; by_language: Counts; by_district: Counts; by_tutor: Counts };
  children: { total: number; new: number; by_language: Counts; by_district: Counts; by_tutor: Counts };
  reminders: { sent: number; done: number; mandatory_overdue: number; children_mandatory_overdue: number; weekly: { week: string; sent: number; done: number }[] };
  needs: { total: number; by_area: Record<string, Timed>; by_urgency: Record<string, Timed>; weekly: { week: string; areas: Counts }[] };
  questions: { answered: number; helped: number; forwarded: number };
  calls: { following: number; applied: number; by_kind: Record<string, { following: number; applied: number }> };
  broadcasts: { total: number; recipients: number; sent: number; delivered: number; read: number; failed: number; skipped: number };
}

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
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (max === 0 || v === 0 ? '·' : SPARK[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
}

const sorted = (c: Counts) => Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
const hours = (h: number | null) => (h === null || h === undefined ? '–' : h < 48 ? `${h} h` : `${Math.round((h / 24) * 10) / 10} d`);
const pct = (a: number, b: number) => (b > 0 ? `${Math.round((a / b) * 100)}%` : '–');

function mdCounts(title: string, c: Counts): string[] {
  const rows = sorted(c);
  const max = Math.max(0, ...rows.map(([, n]) => n));
  return [`| ${title} | n | |`, '|---|---:|---|', ...rows.map(([k, n]) => `| ${k} | ${n} | ${bar(n, max)} |`), ''];
}

function markdown(r: ProgrammeReport): string {
  const areas = [...new Set(r.needs.weekly.flatMap((w) => Object.keys(w.areas)))].sort();
  const remMax = Math.max(0, ...r.reminders.weekly.flatMap((w) => [w.sent, w.done]));
  const timed = (title: string, rows: Record<string, Timed>) => [
    `| ${title} | opened | urgent | taken in charge | resolved | median time to take charge | median time to resolve |`,
    '|---|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(rows).sort((a, b) => b[1].total - a[1].total).map(([k, v]) => `| ${k} | ${v.total} | ${v.urgent ?? '–'} | ${v.taken} | ${v.resolved} | ${hours(v.median_take_hours)} | ${hours(v.median_resolve_hours)} |`),
    '',
  ];
  return [
    `# Programme report, ${r.period.from} to ${r.period.to}`,
    '',
    'Counts only: no names, numbers or messages. Tutors appear by reference (T-n); "queue" = families waiting for a tutor.',
    '',
    '## Families and children followed',
    '',
    `- Families: **${r.families.total}** (${r.families.new} new in the period)`,
    `- Children 0–6 and pregnancies: **${r.children.total}** (${r.children.new} new in the period)`,
    '',
    ...mdCounts('Families by language', r.families.by_language),
    ...mdCounts('Families by district', r.families.by_district),
    ...mdCounts('Families by tutor', r.families.by_tutor),
    ...mdCounts('Children by language', r.children.by_language),
    ...mdCounts('Children by district', r.children.by_district),
    ...mdCounts('Children by tutor', r.children.by_tutor),
    '## Reminders',
    '',
    `- Reminders sent: **${r.reminders.sent}**; vaccinations and check-ups confirmed done: **${r.reminders.done}**`,
    `- Mandatory vaccinations past their window and not confirmed: **${r.reminders.mandatory_overdue}** (${r.reminders.children_mandatory_overdue} children)`,
    '',
    'Reminders sent (▓) and confirmed done (█) per week:',
    '',
    '```',
    ...r.reminders.weekly.flatMap((w) => [`${w.week}  sent ${String(w.sent).padStart(5)} ${bar(w.sent, remMax).replace(/█/g, '▓')}`, `            done ${String(w.done).padStart(5)} ${bar(w.done, remMax)}`]),
    '```',
    '',
    '## Needs',
    '',
    `- Needs opened: **${r.needs.total}**`,
    '',
    ...timed('Area', r.needs.by_area),
    ...timed('Urgency', r.needs.by_urgency),
    'Needs opened per area, week by week (from ' + (r.needs.weekly[0]?.week ?? r.period.from) + '):',
    '',
    '```',
    ...areas.map((a) => `${a.padEnd(11)} ${sparkline(r.needs.weekly.map((w) => w.areas[a] ?? 0))}  ${r.needs.weekly.reduce((s, w) => s + (w.areas[a] ?? 0), 0)}`),
    ...(areas.length ? [] : ['(none)']),
    '```',
    '',
    '## Questions',
    '',
    `- Answered by the knowledge base: **${r.questions.answered}** (${r.questions.helped} said it helped); forwarded to a tutor: **${r.questions.forwarded}**; answered automatically: ${pct(r.questions.answered, r.questions.answered + r.questions.forwarded)}`,
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
    `- Broadcasts sent: **${r.broadcasts.total}** to ${r.broadcasts.recipients} contacts: ${r.broadcasts.sent} sent, ${r.broadcasts.delivered} delivered and ${r.broadcasts.read} read (WhatsApp reports these), ${r.broadcasts.failed} failed, ${r.broadcasts.skipped} skipped (paused or unreachable)`,
    '',
  ].join('\n');
}

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

function csv(r: ProgrammeReport): string {
  const rows: (string | number)[][] = [['section', 'breakdown', 'key', 'measure', 'value']];
  const add = (section: string, breakdown: string, key: string, measure: string, value: number | null) => rows.push([section, breakdown, key, measure, value ?? '']);
  for (const who of ['families', 'children'] as const) {
    const s = r[who];
    add(who, 'all', '', 'total', s.total);
    add(who, 'all', '', 'new', s.new);
    for (const [b, c] of [['language', s.by_language], ['district', s.by_district], ['tutor', s.by_tutor]] as const) for (const [k, n] of sorted(c)) add(who, b, k, 'total', n);
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
  for (const m of ['total', 'recipients', 'sent', 'delivered', 'read', 'failed', 'skipped'] as const) add('broadcasts', 'all', '', m, r.broadcasts[m]);
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** The report as a Markdown page with Unicode-bar charts, or as long-format CSV for a spreadsheet. */
export function renderReport(r: ProgrammeReport, as: 'md' | 'csv'): string {
  return as === 'md' ? markdown(r) : csv(r);
}
