/** My data: what is kept about her, a copy of it, and erasing it. */
import type { Feature } from '../../core/feature';
import { privacyMenu, privacyStep } from './flow';

export const privacyFeature: Feature = {
  name: 'privacy',
  steps: ['privacy', 'privacy.'],
  choices: ['menu:privacy', 'privacy:', 'erase:'],
  turn: async (ctx) => (await privacyStep(ctx)) ?? (ctx.choice === 'menu:privacy' ? privacyMenu(ctx) : undefined),
  menu: [{ id: 'menu:privacy', label: 'menu.privacy', order: 70 }],
};
