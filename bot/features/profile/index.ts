/** Her family's profile, from first contact on: consent, language, her children and district; "Your children" afterwards. */
import type { Feature } from '../../core/feature';
import { onboarding } from './onboarding';
import { profileStep, resumeRegistration, showChildren } from './children';

export const profileFeature: Feature = {
  name: 'profile',
  steps: ['child.', 'children', 'district'],
  choices: ['menu:children', 'child:', 'action:', 'kind:', 'another:', 'district:', 'remove:'],
  turn: async (ctx) => (await profileStep(ctx)) ?? (ctx.choice === 'menu:children' ? showChildren(ctx) : undefined),
  menu: [{ id: 'menu:children', label: 'menu.children', order: 10 }],
  beforeConsent: onboarding,
  resumeRegistration,
};
