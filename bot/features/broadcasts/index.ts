/** Broadcasts: the coordinators' wizard (audience, texts per language, when), the list, a report, failures, cancelling. */
import type { Feature } from '../../core/feature';
import { broadcastCancel, broadcastCommand, broadcastFailures, broadcastsList, broadcastTurn } from './flow';

export const broadcastsFeature: Feature = {
  name: 'broadcasts',
  staffSteps: ['broadcast'],
  staffChoices: ['bc:'],
  staffTurn: broadcastTurn,
  staffMenu: [
    { id: 'staff:broadcast', label: 'broadcast.menuNew', order: 60, coordinatorOnly: true },
    { id: 'staff:broadcasts', label: 'broadcast.menuList', order: 70, coordinatorOnly: true },
  ],
  commands: [
    { name: 'broadcast', aliases: ['avviso'], args: '[B-3]', coordinatorOnly: true, order: 190, run: (ctx, staff, args) => broadcastCommand(ctx, staff, args[0]) },
    { name: 'broadcasts', aliases: ['avvisi'], coordinatorOnly: true, order: 200, run: (ctx, staff) => broadcastsList(ctx, staff) },
    { name: 'failures', aliases: ['mancati'], args: 'B-3', coordinatorOnly: true, order: 210, run: (ctx, staff, args) => broadcastFailures(ctx, staff, args[0]) },
    { name: 'cancelbroadcast', aliases: ['annullaavviso'], args: 'B-3', coordinatorOnly: true, order: 220, run: (ctx, staff, args) => broadcastCancel(ctx, staff, args[0]) },
  ],
};
