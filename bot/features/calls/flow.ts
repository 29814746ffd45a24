import type { TFunction } from 'i18next';
import { differenceInCalendarDays, parseISO } from 'date-fns';
import type { Choice, Reply } from '../../core/types';
import type { Language } from '../../i18n';
import { itemLabel } from '../../care/reminders';
import { ask, call,  type Effect, type FlowContext, type StaffProfile, type Turn } from '../../core/context';
import { euros, firstName, formatDate, needRef } from '../../core/format';
import { openNeed } from '../../core/needs';
import { staffDone } from '../../core/staff-ui';
import { eligibility, forFamily, kindName, questionsFor, type Answer, type CallArea, type CallRow } from '../../core/calls';

const shortLabel = (t: TFunction, lng: Language, c: CallRow, q: string) => t(`calls.short.${q}`, { amount: c.isee_max != null ? euros(lng, c.isee_max) : '' });

/** When she can apply, in words: opens on…, open until…, closes in 3 days, no deadline. */
export function deadlineText(t: TFunction, lng: Language, c: Pick<CallRow, 'opens_on' | 'closes_on'>, today: string): string {
  if (c.opens_on && c.opens_on > today) {
    return [t('calls.opensOn', { date: formatDate(lng, c.opens_on) }), c.closes_on ? t('calls.openUntil', { date: formatDate(lng, c.closes_on) }) : undefined].filter(Boolean).join(', ');
  }
  if (!c.closes_on) return t('calls.noDeadline');
  const left = differenceInCalendarDays(parseISO(c.closes_on), parseISO(today));
  if (left < 0) return t('calls.closed');
  if (left === 0) return t('calls.closesToday');
  if (left <= 7) return `${t('calls.closesIn', { count: left })} (${formatDate(lng, c.closes_on)})`;
  return t('calls.openUntil', { date: formatDate(lng, c.closes_on) });
}

/** The gentle warning for each child whose mandatory vaccinations look incomplete: it blocks nido. */
function vaccineWarnings(ctx: FlowContext, calls: CallRow[]): string[] {
  const seen = new Map<string, string>();
  for (const c of calls.filter((x) => x.area === 'nido')) {
    for (const child of c.children) {
      if (!child.missing_vaccines.length || seen.has(child.id)) continue;
      seen.set(child.id, ctx.t('calls.vaccineWarning', { child: child.name ?? ctx.t('children.unnamed'), items: child.missing_vaccines.map((v) => itemLabel(ctx.t, v)).join('; ') }));
    }
  }
  return [...seen.values()];
}

async function findCall(ctx: FlowContext, code: string): Promise<CallRow | undefined> {
  return (await forFamily(ctx, null)).find((c) => c.code === code);
}

/** The nido or housing menu: the calls that fit her family now, each with its deadline. */
export async function listCalls(ctx: FlowContext, area: CallArea, lead?: string): Promise<Turn> {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const family = ctx.contact.family!;
  const calls = await forFamily(ctx, area);
  const hints: string[] = [];
  if (area === 'nido' && !family.children.length) hints.push(t('calls.noChildren'));
  if (area === 'housing' && !family.district_code) hints.push(t('calls.noDistrict'));
  const evicted: Choice[] = area === 'housing' ? [{ id: 'call:evicted', label: t('calls.btnEvicted') }] : [];
  const back: Choice = { id: 'menu', label: t('menu.back') };
  if (!calls.length) {
    const text = [lead, t(area === 'nido' ? 'calls.noneNido' : 'calls.noneHousing'), ...hints].filter(Boolean).join('\n\n');
    return ask(text, [...evicted, back], { step: 'calls' });
  }
  const sameKind = (k: string) => calls.filter((c) => c.kind === k).length > 1;
  const lines = calls.map((c) => `• ${kindName(t, c.kind)}${sameKind(c.kind) ? ` (${c.title_it})` : ''}: ${c.follow?.applied_at ? '✅' : deadlineText(t, lng, c, ctx.today)}`);
  const text = [lead, [t(area === 'nido' ? 'calls.nidoHead' : 'calls.housingHead'), ...lines].join('\n'), ...vaccineWarnings(ctx, calls), ...hints, t('calls.choose')].filter(Boolean).join('\n\n');
  const choices: Choice[] = [
    ...calls.map((c) => ({ id: `call:show:${c.code}`, label: sameKind(c.kind) ? `${kindName(t, c.kind)} – ${c.title_it}` : kindName(t, c.kind) })),
    ...evicted,
    back,
  ];
  return ask(text, choices, { step: 'calls' });
}

