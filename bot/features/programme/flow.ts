import type { TFunction } from 'i18next';
import { cellRank, periodOf, publicFigures, type Cell, type ProgrammeReport } from './report';
import { ask, call, type Effect, type FlowContext, type StaffProfile, type Turn } from '../../core/context';
import { formatDate, languageName, staffRef } from '../../core/format';
import { parseRef, staffDone } from '../../core/staff-ui';

const top = (c: Record<string, Cell>, n = 5) => Object.entries(c).sort((a, b) => cellRank(b[1]) - cellRank(a[1]) || a[0].localeCompare(b[0])).slice(0, n);
const hours = (t: TFunction, h: number | null | undefined) => (h === null || h === undefined ? '–' : h < 48 ? t('report.hours', { count: Math.round(h) }) : t('report.days', { count: Math.round(h / 24) }));

/** /report [from] [to]: the programme's main figures in chat; the full page is `npm run report` or GET /api/report. */
export async function programmeReport(ctx: FlowContext, staff: StaffProfile, args: string[]): Promise<Turn> {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const period = periodOf(args[0], args[1], ctx.now);
  if ('error' in period) return staffDone(ctx, t('staff.usage', { example: '/report 2026-11-01 2026-11-30' }));
  // small cells as "<5" (a count passed as a string is not pluralised: these lines carry no plural forms)
  const r = publicFigures(await call<ProgrammeReport>(ctx.deps.db, 'staff_programme_report', { p_contact_id: ctx.contact.id, p_from: period.from, p_to: period.to, p_now: ctx.now.toISOString() }));
  const urgent = r.needs.by_urgency.urgent;
  const normal = r.needs.by_urgency.normal;
  const lines = [
    t('report.title', { from: formatDate(lng, r.period.from), to: formatDate(lng, r.period.to) }),
    t('report.families', { count: r.families.total, new: r.families.new, children: r.children.total }),
    t('report.languages', { list: top(r.families.by_language).map(([l, n]) => `${l === '-' ? '–' : languageName(lng, l)} ${n}`).join(', ') }),
    t('report.tutors', { list: top(r.families.by_tutor, 8).map(([k, n]) => `${k === 'queue' ? t('report.queue') : k} ${n}`).join(', ') }),
    t('report.reminders', { sent: r.reminders.sent, done: r.reminders.done }),
    t('report.overdue', { count: r.reminders.mandatory_overdue, children: r.reminders.children_mandatory_overdue }),
    t('report.needs', { count: r.needs.total, areas: top(Object.fromEntries(Object.entries(r.needs.by_area).map(([k, v]) => [k, v.total]))).map(([k, n]) => `${t(`needs.category.${k}`, { defaultValue: k })} ${n}`).join(', ') }),
    urgent ? t('report.needTimes', { urgency: t('report.urgent'), take: hours(t, urgent.median_take_hours), resolve: hours(t, urgent.median_resolve_hours) }) : '',
    normal ? t('report.needTimes', { urgency: t('report.normal'), take: hours(t, normal.median_take_hours), resolve: hours(t, normal.median_resolve_hours) }) : '',
    t('report.questions', { answered: r.questions.answered, forwarded: r.questions.forwarded }),
    t('report.calls', { following: r.calls.following, applied: r.calls.applied }),
    t('report.broadcasts', { count: r.broadcasts.total, sent: r.broadcasts.sent, failed: r.broadcasts.failed, skipped: r.broadcasts.skipped }),
    t('report.full'),
  ];
  return staffDone(ctx, lines.filter(Boolean).join('\n'));
}

/** /deactivate T-n asks first; the confirmed tap ends her assignments (families to the queue) and returns her open needs. */
export async function deactivateTurn(ctx: FlowContext, staff: StaffProfile, arg: string | undefined): Promise<Turn> {
  const { t } = ctx;
  const ref = parseRef(arg, 'T');
  if (ref === undefined) return staffDone(ctx, t('staff.usage', { example: '/deactivate T-3' }));
  const member = await call<{ id: string; ref: number; name: string } | null>(ctx.deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: ref });
  if (!member) return staffDone(ctx, t('staff.unknownTutor', { tutor: arg }));
  if (member.id === staff.id) return staffDone(ctx, t('programme.notYourself'));
  const choices = [{ id: `deact:${ref}`, label: t('programme.deactivateYes') }, { id: 'deact:no', label: t('programme.deactivateNo') }];
  return ask(t('programme.deactivateAsk', { tutor: staffRef(ref), name: member.name }), choices, { step: 'staff' });
}

export async function deactivateConfirmed(ctx: FlowContext, staff: StaffProfile): Promise<Turn | undefined> {
  if (ctx.choice === 'deact:no') return staffDone(ctx, ctx.t('staff.deactivateKept'));
  const m = /^deact:(\d{1,9})$/.exec(ctx.choice ?? '');
  if (!m) return undefined;
  const { t } = ctx;
  if (staff.role !== 'coordinator') return staffDone(ctx, t('staff.notAllowed'));
  const out = await call<{ ref: number; name: string; already: boolean; families: number; needs: number } | null>(ctx.deps.db, 'staff_deactivate_preview', { p_contact_id: ctx.contact.id, p_staff_ref: Number(m[1]) });
  if (!out) return staffDone(ctx, t('staff.unknownTutor', { tutor: staffRef(Number(m[1])) }));
  if (out.already) return staffDone(ctx, t('programme.alreadyInactive', { tutor: staffRef(out.ref) }));
  const queue = out.families ? [{ id: 'staff:queue', label: t('staff.menuQueue') }] : [];
  const deactivate: Effect = { op: 'staff.deactivate', staff_ref: out.ref };
  return { ...staffDone(ctx, t('staff.deactivated', { tutor: staffRef(out.ref), name: out.name, families: out.families, needs: out.needs }), queue), effects: [deactivate] };
}
