import type { TFunction } from 'i18next';
import type { Language, Translator } from '../../i18n';
import type { Choice, Reply } from '../../core/types';
import {  call, type ChildRow, type Effect, type FlowContext, type StaffProfile, type Turn } from '../../core/context';
import { codeExpiry, codeLinks, newCode } from '../../core/codes';
import { childrenSummary,  familyRef, firstName, formatDate, languageName, staffRef } from '../../core/format';
import { itemLabel } from '../../care/reminders';
import { needButtons, needLine, type ListedNeed } from '../../core/need-alerts';
import { pageArg, pageOf, parseRef, staffDone } from '../../core/staff-ui';

export interface FamilyCard {
  id: string;
  ref: number;
  district: string | null;
  tutor: { id: string; ref: number; name: string } | null;
  children: ChildRow[];
  contacts: { contact_id: string; language: Language; channel: string }[];
}

interface PlanCard {
  name: string;
  reminders: boolean;
  items: { group_key: string; dose: number; name_it: string; due_on: string; status: string; done_on: string | null; booked_on: string | null }[];
}

export interface StaffMember {
  id: string;
  ref: number;
  name: string;
  role: string;
  contacts: { contact_id: string; language: Language }[];
}

interface TutorLine {
  ref: number;
  name: string;
  families: number;
  open_needs: number;
}


function familyLine(t: TFunction, lng: Language, card: FamilyCard, today: string): string {
  const contact = card.contacts[0];
  return t('staff.familyLine', {
    family: familyRef(card.ref),
    district: card.district ?? t('staff.noDistrict'),
    children: childrenSummary(t, lng, card.children, today),
    language: contact ? languageName(lng, contact.language) : '–',
    channel: contact ? (contact.channel === 'telegram' ? 'Telegram' : 'WhatsApp') : '–',
  });
}

/** A token in the inviter's notice that the database replaces with the new colleague's T-<ref> when she joins. */
const STAFF_REF_TOKEN = '{staff_ref}';

/**
 * The team's commands (/code, /families, /queue, /tutors, /plan, /relink, /assign, /invite). The role is checked
 * by the router for a clear answer, and again in the database for every action.
 */