/** The buttons under a call: eligibility, documents, reminders, help, "I applied", back. */
function cardChoices(t: TFunction, c: CallRow): Choice[] {
  const applied = !!c.follow?.applied_at;
  const dated = !!c.closes_on;
  return [
    ...(questionsFor(c).length ? [{ id: `call:elig:${c.code}`, label: t('calls.btnEligible') }] : []),
    ...(c.documents.length ? [{ id: `call:docs:${c.code}`, label: t('calls.btnDocs') }] : []),
    ...(dated && !applied ? [c.follow?.following ? { id: `call:unfollow:${c.code}`, label: t('calls.btnUnfollow') } : { id: `call:follow:${c.code}`, label: t('calls.btnFollow') }] : []),
    { id: `call:help:${c.code}`, label: t('calls.btnHelp') },
    ...(!applied ? [{ id: `call:applied:${c.code}`, label: t('calls.btnApplied') }] : []),
    { id: `call:list:${c.area}`, label: t('calls.btnBack') },
  ];
}

/** One call in plain words: what it is, deadline, who it is for, how to apply, her progress. */
export function callCard(ctx: FlowContext, c: CallRow): string {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const done = c.follow?.docs.length ?? 0;
  const who = c.children.length
    ? t('calls.forChildren', { children: c.children.map((ch) => ch.name ?? t('children.unnamed')).join(', ') })
    : c.child_max_months != null && c.age_on
      ? t('calls.forAge', { from: c.child_min_months ?? 0, to: c.child_max_months, date: formatDate(lng, c.age_on) })
      : c.child_max_months != null ? t('calls.forAgeNow', { to: c.child_max_months }) : undefined;
  const how = c.apply_how.map((h) => t(`calls.apply.${h}`)).join('; ');
  return [
    `${kindName(t, c.kind)} (${c.title_it})`,
    t(`calls.kind.${c.kind}.what`),
    t('calls.deadline', { when: deadlineText(t, lng, c, ctx.today) }),
    who,
    c.isee_max != null ? t('calls.iseeMax', { amount: euros(lng, c.isee_max) }) : undefined,
    c.residence ? t(`calls.residence.${c.residence}`) : undefined,
    c.permit ? t(`calls.permit.${c.permit}`) : undefined,
    how ? t('calls.howToApply', { how }) : undefined,
    c.apply_url ? t('calls.link', { url: c.apply_url }) : undefined,
    c.documents.length ? t('calls.docsProgress', { done, total: c.documents.length }) : undefined,
    c.follow?.applied_at ? t('calls.appliedOn', { date: formatDate(lng, c.follow.applied_at.slice(0, 10)) }) : c.follow?.following ? t('calls.following') : undefined,
    ...vaccineWarnings(ctx, [c]),
    c.unverified ? t('needs.checkWithService') : undefined,
    t('calls.checkedOn', { date: formatDate(lng, c.checked_on) }),
  ].filter(Boolean).join('\n');
}

function showCall(ctx: FlowContext, c: CallRow, lead?: string): Turn {
  return ask([lead, callCard(ctx, c)].filter(Boolean).join('\n\n'), cardChoices(ctx.t, c), { step: 'calls', code: c.code });
}

/** Short answers after a lead line, with the call's buttons, without printing the whole card again. */
const afterCard = (ctx: FlowContext, c: CallRow, text: string, effects: Effect[] = []): Turn => ({ ...ask(text, cardChoices(ctx.t, c), { step: 'calls', code: c.code }), effects });

/** The checklist: each document ticked or not, and where to get the missing ones. */
function checklist(ctx: FlowContext, c: CallRow, docs: string[], lead?: string): Turn {
  const { t } = ctx;
  const missing = c.documents.filter((d) => !docs.includes(d));
  const lines = c.documents.map((d) => `${docs.includes(d) ? '✅' : '⬜'} ${t(`calls.doc.${d}`)}`);
  const where = missing.length
    ? [t('calls.docsWhere'), ...missing.map((d) => `• ${t(`calls.doc.${d}`)}: ${t(`calls.where.${d}`)}`)].join('\n')
    : t('calls.docsAll');
  const text = [lead, [t('calls.docsHead', { title: kindName(t, c.kind) }), ...lines].join('\n'), where].filter(Boolean).join('\n\n');
  const choices: Choice[] = [
    ...c.documents.map((d) => ({ id: `call:doc:${c.code}:${d}`, label: `${docs.includes(d) ? '✅' : '⬜'} ${t(`calls.doc.${d}`)}` })),
    { id: `call:show:${c.code}`, label: t('calls.btnBack') },
  ];
  return ask(text, choices, { step: 'calls', code: c.code });
}

