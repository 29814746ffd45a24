/** Needs and questions: "I need help", questions answered from the knowledge base or sent to her tutor, the tutor's side of a request. */
import type { Feature, StaffCommand } from '../../core/feature';
import { evictionWords, freeText, needsStep, showOriginal } from './flow';
import { needCommand, staffNeedsTurn } from './staff';

const command = (name: string, aliases: string[], order: number, args?: string): StaffCommand => ({
  name, aliases, order, ...(args ? { args } : {}), run: (ctx, staff, a) => needCommand(ctx, staff, name, a),
});

export const needsFeature: Feature = {
  name: 'needs',
  steps: ['need.', 'kb.', 'ask'],
  choices: ['menu:help', 'menu:ask', 'call:evicted', 'need:', 'kb:'],
  turn: needsStep,
  takesMedia: true,
  interrupt: evictionWords,
  menu: [
    { id: 'menu:ask', label: 'menu.ask', order: 40 },
    { id: 'menu:help', label: 'menu.help', order: 50 },
  ],
  freeText,
  original: showOriginal,

  staffSteps: ['staff.reply'],
  staffChoices: ['need:'],
  staffTurn: staffNeedsTurn,
  staffMenu: [{ id: 'staff:needs', label: 'staff.menuNeeds', order: 20 }],
  commands: [
    command('needs', ['richieste', 'bisogni'], 20),
    command('need', ['richiesta'], 30, 'N-12'),
    command('take', ['prendo', 'prendi'], 40, 'N-12'),
    command('reply', ['rispondi'], 50, 'N-12 …'),
    command('resolve', ['risolvi', 'chiudi'], 60, 'N-12'),
    command('hand', ['passa'], 70, 'N-12 T-3'),
  ],
};
