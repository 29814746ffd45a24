/**
 * What one capability brings to the conversation. Each folder under bot/features exports one of these; the
 * ordered list in bot/features/index.ts composes them and the router (bot/router) dispatches to them by the
 * step or the choice id they own, and draws both menus from their items. Features never import each other,
 * the router or the menus: they reach the menus through `ctx.menus`.
 */
import type { FlowContext, StaffProfile, Turn } from './context';
import type { ConversationState } from './types';

/** A menu button: its choice id, its label's locale key, and where it stands (lower first). */
export interface MenuItem {
  id: string;
  label: string;
  order: number;
  coordinatorOnly?: boolean;
}

/** One staff command: what is typed after the slash, its Italian aliases, what follows it, and who may use it. */
export interface StaffCommand {
  name: string;
  aliases: string[];
  /** what follows the command, as an example (refs and codes read the same in every language) */
  args?: string;
  coordinatorOnly?: boolean;
  /** where /help lists it (lower first) */
  order: number;
  run(ctx: FlowContext, staff: StaffProfile, args: string[]): Promise<Turn> | Turn;
}

/** A child being registered, carried through the profile steps (and resumed by the router after an interruption). */
export interface RegistrationDraft extends ConversationState {
  onboarding?: boolean;
  tutorName?: string;
}

export interface Feature {
  name: string;
  /** her steps (`state.step`) and choice ids this feature answers: exact, or a prefix ending in '.' or ':' */
  steps?: string[];
  choices?: string[];
  /** her message in one of its steps or on one of its choices; undefined when it is not for it after all */
  turn?(ctx: FlowContext): Promise<Turn | undefined>;
  /** a photo or a voice note alone is offered to the step's owner only when it says so */
  takesMedia?: boolean;
  /** words it catches in any state, before the step she is in (being evicted) */
  interrupt?(ctx: FlowContext): Promise<Turn | undefined>;
  /** her main-menu buttons */
  menu?: MenuItem[];

  /** the same for staff: steps, choice ids, and a turn */
  staffSteps?: string[];
  staffChoices?: string[];
  staffTurn?(ctx: FlowContext, staff: StaffProfile): Promise<Turn | undefined>;
  staffMenu?: MenuItem[];
  commands?: StaffCommand[];

  /** first contact, before consent (one feature: onboarding) */
  beforeConsent?(ctx: FlowContext): Promise<Turn>;
  /** registration taken up again at her next resting point (one feature: profile) */
  resumeRegistration?(ctx: FlowContext, draft: RegistrationDraft, added: number): Promise<Turn>;
  /** words no step expected: a question, or more words for her tutor (one feature: needs) */
  freeText?(ctx: FlowContext): Promise<Turn | undefined>;
  /** "original": the words before the machine translated them (one feature: needs) */
  original?(ctx: FlowContext): Promise<Turn>;
}
