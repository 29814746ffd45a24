import { subDays } from 'date-fns';
import { romeDay } from '../../bot/time';
import type { Job } from './types';

/** How long inbound provider ids are kept to recognise a redelivery; providers retry for hours, not weeks. */
export const INBOUND_ID_RETENTION_DAYS = 30;

export const housekeeping: Job = {
  name: 'housekeeping',
  schedule: '30 3 * * *',
  description: 'forgets inbound message ids, finished job runs, expired codes and stranded declined contacts older than 30 days',
  slot: (now) => romeDay(now),
  async run({ db }, now) {
    const { data, error } = await db.rpc('housekeeping_prune', { p_before: subDays(now, INBOUND_ID_RETENTION_DAYS).toISOString() });
    if (error) throw new Error(`housekeeping_prune failed: ${error.message}`);
    return data as Record<string, number>;
  },
};
