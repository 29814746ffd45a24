import type { TFunction } from 'i18next';
import type { Language } from '../i18n';
import type { Choice } from '../core/types';
import { ask, call, type ChildRow, type Effect, type FlowContext, type StaffProfile, type Turn } from './context';
import { codeExpiry, codeLinks, newCode } from './codes';
import { childrenSummary, familyRef, firstName, formatDate, languageName, staffRef } from './format';
import { itemLabel } from '../care/reminders';
import { staffNeedsTurn } from './tutor';
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

const COORDINATOR_ONLY = new Set(['queue', 'tutors', 'assign', 'invite', 'closecall', 'broadcast', 'broadcasts', 'failures', 'cancelbroadcast', 'report', 'deactivate']);
/** Italian aliases, since tutors work in Italian */
const ALIASES: Record<string, string> = {
  piano: 'plan', codice: 'code', famiglie: 'families', ricollega: 'relink', coda: 'queue', assegna: 'assign', invita: 'invite', aiuto: 'help', start: 'menu',
  bandi: 'calls', chiudibando: 'closecall', avviso: 'broadcast', avvisi: 'broadcasts', mancati: 'failures', annullaavviso: 'cancelbroadcast',
  rapporto: 'report', disattiva: 'deactivate', tutor: 'tutors',
};

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

/**
 * A staff member's message: a command (/code, /assign F-12 T-3, …) or a menu tap. The role is checked here
 * for a clear answer, and again in the database for every action.
 */
