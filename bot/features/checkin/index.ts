/** The monthly check-in: a few yes/no questions; each "yes" becomes a request for her tutor. */
import type { Feature } from '../../core/feature';
import { checkinStep } from './flow';

export const checkinFeature: Feature = {
  name: 'checkin',
  steps: ['checkin.'],
  choices: ['checkin:'],
  turn: checkinStep,
};