export async function teamCommand(ctx: FlowContext, staff: StaffProfile, command: string, args: string[]): Promise<Turn> {
  const { t, deps } = ctx;
  const lng = ctx.contact.language;
  const done = (text: string, next?: Choice[]) => staffDone(ctx, text, next);
  const usage = (example: string) => done(t('staff.usage', { example }));
  const p = { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() };
  const fresh = () => (deps.newCode ?? newCode)();
  /** a code's message, then the links that open the bot with it already typed */
  const withLinks = (text: string, code: string) => {
    const links = codeLinks(deps.links, code);
    return [text, links.telegram && t('staff.linkTelegram', { link: links.telegram }), links.whatsapp && t('staff.linkWhatsApp', { link: links.whatsapp })].filter(Boolean).join('\n');
  };

  switch (command) {

    case 'code': {
      let tutorId: string | undefined;
      if (args[0]) {
        const ref = parseRef(args[0], 'T');
        if (ref === undefined) return usage('/code T-3');
        if (staff.role !== 'coordinator') return done(t('staff.notAllowed'));
        const member = await call<StaffMember | null>(deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: ref });
        if (!member) return done(t('staff.unknownTutor', { tutor: args[0] }));
        tutorId = member.id;
      }
      const code = fresh();
      const expires = codeExpiry(ctx.now, 'family');
      const effect: Effect = { op: 'staff.family_code', code, expires_at: expires.toISOString(), ...(tutorId ? { tutor_id: tutorId } : {}) };
      return { ...done(withLinks(t('staff.familyCode', { code, date: formatDate(lng, expires.toISOString()) }), code)), effects: [effect] };
    }

    case 'families': {
      const cards = await call<FamilyCard[]>(deps.db, 'staff_families', p);
      if (!cards.length) return done(t('staff.familiesNone'));
      return done([t('staff.familiesHeader', { count: cards.length }), ...cards.map((c) => familyLine(t, lng, c, ctx.today))].join('\n'));
    }

    case 'queue': return queue(ctx, pageArg(args[0]));

    case 'tutors': {
      const list = await call<TutorLine[]>(deps.db, 'staff_tutors', p);
      if (!list.length) return done(t('staff.tutorsNone'));
      const lines = list.map((s) => t('staff.tutorLineNeeds', { tutor: staffRef(s.ref), name: s.name, count: s.families, needs: s.open_needs }));
      return done([...lines, t('staff.tutorsHint')].join('\n'), [{ id: 'staff:queue', label: t('staff.menuQueue') }]);
    }

    case 'plan': {
      const ref = parseRef(args[0], 'F');
      if (ref === undefined) return usage('/plan F-12');
      const card = await call<(FamilyCard & { plans: PlanCard[] }) | null>(deps.db, 'staff_family_plan', { ...p, p_family_ref: ref });
      if (!card) return done(t('staff.unknownFamily', { family: args[0] }));
      if (!card.plans.length) return done(t('staff.planNone', { family: familyRef(card.ref) }));
      const blocks = card.plans.map((plan) => [
        t('staff.planHeader', { child: plan.name, family: familyRef(card.ref), state: t(plan.reminders ? 'staff.planOn' : 'staff.planOff') }),
        ...plan.items.map((i) => t('staff.planLine', {
          date: formatDate(lng, i.done_on ?? i.booked_on ?? i.due_on),
          item: itemLabel(t, i),
          status: t(`care.status.${i.status}`),
        })),
      ].join('\n'));
      return done(blocks.join('\n\n'));
    }

    case 'relink': {
      const ref = parseRef(args[0], 'F');
      if (ref === undefined) return usage('/relink F-12');
      const card = await call<FamilyCard | null>(deps.db, 'staff_family_lookup', { ...p, p_family_ref: ref });
      if (!card) return done(t('staff.unknownFamily', { family: args[0] }));
      const code = fresh();
      const expires = codeExpiry(ctx.now, 'relink');
      const text = withLinks(t('staff.relinkCode', { family: familyRef(card.ref), code, date: formatDate(lng, expires.toISOString()) }), code);
      return { ...done(text), effects: [{ op: 'staff.relink_code', code, family_id: card.id, expires_at: expires.toISOString() }] };
    }

    case 'assign': return assign(ctx, args);

    case 'invite': {
      const role = args[0]?.toLowerCase();
      const fullName = args.slice(1).join(' ').trim();
      if ((role !== 'tutor' && role !== 'coordinator') || fullName.length < 2 || fullName.length > 120) return usage('/invite tutor Giulia Bianchi');
      const code = fresh();
      const expires = codeExpiry(ctx.now, 'staff');
      const roleName = t(role === 'tutor' ? 'staff.roleTutor' : 'staff.roleCoordinator');
      const text = withLinks(t('staff.inviteCode', { name: fullName, role: roleName, code, date: formatDate(lng, expires.toISOString()) }), code);
      // what this coordinator is told when the code is used; the database fills in her T-<ref>
      const joined = { contact_id: ctx.contact.id, payload: { text: t('staff.joined', { name: fullName, role: roleName, tutor: STAFF_REF_TOKEN }), choices: [{ id: 'staff:queue', label: t('staff.menuQueue') }] } };
      const invite = { op: 'staff.invite' as const, code, role: role as 'tutor' | 'coordinator', full_name: fullName, expires_at: expires.toISOString(), joined_notice: [joined] };
      return { ...done(text), effects: [invite] };
    }

    default:
      return done(t('staff.unknownCommand'));
  }
}

/** /queue: the families waiting for a tutor, a page at a time, each with a button to assign her. */
async function queue(ctx: FlowContext, page: number): Promise<Turn> {
  const { t } = ctx;
  const cards = await call<FamilyCard[]>(ctx.deps.db, 'staff_queue', { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() });
  if (!cards.length) return staffDone(ctx, t('staff.queueNone'));
  const shown = pageOf(cards, page);
  if (!shown.items.length) return queue(ctx, 1);
  const text = [t('staff.queueHeader', { count: cards.length }), ...shown.items.map((c) => familyLine(t, ctx.contact.language, c, ctx.today)), t('staff.queuePick')].join('\n');
  const choices: Choice[] = shown.items.map((c) => ({ id: `staff:assign:${familyRef(c.ref)}`, label: t('staff.assignButton', { family: familyRef(c.ref) }) }));
  if (shown.more) choices.push({ id: `staff:queue:${page + 1}`, label: t('staff.more') });
  return staffDone(ctx, text, choices);
}

/** The tutors to choose from for one family, a page at a time, with how many families each already follows. */
async function tutorPicker(ctx: FlowContext, card: FamilyCard, page: number): Promise<Turn> {
  const { t } = ctx;
  const list = await call<TutorLine[]>(ctx.deps.db, 'staff_tutors', { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() });
  if (!list.length) return staffDone(ctx, t('staff.tutorsNone'));
  const family = familyRef(card.ref);
  const shown = pageOf(list, page);
  const choices: Choice[] = shown.items.map((s) => ({ id: `staff:assign:${family}:${staffRef(s.ref)}`, label: t('staff.tutorChoice', { tutor: staffRef(s.ref), name: s.name, families: s.families }) }));
  if (shown.more) choices.push({ id: `staff:assign:${family}:p${page + 1}`, label: t('staff.more') });
  const now = card.tutor ? t('staff.assignCurrent', { tutor: staffRef(card.tutor.ref), name: card.tutor.name }) : '';
  return staffDone(ctx, [t('staff.assignPick', { family }), now].filter(Boolean).join('\n'), choices);
}

