/** The coordinators' desk: /desk (/scrivania) sends a one-time sign-in link; the pages are in functions/desk. */
import type { Feature } from '../../core/feature';
import { deskLink } from './flow';

export const deskFeature: Feature = {
  name: 'desk',
  staffMenu: [{ id: 'staff:desk', label: 'desk.menu', order: 85, coordinatorOnly: true }],
  commands: [{ name: 'desk', aliases: ['scrivania'], coordinatorOnly: true, order: 235, run: (ctx, staff) => deskLink(ctx, staff) }],
};