function askQuestion(ctx: FlowContext, c: CallRow, index: number, lead?: string): Turn {
  const { t } = ctx;
  const q = questionsFor(c)[index]!;
  const amount = c.isee_max != null ? euros(ctx.contact.language, c.isee_max) : '';
  const text = [lead, t(`calls.q.${q}`, { amount }), q === 'isee' ? t('calls.iseeHint') : undefined].filter(Boolean).join('\n\n');
  const choices: Choice[] = (['yes', 'no', 'unsure'] as const).map((a) => ({ id: `call:ans:${c.code}:${index}:${a}`, label: t(`calls.${a}`) }));
  return ask(text, choices, { step: 'calls', code: c.code });
}

/** What her answers mean, in her language. */
function verdictText(ctx: FlowContext, c: CallRow, answers: Record<string, Answer>): string {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const e = eligibility(c, answers);
  if (e.verdict === 'none') return t('calls.noConditions');
  if (e.verdict === 'likely') return t('calls.likely');
  if (e.verdict === 'unlikely') return t('calls.unlikely', { reasons: e.no.map((q) => shortLabel(t, lng, c, q)).join(', ') });
  return [t('calls.unclear', { reasons: e.unsure.map((q) => shortLabel(t, lng, c, q)).join(', ') }), e.unsure.includes('isee') ? t('calls.iseeHint') : undefined].filter(Boolean).join('\n');
}

/** The lines her tutor reads with a "help me apply" request, in the reader's language. */
export function staffHelpContext(t: TFunction, lng: Language, c: CallRow, today: string): string {
  const answers = c.follow?.answers ?? {};
  const questions = questionsFor(c);
  const answered = questions.filter((q) => answers[q]);
  const docs = c.follow?.docs ?? [];
  const missing = c.documents.filter((d) => !docs.includes(d));
  return [
    t('calls.staffHelp', { title: c.title_it, when: deadlineText(t, lng, c, today) }),
    answered.length ? t('calls.staffAnswers', { answers: answered.map((q) => `${shortLabel(t, lng, c, q)}: ${t(`calls.${answers[q]}`)}`).join('; ') }) : questions.length ? t('calls.staffNoAnswers') : undefined,
    c.documents.length ? t('calls.staffDocs', { done: c.documents.length - missing.length, total: c.documents.length, missing: missing.map((d) => t(`calls.doc.${d}`)).join(', ') || '–' }) : undefined,
  ].filter(Boolean).join('\n');
}

/** "Help me apply": a need for her tutor with the call, her answers and her checklist; her tutor can mark it applied. */
async function helpToApply(ctx: FlowContext, c: CallRow): Promise<Turn> {
  const { t } = ctx;
  if (c.follow?.help_need) return afterCard(ctx, c, t('calls.helpAlready', { need: needRef(c.follow.help_need.ref) }));
  const opened = await openNeed(ctx, {
    kind: 'need', category: c.area === 'nido' ? 'education' : 'housing', urgency: 'normal', source: 'menu',
    details: { call_id: c.id, call: c.code, kind: c.kind, title_it: c.title_it, answers: c.follow?.answers ?? {}, docs: c.follow?.docs ?? [] },
    context: (tt, lng) => staffHelpContext(tt, lng, c, ctx.today),
    actions: (tt, ref) => staffCallActions(tt, ref),
  });
  const tutor = ctx.contact.family?.tutor;
  const sent = t(tutor ? 'calls.helpSent' : 'calls.helpSentNoTutor', { tutor: tutor ? firstName(tutor.name) : '', title: kindName(t, c.kind), need: needRef(opened.ref) });
  return { ...ctx.menus.main(ctx, sent), effects: [...opened.effects, { op: 'calls.help', call_id: c.id, need_id: opened.id }] };
}

/** The buttons staff get on a "help me apply" request. */
export const staffCallActions = (t: TFunction, ref: number): Choice[] => [
  { id: `callneed:applied:${ref}`, label: t('calls.staffApplied') },
  { id: `callneed:result:${ref}`, label: t('calls.staffResult') },
];