/**
 * /assign F-12 T-3 (or the queue's buttons): the family goes to the tutor with her open requests. She is told
 * who her tutor is; the new tutor gets the family and its requests, with buttons; the previous one is told.
 */
async function assign(ctx: FlowContext, args: string[]): Promise<Turn> {
  const { t, deps } = ctx;
  const p = { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() };
  const familyN = parseRef(args[0], 'F');
  if (familyN === undefined) return staffDone(ctx, t('staff.usage', { example: '/assign F-12 T-3' }));
  const card = await call<FamilyCard | null>(deps.db, 'staff_family_lookup', { ...p, p_family_ref: familyN });
  if (!card) return staffDone(ctx, t('staff.unknownFamily', { family: args[0] }));
  const tutorN = parseRef(args[1], 'T');
  if (tutorN === undefined) {
    if (args[1] !== undefined && !/^p\d{1,4}$/i.test(args[1])) return staffDone(ctx, t('staff.usage', { example: '/assign F-12 T-3' }));
    return tutorPicker(ctx, card, pageArg(args[1]));
  }
  const tutor = await call<StaffMember | null>(deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: tutorN });
  if (!tutor) return staffDone(ctx, t('staff.unknownTutor', { tutor: args[1] }));
  const family = familyRef(card.ref);
  if (card.tutor?.id === tutor.id) return staffDone(ctx, t('staff.assigned', { family, name: tutor.name }));

  const open = await call<ListedNeed[] | null>(deps.db, 'staff_family_needs', { ...p, p_family_ref: card.ref }) ?? [];
  const previous = card.tutor ? await call<StaffMember | null>(deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: card.tutor.ref }) : null;
  const key = `assigned:${card.id}:${tutor.id}:${ctx.inbound.providerMessageId}`;
  const effects: Effect[] = [
    { op: 'staff.assign', family_id: card.id, tutor_id: tutor.id },
    ...assignNotices(deps.i18n, { card, tutor, previous, open }, key, ctx.now, ctx.today),
  ];
  const lines = [t('staff.assigned', { family, name: tutor.name }), open.length ? t('staff.needsMoved', { needs: open.length }) : ''];
  return { ...staffDone(ctx, lines.filter(Boolean).join('\n'), [{ id: 'staff:queue', label: t('staff.menuQueue') }]), effects };
}

/** Requests with their own buttons in one notice (two buttons each); the rest are a tap on the list away. */
const NEEDS_IN_NOTICE = 5;

/** What an assignment is made of: the family, her new tutor, the one she leaves (if any), her requests not yet resolved. */
export interface AssignParts {
  card: FamilyCard;
  tutor: StaffMember;
  previous: StaffMember | null;
  open: ListedNeed[];
}

/**
 * The messages an assignment queues, whoever made it (the chat's /assign, the desk's form): she is told who her
 * tutor is; the new tutor gets the family and its requests, with buttons; the previous one is told. One key per
 * assignment (`key`), one message per contact.
 */
export function assignNotices(i18n: Translator, a: AssignParts, key: string, now: Date, today: string): Effect[] {
  const family = familyRef(a.card.ref);
  const effects: Effect[] = [];
  for (const c of a.card.contacts) {
    const text = i18n.t(c.language)('staff.tutorAssigned', { tutor: firstName(a.tutor.name) });
    effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `${key}:${c.contact_id}`, kind: 'notice', payload: { text } });
  }
  for (const c of a.tutor.contacts) {
    effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `${key}:${c.contact_id}`, kind: 'staff_notice', payload: assignedToYou(i18n.t(c.language), c.language, a.card, a.open, now, today) });
  }
  for (const c of a.previous?.contacts ?? []) {
    const text = i18n.t(c.language)('staff.familyMoved', { family, name: a.tutor.name });
    effects.push({ op: 'messaging.enqueue', contact_id: c.contact_id, key: `${key}:was:${c.contact_id}`, kind: 'staff_notice', payload: { text } });
  }
  return effects;
}

/** The new tutor's one notice: the family, and her open requests (now hers, to take in charge) with their buttons. */
function assignedToYou(t: TFunction, lng: Language, card: FamilyCard, open: ListedNeed[], now: Date, today: string): Reply {
  const head = t('staff.familyAssignedToYou', { family: familyRef(card.ref), district: card.district ?? t('staff.noDistrict'), children: childrenSummary(t, lng, card.children, today) });
  if (!open.length) return { text: head };
  // moved needs wait for her: not taken yet, whoever had them before
  const lines = open.map((n) => needLine(t, { ...n, status: 'open' }, now));
  const shown = pageOf(open, 1, NEEDS_IN_NOTICE);
  const choices = shown.items.flatMap((n) => needButtons(t, { ...n, status: 'open' }));
  if (shown.more) choices.push({ id: 'staff:needs', label: t('staff.menuNeeds') });
  return { text: [head, t('staff.familyOpenNeeds'), ...lines].join('\n'), choices };
}
