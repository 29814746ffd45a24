import type { TFunction } from 'i18next';
import type { Language } from '../i18n';
import type { Choice, Reply } from '../core/types';
import { ask, call, type ChildRow, type Effect, type FlowContext, type StaffProfile, type Turn } from './context';
import { codeExpiry, codeLinks, newCode } from './codes';
import { childrenSummary, chunkText, familyRef, firstName, formatDate, languageName, staffRef } from './format';
import { itemLabel } from '../care/reminders';
import { needButtons, needLine, staffNeedsTurn, type ListedNeed } from './tutor';
import { staffCalls, staffCallsTurn, staffCloseCall } from './calls';
import { broadcastCancel, broadcastCommand, broadcastFailures, broadcastsList, broadcastTurn } from './broadcast';
import { deactivateConfirmed, deactivateTurn, programmeReport } from './programme';

interface FamilyCard {
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

interface StaffMember {
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

export type StaffRole = StaffProfile['role'];

/** One staff command: what is typed after the slash, its Italian aliases, what follows it, and who may use it. */
export interface StaffCommand {
  name: string;
  aliases: string[];
  /** what follows the command, as an example (refs and codes read the same in every language) */
  args?: string;
  coordinatorOnly?: boolean;
}

/**
 * Every staff command, in the order /help lists them. Parsing (names and aliases), the role check and /help
 * all read this table; each command's help line is `commands.<name>` in the locales.
 */
export const STAFF_COMMANDS: readonly StaffCommand[] = [
  { name: 'menu', aliases: ['start'] },
  { name: 'help', aliases: ['aiuto'] },
  { name: 'needs', aliases: ['richieste', 'bisogni'] },
  { name: 'need', aliases: ['richiesta'], args: 'N-12' },
  { name: 'take', aliases: ['prendo', 'prendi'], args: 'N-12' },
  { name: 'reply', aliases: ['rispondi'], args: 'N-12 …' },
  { name: 'resolve', aliases: ['risolvi', 'chiudi'], args: 'N-12' },
  { name: 'hand', aliases: ['passa'], args: 'N-12 T-3' },
  { name: 'code', aliases: ['codice'] },
  { name: 'families', aliases: ['famiglie'] },
  { name: 'plan', aliases: ['piano'], args: 'F-12' },
  { name: 'relink', aliases: ['ricollega'], args: 'F-12' },
  { name: 'calls', aliases: ['bandi'] },
  { name: 'queue', aliases: ['coda'], coordinatorOnly: true },
  { name: 'tutors', aliases: ['tutor'], coordinatorOnly: true },
  { name: 'assign', aliases: ['assegna'], args: 'F-12 T-3', coordinatorOnly: true },
  { name: 'invite', aliases: ['invita'], args: 'tutor|coordinator …', coordinatorOnly: true },
  { name: 'deactivate', aliases: ['disattiva'], args: 'T-3', coordinatorOnly: true },
  { name: 'closecall', aliases: ['chiudibando'], args: 'nido-2027', coordinatorOnly: true },
  { name: 'broadcast', aliases: ['avviso'], args: '[B-3]', coordinatorOnly: true },
  { name: 'broadcasts', aliases: ['avvisi'], coordinatorOnly: true },
  { name: 'failures', aliases: ['mancati'], args: 'B-3', coordinatorOnly: true },
  { name: 'cancelbroadcast', aliases: ['annullaavviso'], args: 'B-3', coordinatorOnly: true },
  { name: 'report', aliases: ['rapporto'], args: '[2026-11-01] [2026-11-30]', coordinatorOnly: true },
];

const BY_WORD = new Map(STAFF_COMMANDS.flatMap((c) => [c.name, ...c.aliases].map((w) => [w, c] as const)));

/** The command a typed word names (its name or an alias; Telegram's "/queue@bot" too), if any. */
export function staffCommand(word: string | undefined): StaffCommand | undefined {
  return word ? BY_WORD.get(word.toLowerCase().replace(/@\w+$/, '')) : undefined;
}

export const commandsFor = (role: StaffRole) => STAFF_COMMANDS.filter((c) => !c.coordinatorOnly || role === 'coordinator');

/** /help: every command the role may use, with its aliases and what it does, in the reader's language. */
export function staffHelp(t: TFunction, role: StaffRole): string {
  const line = (c: StaffCommand) => t('staff.helpLine', {
    command: [`/${c.name}`, c.args].filter(Boolean).join(' '),
    aliases: c.aliases.map((a) => `/${a}`).join(', '),
    what: t(`commands.${c.name}`),
  });
  return [t('staff.helpHead'), ...commandsFor(role).map(line), t('staff.helpTail')].join('\n');
}

/** Lists longer than this are shown a page at a time: a WhatsApp numbered list stays short to read and under its 1600 characters. */
export const PAGE_SIZE = 8;

/** One page of a list (pages count from 1), and whether more follow. */
export function pageOf<T>(items: T[], page: number, size = PAGE_SIZE): { items: T[]; more: boolean } {
  const start = (Math.max(1, page) - 1) * size;
  return { items: items.slice(start, start + size), more: items.length > start + size };
}

export const pageArg = (arg: string | undefined) => (arg && /^p?\d{1,4}$/i.test(arg) ? Math.max(1, Number(arg.replace(/^p/i, ''))) : 1);

export function staffMenu(ctx: FlowContext, staff: Pick<StaffProfile, 'role'>, lead?: string): Turn {
  const { t } = ctx;
  const choices: Choice[] = [
    { id: 'staff:code', label: t('staff.menuFamilyCode') },
    { id: 'staff:needs', label: t('staff.menuNeeds') },
    { id: 'staff:families', label: t('staff.menuFamilies') },
    ...(staff.role === 'coordinator'
      ? [
          { id: 'staff:queue', label: t('staff.menuQueue') },
          { id: 'staff:tutors', label: t('staff.menuTutors') },
          { id: 'staff:broadcast', label: t('broadcast.menuNew') },
          { id: 'staff:broadcasts', label: t('broadcast.menuList') },
          { id: 'staff:report', label: t('report.menu') },
        ]
      : []),
  ];
  const turn = ask(t('staff.menuTitle'), choices, { step: 'staff' });
  if (lead) turn.replies.unshift({ text: lead });
  return turn;
}

/**
 * What staff read after an action or a lookup: the answer itself (in parts when long), the next actions as
 * buttons, and a Menu button instead of the whole menu again.
 */
export function staffDone(ctx: FlowContext, text: string, next: Choice[] = []): Turn {
  const choices = [...next, { id: 'staff:menu', label: ctx.t('staff.menuButton') }];
  const parts = chunkText(text);
  const replies: Reply[] = parts.map((part, i) => (i === parts.length - 1 ? { text: part, choices } : { text: part }));
  return { replies, conversation: { step: 'staff', offered: choices } };
}

export const parseRef = (arg: string | undefined, prefix: 'F' | 'T') => {
  const m = new RegExp(`^${prefix}-?(\\d{1,9})$`, 'i').exec(arg?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
};

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
 * A staff member's message: a command (/code, /assign F-12 T-3, …) or a tap (staff:<command>[:<arg>…]). The role
 * is checked here for a clear answer, and again in the database for every action.
 */
export async function staffTurn(ctx: FlowContext, staff: StaffProfile): Promise<Turn> {
  const { t, deps } = ctx;
  const lng = ctx.contact.language;
  const [rawCommand, ...args] = ctx.choice?.startsWith('staff:') ? ctx.choice.slice('staff:'.length).split(':') : ctx.text.startsWith('/') ? ctx.text.slice(1).split(/\s+/) : [];
  const found = staffCommand(rawCommand);
  const command = found?.name;
  const done = (text: string, next?: Choice[]) => staffDone(ctx, text, next);
  const usage = (example: string) => done(t('staff.usage', { example }));
  const p = { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() };

  const step = (await staffNeedsTurn(ctx, staff)) ?? (await staffCallsTurn(ctx, staff)) ?? (await broadcastTurn(ctx, staff)) ?? (await deactivateConfirmed(ctx, staff));
  if (step) return step;
  if (!rawCommand || command === 'menu') return staffMenu(ctx, staff);
  if (!found) return done(t('staff.unknownCommand'));
  if (found.coordinatorOnly && staff.role !== 'coordinator') return done(t('staff.notAllowed'));
  const fresh = () => (deps.newCode ?? newCode)();
  /** a code's message, then the links that open the bot with it already typed */
  const withLinks = (text: string, code: string) => {
    const links = codeLinks(deps.links, code);
    return [text, links.telegram && t('staff.linkTelegram', { link: links.telegram }), links.whatsapp && t('staff.linkWhatsApp', { link: links.whatsapp })].filter(Boolean).join('\n');
  };

  switch (command) {
    case 'help': return done(staffHelp(t, staff.role));
    case 'calls': return staffCalls(ctx, staff);
    case 'closecall': return staffCloseCall(ctx, staff, args[0]);
    case 'broadcast': return broadcastCommand(ctx, staff, args[0]);
    case 'broadcasts': return broadcastsList(ctx, staff);
    case 'failures': return broadcastFailures(ctx, staff, args[0]);
    case 'cancelbroadcast': return broadcastCancel(ctx, staff, args[0]);
    case 'report': return programmeReport(ctx, staff, args);
    case 'deactivate': return deactivateTurn(ctx, staff, args[0]);

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
      const effect: Effect = { op: 'family_code', code, expires_at: expires.toISOString(), ...(tutorId ? { tutor_id: tutorId } : {}) };
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
      return { ...done(text), effects: [{ op: 'relink_code', code, family_id: card.id, expires_at: expires.toISOString() }] };
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
      const invite = { op: 'staff_invite' as const, code, role: role as 'tutor' | 'coordinator', full_name: fullName, expires_at: expires.toISOString(), joined_notice: [joined] };
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
  const key = `assigned:${card.id}:${tutor.id}:${ctx.inbound.providerMessageId}`;
  const effects: Effect[] = [{ op: 'assign', family_id: card.id, tutor_id: tutor.id }];
  for (const c of card.contacts) {
    const text = deps.i18n.t(c.language)('staff.tutorAssigned', { tutor: firstName(tutor.name) });
    effects.push({ op: 'enqueue', contact_id: c.contact_id, key: `${key}:${c.contact_id}`, kind: 'notice', payload: { text } });
  }
  for (const c of tutor.contacts) {
    effects.push({ op: 'enqueue', contact_id: c.contact_id, key: `${key}:${c.contact_id}`, kind: 'staff_notice', payload: assignedToYou(deps.i18n.t(c.language), c.language, card, open, ctx) });
  }
  if (card.tutor) {
    const previous = await call<StaffMember | null>(deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: card.tutor.ref });
    for (const c of previous?.contacts ?? []) {
      const text = deps.i18n.t(c.language)('staff.familyMoved', { family, name: tutor.name });
      effects.push({ op: 'enqueue', contact_id: c.contact_id, key: `${key}:was:${c.contact_id}`, kind: 'staff_notice', payload: { text } });
    }
  }
  const lines = [t('staff.assigned', { family, name: tutor.name }), open.length ? t('staff.needsMoved', { needs: open.length }) : ''];
  return { ...staffDone(ctx, lines.filter(Boolean).join('\n'), [{ id: 'staff:queue', label: t('staff.menuQueue') }]), effects };
}

/** Requests with their own buttons in one notice (two buttons each); the rest are a tap on the list away. */
const NEEDS_IN_NOTICE = 5;

/** The new tutor's one notice: the family, and her open requests (now hers, to take in charge) with their buttons. */
function assignedToYou(t: TFunction, lng: Language, card: FamilyCard, open: ListedNeed[], ctx: FlowContext): Reply {
  const head = t('staff.familyAssignedToYou', { family: familyRef(card.ref), district: card.district ?? t('staff.noDistrict'), children: childrenSummary(t, lng, card.children, ctx.today) });
  if (!open.length) return { text: head };
  // moved needs wait for her: not taken yet, whoever had them before
  const lines = open.map((n) => needLine(t, { ...n, status: 'open' }, ctx.now));
  const shown = pageOf(open, 1, NEEDS_IN_NOTICE);
  const choices = shown.items.flatMap((n) => needButtons(t, { ...n, status: 'open' }));
  if (shown.more) choices.push({ id: 'staff:needs', label: t('staff.menuNeeds') });
  return { text: [head, t('staff.familyOpenNeeds'), ...lines].join('\n'), choices };
}
