/** The programme: its figures (/report) and the staff who leave it (/deactivate, confirmed with one tap). */
import type { Feature } from '../../core/feature';
import { deactivateConfirmed, deactivateTurn, programmeReport } from './flow';

export const programmeFeature: Feature = {
  name: 'programme',
  staffChoices: ['deact:'],
  staffTurn: deactivateConfirmed,
  staffMenu: [{ id: 'staff:report', label: 'report.menu', order: 80, coordinatorOnly: true }],
  commands: [
    { name: 'deactivate', aliases: ['disattiva'], args: 'T-3', coordinatorOnly: true, order: 170, run: (ctx, staff, args) => deactivateTurn(ctx, staff, args[0]) },
    { name: 'report', aliases: ['rapporto'], args: '[2026-11-01] [2026-11-30]', coordinatorOnly: true, order: 230, run: (ctx, staff, args) => programmeReport(ctx, staff, args) },
  ],
};
