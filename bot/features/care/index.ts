/** Vaccinations and pediatric visits: her answers to a reminder (done, booked, not yet, help, stop, born). */
import type { Feature } from '../../core/feature';
import { careStep } from './flow';

export const careFeature: Feature = {
  name: 'care',
  steps: ['care.'],
  choices: ['care:'],
  turn: careStep,
};
