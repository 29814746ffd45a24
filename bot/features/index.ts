/**
 * Every capability, in the order the router asks them when more than one could take a message (her side:
 * needs before calls, check-in, care, profile and privacy; staff: needs, calls, broadcasts, programme).
 * A new capability is a folder beside these with an index.ts exporting its Feature, and one line here.
 */
import type { Feature } from '../core/feature';
import { needsFeature } from './needs';
import { callsFeature } from './calls';
import { checkinFeature } from './checkin';
import { careFeature } from './care';
import { profileFeature } from './profile';
import { privacyFeature } from './privacy';
import { broadcastsFeature } from './broadcasts';
import { programmeFeature } from './programme';
import { deskFeature } from './desk';
import { staffFeature } from './staff';

export const FEATURES: readonly Feature[] = [
  needsFeature,
  callsFeature,
  checkinFeature,
  careFeature,
  profileFeature,
  privacyFeature,
  broadcastsFeature,
  programmeFeature,
  deskFeature,
  staffFeature,
];
