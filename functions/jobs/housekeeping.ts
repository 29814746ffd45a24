import { subDays } from 'date-fns';
import { call } from '../../bot/db/rpc';
import { romeDay } from '../../bot/time';
import type { Job } from '../../bot/core/jobs';

/** How long inbound provider ids are kept to recognise a redelivery; providers retry for hours, not weeks. */
export const INBOUND_ID_RETENTION_DAYS = 30;

export const housekeeping: Job = {
  name: 'housekeeping',
  schedule: '30 3 * * *',
  description: 'forgets inbound message ids, finished job runs, expired codes and stranded declined contacts older than 30 days',
  slot: (now) => romeDay(now),
  async run({ db }, now) {
    return call<Record<string, number>>(db, 'housekeeping_prune', { p_before: subDays(now, INBOUND_ID_RETENTION_DAYS).toISOString() });
  },
};
