/** Calls and measures (nido, housing): the calls that fit her family, eligibility, documents, help to apply; staff's /calls. */
import type { Feature } from '../../core/feature';
import { callsStep, staffCalls, staffCallsTurn, staffCloseCall } from './flow';

export const callsFeature: Feature = {
  name: 'calls',
  steps: ['calls'],
  choices: ['menu:nido', 'menu:housing', 'call:'],
  turn: callsStep,
  menu: [
    { id: 'menu:nido', label: 'menu.nido', order: 20 },
    { id: 'menu:housing', label: 'menu.housing', order: 30 },
  ],
  staffSteps: ['staff.callRank'],
  staffChoices: ['callneed:'],
  staffTurn: staffCallsTurn,
  commands: [
    { name: 'calls', aliases: ['bandi'], order: 120, run: (ctx) => staffCalls(ctx) },
    { name: 'closecall', aliases: ['chiudibando'], args: 'nido-2027', coordinatorOnly: true, order: 180, run: (ctx, staff, args) => staffCloseCall(ctx, staff, args[0]) },
  ],
};