/** Her side: the nido and housing menus, a call's card, eligibility questions, the checklist, reminders, help, "I applied". */
export async function callsStep(ctx: FlowContext): Promise<Turn | undefined> {
  const { t } = ctx;
  if (!ctx.contact.family) return undefined;
  if (ctx.choice === 'menu:nido') return listCalls(ctx, 'nido');
  if (ctx.choice === 'menu:housing') return listCalls(ctx, 'housing');
  const m = /^call:(list|show|elig|ans|docs|doc|follow|unfollow|help|applied):([a-z0-9-]+)(?::([a-z0-9_:]+))?$/.exec(ctx.choice ?? '');
  if (!m) return undefined;
  const [, verb, arg, rest] = m as unknown as [string, string, string, string | undefined];
  if (verb === 'list') return listCalls(ctx, arg === 'housing' ? 'housing' : 'nido');
  const c = await findCall(ctx, arg);
  if (!c) return ctx.menus.main(ctx, t('calls.notFound'));
  const follow = c.follow ?? { following: false, docs: [], answers: {}, applied_at: null, outcome: null, ranking: null, help_need: null };
  switch (verb) {
    case 'show': return showCall(ctx, c);
    case 'elig': {
      if (!questionsFor(c).length) return afterCard(ctx, c, t('calls.noConditions'));
      return askQuestion(ctx, c, 0, t('calls.eligIntro'));
    }
    case 'ans': {
      const [index, answer] = (rest ?? '').split(':') as [string, Answer];
      const questions = questionsFor(c);
      const i = Number(index);
      if (!(i >= 0 && i < questions.length) || !['yes', 'no', 'unsure'].includes(answer)) return showCall(ctx, c);
      const answers = { ...follow.answers, [questions[i]!]: answer };
      const effects: Effect[] = [{ op: 'calls.answers', call_id: c.id, answers }];
      if (i + 1 < questions.length) return { ...askQuestion(ctx, c, i + 1), effects };
      return afterCard(ctx, { ...c, follow: { ...follow, answers } }, verdictText(ctx, c, answers), effects);
    }
    case 'docs': return checklist(ctx, c, follow.docs);
    case 'doc': {
      if (!rest || !c.documents.includes(rest)) return checklist(ctx, c, follow.docs);
      const docs = follow.docs.includes(rest) ? follow.docs.filter((d) => d !== rest) : [...follow.docs, rest];
      return { ...checklist(ctx, c, docs), effects: [{ op: 'calls.docs', call_id: c.id, docs }] };
    }
    case 'follow':
    case 'unfollow': {
      const on = verb === 'follow';
      const next = { ...c, follow: { ...follow, following: on } };
      return afterCard(ctx, next, t(on ? 'calls.followOn' : 'calls.followOff', { title: kindName(t, c.kind) }), [{ op: 'calls.follow', call_id: c.id, on }]);
    }
    case 'applied':
      if (follow.applied_at) return afterCard(ctx, c, t('calls.appliedOn', { date: formatDate(ctx.contact.language, follow.applied_at.slice(0, 10)) }));
      return { ...ctx.menus.main(ctx, t('calls.appliedOk', { title: kindName(t, c.kind) })), effects: [{ op: 'calls.applied', call_id: c.id }] };
    case 'help': return helpToApply(ctx, c);
    default: return undefined;
  }
}

interface CallNeedCard {
  id: string;
  ref: number;
  status: string;
  details: { call_id?: string; kind?: string; title_it?: string };
  family: { ref: number };
  contacts: { contact_id: string; language: Language }[];
}

interface StaffCallLine {
  code: string;
  kind: string;
  title_it: string;
  opens_on: string | null;
  closes_on: string | null;
  following: number;
  applied: number;
}

const RESULTS = ['admitted', 'ranked', 'refused'] as const;

const staffCallList = (ctx: FlowContext) => call<StaffCallLine[]>(ctx.deps.db, 'staff_calls', { p_contact_id: ctx.contact.id, p_today: ctx.today });

/** /calls: the calls not closed or past, with how many families follow and applied. */
export async function staffCalls(ctx: FlowContext): Promise<Turn> {
  const { t } = ctx;
  const list = await staffCallList(ctx);
  if (!list.length) return staffDone(ctx, t('calls.staffListEmpty'));
  return staffDone(ctx, [t('calls.staffListHead'), ...list.map((c) => t('calls.staffListLine', { code: c.code, title: c.title_it, when: deadlineText(t, ctx.contact.language, c, ctx.today), following: c.following, applied: c.applied }))].join('\n'));
}