export async function staffTurn(ctx: FlowContext, staff: StaffProfile): Promise<Turn> {
  const { t, deps } = ctx;
  const lng = ctx.contact.language;
  const [rawCommand, ...args] = ctx.choice?.startsWith('staff:') ? [ctx.choice.slice('staff:'.length)] : ctx.text.startsWith('/') ? ctx.text.slice(1).split(/\s+/) : [];
  const command = rawCommand ? (ALIASES[rawCommand.toLowerCase()] ?? rawCommand.toLowerCase()) : undefined;
  const menu = (lead?: string) => staffMenu(ctx, staff, lead);
  const usage = (example: string) => menu(t('staff.usage', { example }));
  const p = { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() };

  const needs = (await staffNeedsTurn(ctx, staff)) ?? (await staffCallsTurn(ctx, staff)) ?? (await broadcastTurn(ctx, staff)) ?? (await deactivateConfirmed(ctx, staff));
  if (needs) return needs;
  if (!command || command === 'menu') return menu();
  if (COORDINATOR_ONLY.has(command) && staff.role !== 'coordinator') return menu(t('staff.notAllowed'));
  const fresh = () => (deps.newCode ?? newCode)();
  /** a code's message, then the links that open the bot with it already typed */
  const withLinks = (text: string, code: string) => {
    const links = codeLinks(deps.links, code);
    return [text, links.telegram && t('staff.linkTelegram', { link: links.telegram }), links.whatsapp && t('staff.linkWhatsApp', { link: links.whatsapp })].filter(Boolean).join('\n');
  };

  switch (command) {
    case 'help': return menu([t('staff.help'), t('calls.staffCommands'), ...(staff.role === 'coordinator' ? [t('broadcast.staffCommands')] : [])].join('\n'));
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
        if (staff.role !== 'coordinator') return menu(t('staff.notAllowed'));
        const member = await call<StaffMember | null>(deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: ref });
        if (!member) return menu(t('staff.unknownTutor', { tutor: args[0] }));
        tutorId = member.id;
      }
      const code = fresh();
      const expires = codeExpiry(ctx.now, 'family');
      const effect: Effect = { op: 'family_code', code, expires_at: expires.toISOString(), ...(tutorId ? { tutor_id: tutorId } : {}) };
      return { ...menu(withLinks(t('staff.familyCode', { code, date: formatDate(lng, expires.toISOString()) }), code)), effects: [effect] };
    }

    case 'families': {
      const cards = await call<FamilyCard[]>(deps.db, 'staff_families', p);
      if (!cards.length) return menu(t('staff.familiesNone'));
      return menu([t('staff.familiesHeader', { count: cards.length }), ...cards.map((c) => familyLine(t, lng, c, ctx.today))].join('\n'));
    }

    case 'queue': {
      const cards = await call<FamilyCard[]>(deps.db, 'staff_queue', p);
      if (!cards.length) return menu(t('staff.queueNone'));
      return menu([t('staff.queueHeader', { count: cards.length }), ...cards.map((c) => familyLine(t, lng, c, ctx.today))].join('\n'));
    }

    case 'tutors': {
      const list = await call<{ ref: number; name: string; families: number; open_needs: number }[]>(deps.db, 'staff_tutors', p);
      if (!list.length) return menu(t('staff.tutorsNone'));
      return menu([...list.map((s) => t('staff.tutorLineNeeds', { tutor: staffRef(s.ref), name: s.name, count: s.families, needs: s.open_needs })), t('programme.tutorsHint')].join('\n'));
    }

    case 'plan': {
      const ref = parseRef(args[0], 'F');
      if (ref === undefined) return usage('/plan F-12');
      const card = await call<(FamilyCard & { plans: PlanCard[] }) | null>(deps.db, 'staff_family_plan', { ...p, p_family_ref: ref });
      if (!card) return menu(t('staff.unknownFamily', { family: args[0] }));
      if (!card.plans.length) return menu(t('staff.planNone', { family: familyRef(card.ref) }));
      const blocks = card.plans.map((plan) => [
        t('staff.planHeader', { child: plan.name, family: familyRef(card.ref), state: t(plan.reminders ? 'staff.planOn' : 'staff.planOff') }),
        ...plan.items.map((i) => t('staff.planLine', {
          date: formatDate(lng, i.done_on ?? i.booked_on ?? i.due_on),
          item: itemLabel(t, i),
          status: t(`care.status.${i.status}`),
        })),
      ].join('\n'));
      return menu(blocks.join('\n\n'));
    }

    case 'relink': {
      const ref = parseRef(args[0], 'F');
      if (ref === undefined) return usage('/relink F-12');
      const card = await call<FamilyCard | null>(deps.db, 'staff_family_lookup', { ...p, p_family_ref: ref });
      if (!card) return menu(t('staff.unknownFamily', { family: args[0] }));
      const code = fresh();
      const expires = codeExpiry(ctx.now, 'relink');
      const text = withLinks(t('staff.relinkCode', { family: familyRef(card.ref), code, date: formatDate(lng, expires.toISOString()) }), code);
      return { ...menu(text), effects: [{ op: 'relink_code', code, family_id: card.id, expires_at: expires.toISOString() }] };
    }

    case 'assign': {
      const familyN = parseRef(args[0], 'F');
      const tutorN = parseRef(args[1], 'T');
      if (familyN === undefined || tutorN === undefined) return usage('/assign F-12 T-3');
      const card = await call<FamilyCard | null>(deps.db, 'staff_family_lookup', { ...p, p_family_ref: familyN });
      if (!card) return menu(t('staff.unknownFamily', { family: args[0] }));
      const tutor = await call<StaffMember | null>(deps.db, 'staff_member_lookup', { p_contact_id: ctx.contact.id, p_staff_ref: tutorN });
      if (!tutor) return menu(t('staff.unknownTutor', { tutor: args[1] }));
      const effects: Effect[] = [{ op: 'assign', family_id: card.id, tutor_id: tutor.id }];
      if (card.tutor?.id !== tutor.id) {
        const key = `assigned:${card.id}:${tutor.id}:${ctx.inbound.providerMessageId}`;
        for (const c of card.contacts) {
          const text = deps.i18n.t(c.language)('staff.tutorAssigned', { tutor: firstName(tutor.name) });
          effects.push({ op: 'enqueue', contact_id: c.contact_id, key: `${key}:${c.contact_id}`, kind: 'notice', payload: { text } });
        }
        for (const c of tutor.contacts) {
          const tt = deps.i18n.t(c.language);
          const text = tt('staff.familyAssignedToYou', { family: familyRef(card.ref), district: card.district ?? tt('staff.noDistrict'), children: childrenSummary(tt, c.language, card.children, ctx.today) });
          effects.push({ op: 'enqueue', contact_id: c.contact_id, key: `${key}:${c.contact_id}`, kind: 'staff_notice', payload: { text } });
        }
      }
      return { ...menu(t('staff.assigned', { family: familyRef(card.ref), name: tutor.name })), effects };
    }

    case 'invite': {
      const role = args[0]?.toLowerCase();
      const fullName = args.slice(1).join(' ').trim();
      if ((role !== 'tutor' && role !== 'coordinator') || fullName.length < 2 || fullName.length > 120) return usage('/invite tutor Giulia Bianchi');
      const code = fresh();
      const expires = codeExpiry(ctx.now, 'staff');
      const roleName = t(role === 'tutor' ? 'staff.roleTutor' : 'staff.roleCoordinator');
      const text = withLinks(t('staff.inviteCode', { name: fullName, role: roleName, code, date: formatDate(lng, expires.toISOString()) }), code);
      return { ...menu(text), effects: [{ op: 'staff_invite', code, role, full_name: fullName, expires_at: expires.toISOString() }] };
    }

    default:
      return menu(t('staff.unknownCommand'));
  }
}
