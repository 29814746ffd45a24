/**
 * The router: every message, in this order. Danger in her words (anyone who is not staff, in any state); a
 * code; consent first; STOP/START and the words that work anywhere; staff to their steps and commands; her
 * step or the choice she tapped, to the feature that owns it; the main menu. Features are asked in the order
 * of the list it is given (bot/features/index.ts), and reach both menus through ctx.menus.
 */
import type { Reply } from '../core/types';
import { call, herT, type FlowContext, type Message, type StaffProfile, type Turn } from '../core/context';
import type { Feature } from '../core/feature';
import { codeIn, isKeyword } from '../core/keywords';
import { askLanguage, pickedLanguage } from '../core/language-menu';
import { firstName } from '../core/format';
import { staffDone } from '../core/staff-ui';
import { compose, type Composed } from './menus';
import { safetyStep } from './safety';

export interface Router extends Composed {
  decide(message: Message): Promise<Turn>;
}

/** Whether a step or a choice id is one a feature owns: exact, or below a prefix ending in '.' or ':'. */
export function owns(claims: readonly string[] | undefined, value: string | undefined): boolean {
  if (!value || !claims) return false;
  return claims.some((c) => value === c || ((c.endsWith('.') || c.endsWith(':')) && value.startsWith(c)));
}

/** The one feature providing a hook (onboarding, registration, free text, "original"). */
function hook<K extends keyof Feature>(features: readonly Feature[], key: K): NonNullable<Feature[K]> {
  const found = features.filter((f) => f[key]);
  if (found.length !== 1) throw new Error(`exactly one feature must provide ${String(key)} (found ${found.length})`);
  return found[0]![key] as NonNullable<Feature[K]>;
}