/** /closecall CODE (coordinators): families stop seeing it, its waiting notices are dropped. */
export async function staffCloseCall(ctx: FlowContext, staff: StaffProfile, arg: string | undefined): Promise<Turn> {
  const { t } = ctx;
  const code = arg?.toLowerCase();
  if (!code) return staffDone(ctx, t('calls.staffCloseUsage'));
  if (!(await staffCallList(ctx)).some((c) => c.code === code)) return staffDone(ctx, t('calls.staffUnknownCall', { code }));
  return { ...staffDone(ctx, t('calls.staffCloseOk', { code })), effects: [{ op: 'calls.close', code }] };
}

/** Staff on a "help me apply" request: applied, and the result. */
export async function staffCallsTurn(ctx: FlowContext, staff: StaffProfile): Promise<Turn | undefined> {
  const { t, deps } = ctx;
  const menu = (lead?: string) => (lead ? staffDone(ctx, lead) : ctx.menus.staff(ctx, staff));
  const state = ctx.contact.conversation as { step?: string; needRef?: number };

  const tap = /^callneed:(applied|result|outcome):(\d+)(?::(\w+))?$/.exec(ctx.choice ?? '');
  const ranking = state.step === 'staff.callRank' && !ctx.choice && !ctx.text.startsWith('/') ? state.needRef : undefined;
  if (!tap && ranking === undefined) return undefined;
  const ref = tap ? Number(tap[2]) : ranking!;
  const card = await call<CallNeedCard | null>(deps.db, 'need_card', { p_contact_id: ctx.contact.id, p_need_ref: ref, p_now: ctx.now.toISOString() });
  if (!card) return menu(t('staff.unknownNeed', { need: needRef(ref) }));
  if (!card.details.call_id) return menu(t('calls.notACallNeed'));
  const title = card.details.title_it ?? '';
  const family = card.family.ref;

  if (ranking !== undefined) {
    const position = /^\d{1,6}$/.test(ctx.text.trim()) ? Number(ctx.text.trim()) : 0;
    if (position < 1) return { replies: [{ text: t('calls.staffAskRank') }], conversation: state };
    const result = t('calls.staffRankedAt', { position });
    return { ...menu(t('calls.staffResultOk', { family, result })), effects: [{ op: 'calls.outcome', need_id: card.id, outcome: 'ranked', ranking: position }] };
  }
  const [, verb, , arg] = tap!;
  if (verb === 'applied') {
    const effects: Effect[] = [{ op: 'calls.staff_applied', need_id: card.id }];
    for (const c of card.contacts) {
      const tt = deps.i18n.t(c.language);
      effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `call:${card.details.call_id}:applied-by-staff:${c.contact_id}`, kind: 'notice', payload: { text: tt('calls.appliedByTutor', { title: kindName(tt, card.details.kind ?? '') }) } });
    }
    return { ...menu(t('calls.staffAppliedOk', { family, title })), effects };
  }
  if (verb === 'result') {
    const choices: Choice[] = RESULTS.map((r) => ({ id: `callneed:outcome:${ref}:${r}`, label: t(`calls.result${r[0]!.toUpperCase()}${r.slice(1)}`) }));
    return ask(t('calls.staffAskResult', { title, family }), choices, { step: 'staff' });
  }
  const outcome = RESULTS.find((r) => r === arg);
  if (!outcome) return menu(t('staff.unknownCommand'));
  if (outcome === 'ranked') return { replies: [{ text: t('calls.staffAskRank') }], conversation: { step: 'staff.callRank', needRef: ref } };
  const result = t(`calls.result${outcome[0]!.toUpperCase()}${outcome.slice(1)}`);
  return { ...menu(t('calls.staffResultOk', { family, result })), effects: [{ op: 'calls.outcome', need_id: card.id, outcome }] };
}

/** A call's notice for a mother, and what the job sends: the call's name, its closing date, the buttons. */
export function noticeReply(t: TFunction, lng: Language, c: { code: string; kind: string; closes_on: string }, stage: 'open' | 'close7' | 'close1', today: string): Reply {
  const date = formatDate(lng, c.closes_on);
  const title = kindName(t, c.kind);
  const left = differenceInCalendarDays(parseISO(c.closes_on), parseISO(today));
  const text = stage === 'open' ? t('calls.noticeOpen', { title, date }) : left <= 0 ? t('calls.noticeCloseToday', { title, date }) : t('calls.noticeClose', { title, date, count: left });
  return { text, choices: [{ id: `call:show:${c.code}`, label: t('calls.btnShow') }, { id: `call:applied:${c.code}`, label: t('calls.btnApplied') }] };
}
