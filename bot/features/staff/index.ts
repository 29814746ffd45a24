/** The team: family codes, the caseload, the queue of families without a tutor, assigning, inviting colleagues. */
import type { Feature, StaffCommand } from '../../core/feature';
import { teamCommand } from './flow';

const team = (name: string, aliases: string[], order: number, more: Partial<StaffCommand> = {}): StaffCommand => ({
  name, aliases, order, ...more, run: (ctx, staff, args) => teamCommand(ctx, staff, name, args),
});

export const staffFeature: Feature = {
  name: 'staff',
  staffMenu: [
    { id: 'staff:code', label: 'staff.menuFamilyCode', order: 10 },
    { id: 'staff:families', label: 'staff.menuFamilies', order: 30 },
    { id: 'staff:queue', label: 'staff.menuQueue', order: 40, coordinatorOnly: true },
    { id: 'staff:tutors', label: 'staff.menuTutors', order: 50, coordinatorOnly: true },
  ],
  commands: [
    team('code', ['codice'], 80),
    team('families', ['famiglie'], 90),
    team('plan', ['piano'], 100, { args: 'F-12' }),
    team('relink', ['ricollega'], 110, { args: 'F-12' }),
    team('queue', ['coda'], 130, { coordinatorOnly: true }),
    team('tutors', ['tutor'], 140, { coordinatorOnly: true }),
    team('assign', ['assegna'], 150, { args: 'F-12 T-3', coordinatorOnly: true }),
    team('invite', ['invita'], 160, { args: 'tutor|coordinator …', coordinatorOnly: true }),
  ],
};