export function createRouter(features: readonly Feature[]): Router {
  const composed = compose(features);
  const { menus } = composed;
  const beforeConsent = hook(features, 'beforeConsent');
  const resumeRegistration = hook(features, 'resumeRegistration');
  const freeText = hook(features, 'freeText');
  const original = hook(features, 'original');

  /** Her message to the features owning her step or the choice she tapped, in list order. */
  async function herTurn(ctx: FlowContext, mediaAlone = false): Promise<Turn | undefined> {
    const step = ctx.contact.conversation.step;
    for (const f of features) {
      if (!f.turn || !(owns(f.choices, ctx.choice) || owns(f.steps, step))) continue;
      if (mediaAlone && !f.takesMedia) continue;
      const turn = await f.turn(ctx);
      if (turn) return turn;
    }
    return undefined;
  }

  /** Words some feature catches in any state (before the step she is in). */
  async function interrupted(ctx: FlowContext): Promise<Turn | undefined> {
    for (const f of features) {
      const turn = await f.interrupt?.(ctx);
      if (turn) return turn;
    }
    return undefined;
  }

  /**
   * A staff member's message: a step or a tap a feature owns, else a command (/code, /assign F-12 T-3, …) or a
   * tap on staff:<command>[:<arg>…]. The role is checked here for a clear answer, and again in the database.
   */
  async function staffTurn(ctx: FlowContext, staff: StaffProfile): Promise<Turn> {
    const { t } = ctx;
    const step = ctx.contact.conversation.step;
    for (const f of features) {
      if (!f.staffTurn || !(owns(f.staffChoices, ctx.choice) || owns(f.staffSteps, step))) continue;
      const turn = await f.staffTurn(ctx, staff);
      if (turn) return turn;
    }
    // a file no step took (she is not replying to a request): say how to send one, rather than drop it
    if (ctx.inbound.media?.length && !ctx.choice) return staffDone(ctx, t('staff.mediaHowTo'));
    const [word, ...args] = ctx.choice?.startsWith('staff:') ? ctx.choice.slice('staff:'.length).split(':') : ctx.text.startsWith('/') ? ctx.text.slice(1).split(/\s+/) : [];
    const found = composed.command(word);
    if (!word) return menus.staff(ctx, staff);
    if (!found) return staffDone(ctx, t('staff.unknownCommand'));
    if (found.coordinatorOnly && staff.role !== 'coordinator') return staffDone(ctx, t('staff.notAllowed'));
    return found.run(ctx, staff, args);
  }

  /** The same context, now speaking another language (after she picks one). */
  function inLanguage(ctx: FlowContext, lng: FlowContext['contact']['language']): FlowContext {
    return { ...ctx, t: herT(ctx.deps.i18n.t(lng), ctx.contact), contact: { ...ctx.contact, language: lng } };
  }

  const withLead = (lead: Reply[], turn: Turn): Turn => ({ ...turn, replies: [...lead, ...turn.replies] });

  /** A code from her tutor (family, new account) or a staff invitation, at any point of the conversation. */
  async function redeemCode(ctx: FlowContext, code: string): Promise<Turn | undefined> {
    const { contact, t } = ctx;
    const found = await call<{ status: 'ok' | 'used' | 'expired' | 'unknown'; purpose?: string; full_name?: string; role?: string; tutor_name?: string; language?: string }>(
      ctx.deps.db, 'code_lookup', { p_code: code, p_now: ctx.now.toISOString() });
    const registered = contact.consent === 'given';
    const usable = found.status === 'ok' && (
      (found.purpose === 'staff' && !contact.family && !contact.staff)
      || (found.purpose === 'family' && !contact.staff)
      || (found.purpose === 'relink' && !contact.family && !contact.staff));
    if (!usable) {
      const why = { text: t(`codes.${found.status === 'ok' ? 'used' : found.status}`) };
      if (contact.staff) return menus.staff(ctx, contact.staff, why.text);
      if (registered) return menus.main(ctx, why.text);
      return withLead([why], await beforeConsent(ctx));
    }
    if (found.purpose === 'staff') {
      const lng = contact.languageConfirmed ? contact.language : 'it';
      const c = inLanguage(ctx, lng);
      const role = found.role === 'coordinator' ? 'coordinator' : 'tutor';
      const welcome = c.t('staff.welcome', { name: firstName(found.full_name ?? ''), role: c.t(role === 'tutor' ? 'staff.roleTutor' : 'staff.roleCoordinator') });
      const menu = menus.staff(c, { role }, welcome);
      return { ...menu, language: lng, languageConfirmed: true, effects: [{ op: 'profile.redeem', code }] };
    }
    if (found.purpose === 'relink') {
      const lng = (found.language as typeof contact.language | undefined) ?? contact.language;
      const c = inLanguage(ctx, lng);
      return { ...menus.main(c, c.t('codes.relinked')), language: lng, languageConfirmed: true, effects: [{ op: 'profile.redeem', code }] };
    }
    if (registered) {
      return { ...menus.main(ctx, t('profile.linkedTutor', { tutor: firstName(found.tutor_name ?? '') })), effects: [{ op: 'profile.redeem', code }] };
    }
    // not registered yet: remember the code; it is redeemed when she gives consent
    return beforeConsent({ ...ctx, contact: { ...contact, conversation: { ...contact.conversation, code } } });
  }

  /**
   * Every message, in this order: danger in her words (anyone who is not staff, in any state); a code; staff;
   * consent first; STOP/START and the words that work anywhere; the step she is in; the main menu.
   */
  async function decideWith(ctx: FlowContext): Promise<Turn> {
    const turn = (await safetyStep(ctx, route)) ?? (await route(ctx));
    return resumed(ctx, turn);
  }

  /**
   * Registration interrupted (a danger reply, a question, a code) is taken up again at her next resting point,
   * until her children and district are known: never in the middle of another step, never right after an alarm.
   */
  async function resumed(ctx: FlowContext, turn: Turn): Promise<Turn> {
    const before = ctx.contact.conversation;
    if (before.onboarding !== true || turn.conversation.onboarding === true || ctx.contact.staff || ctx.contact.consent !== 'given') return turn;
    const effects = turn.effects ?? [];
    if (effects.some((e) => e.op === 'profile.district' || e.op === 'privacy.forget' || (e.op === 'profile.status' && e.status === 'paused'))) return turn;
    const carried = { onboarding: true, ...(typeof before.tutorName === 'string' ? { tutorName: before.tutorName } : {}) };
    const step = turn.conversation.step;
    const alarm = effects.some((e) => e.op === 'safety.event' || (e.op === 'needs.open' && e.urgency === 'urgent'));
    if ((step && step !== 'menu') || alarm) return { ...turn, conversation: { ...turn.conversation, ...carried } };
    // in the language she may just have chosen
    const c = turn.language && turn.language !== ctx.contact.language ? inLanguage(ctx, turn.language) : ctx;
    const next = await resumeRegistration(c, carried, effects.filter((e) => e.op === 'profile.child_add').length);
    // the main menu she would have got gives way to the next registration question; what it led with stays
    const replies = [...turn.replies];
    const last = replies.at(-1);
    const title = c.t('menu.title');
    if (last?.choices?.some((choice) => choice.id.startsWith('menu:'))) {
      const lead = last.text.endsWith(title) ? last.text.slice(0, -title.length).trim() : '';
      replies.pop();
      if (lead) replies.push({ text: lead });
    }
    return { ...turn, replies: [...replies, ...next.replies], conversation: next.conversation };
  }

  /** The router's own main-menu items: back to the menu, and the language. */
  function routerItem(ctx: FlowContext): Turn | undefined {
    if (ctx.choice === 'menu') return menus.main(ctx);
    if (ctx.choice === 'menu:language') return askLanguage(ctx, { then: 'menu' });
    return undefined;
  }

  /** STOP is an opt-out: asked once more with one tap, because everything stops, her vaccination reminders too. */
  function confirmStop(ctx: FlowContext): Turn {
    const { t } = ctx;
    const choices = [{ id: 'pause:yes', label: t('pause.confirmYes') }, { id: 'pause:no', label: t('pause.confirmNo') }];
    return { replies: [{ text: t(ctx.contact.consent === 'given' ? 'pause.confirm' : 'pause.confirmBefore'), choices }], conversation: { step: 'pause.confirm', offered: choices, resume: ctx.contact.conversation } };
  }

  async function route(ctx: FlowContext): Promise<Turn> {
    const { contact, t } = ctx;
    const state = contact.conversation;

    if (state.step === 'pause.confirm' && (ctx.choice === 'pause:yes' || ctx.choice === 'pause:no')) {
      if (ctx.choice === 'pause:no') {
        const back = { ...ctx, contact: { ...contact, conversation: (state.resume ?? {}) as typeof state }, choice: undefined, text: '' };
        const kept = { text: t('pause.kept') };
        if (contact.staff) return menus.staff(back, contact.staff, kept.text);
        return contact.consent === 'given' ? menus.main(back, kept.text) : withLead([kept], await beforeConsent(back));
      }
      // before consent, stopping is declining: nothing is kept
      if (contact.consent !== 'given') return { replies: [{ text: t('consent.declined') }], conversation: {}, effects: [{ op: 'privacy.forget' }] };
      return { replies: [{ text: t('pause.stopped') }], conversation: {}, effects: [{ op: 'profile.status', status: 'paused' }] };
    }
    // a word that is one of the choices she was offered is her answer, even when it is also a STOP word
    const stop = !ctx.choice && isKeyword(t, 'stop', ctx.text);

    if (!ctx.text && !ctx.choice && ctx.inbound.media?.length) {
      // a tutor's file goes to the request she is replying to
      if (contact.staff) return staffTurn(ctx, contact.staff);
      // a photo or a voice note alone: kept (after consent) and acknowledged by the core; it may describe a need
      if (contact.consent === 'given') {
        const turn = (await herTurn(ctx, true)) ?? (await freeText(ctx));
        return turn ?? { replies: [], conversation: state };
      }
      const notYet = { text: t('media.notYet') };
      // mid-onboarding her question is just above; at the very start she still needs one
      return state.step ? { replies: [notYet], conversation: state } : withLead([notYet], await beforeConsent(ctx));
    }

    const code = ctx.choice ? undefined : codeIn(ctx.text);
    if (code) {
      const turn = await redeemCode(ctx, code);
      if (turn) return turn;
    }

    if (contact.consent === 'given') {
      if (stop && contact.status !== 'paused') return confirmStop(ctx);
      if (isKeyword(t, 'start', ctx.text) && contact.status === 'paused') {
        const resumed = { text: t('pause.resumed') };
        const next = contact.staff ? menus.staff(ctx, contact.staff) : menus.main(ctx);
        return { ...withLead([resumed], next), effects: [{ op: 'profile.status', status: 'active' }] };
      }
      if (isKeyword(t, 'language', ctx.text)) return askLanguage(ctx, { then: 'menu' });
      if (state.step === 'lang') {
        const lng = pickedLanguage(ctx);
        if (lng) {
          const c = inLanguage(ctx, lng);
          const next = contact.staff ? menus.staff(c, contact.staff) : menus.main(c);
          return { ...withLead([{ text: c.t('greeting.languageSet') }], next), language: lng, languageConfirmed: true };
        }
      }
    }

    if (contact.staff) return staffTurn(ctx, contact.staff);
    if (contact.consent !== 'given') {
      // STOP before consent: nothing is kept, as if she declined (once she confirms)
      if (stop) return confirmStop(ctx);
      return beforeConsent(ctx);
    }

    // her tutor registered her, with consent on paper: a first hello, then the menu (or the answer she tapped)
    const hello = contact.firstMessage ? [{ text: t('greeting.paperWelcome') }] : [];
    if (contact.firstMessage && !ctx.choice) return withLead(hello, menus.main(ctx));
    if (isKeyword(t, 'menu', ctx.text) || isKeyword(t, 'start', ctx.text)) return menus.main(ctx);
    if (isKeyword(t, 'original', ctx.text)) return original(ctx);
    // a coordinators' command typed by a family: said plainly, not taken as a question for her tutor
    const command = ctx.text.startsWith('/') ? composed.command(ctx.text.slice(1).split(/\s+/)[0]) : undefined;
    if (command?.coordinatorOnly) return withLead(hello, menus.main(ctx, t('staff.notAllowed')));
    const step = (await interrupted(ctx)) ?? (await herTurn(ctx)) ?? routerItem(ctx);
    if (step) return withLead(hello, step);
    // words no step expected: to her tutor's open thread, or a question for the knowledge base
    const words = await freeText(ctx);
    if (words) return withLead(hello, words);
    return menus.main(ctx, state.step ? t('common.notUnderstood') : t('greeting.welcomeBack'));
  }

  return {
    ...composed,
    decide: (message) => decideWith({ ...message, menus }),
  };
}
