import { call } from '../../bot/db/rpc';
import type { Job } from '../../bot/core/jobs';

/** A ten-minute slot, Europe/Rome does not matter here: the slot only stops two processes running the same one. */
const tenMinutes = (now: Date) => new Date(Math.floor(now.getTime() / 600_000) * 600_000).toISOString();

/** Files at Twilio of people who erased their data: deleted through Twilio's Media resource, retried until done. */
export const mediaPurge: Job = {
  name: 'media-purge',
  schedule: '*/10 * * * *',
  description: 'deletes at Twilio the files of people who erased their data (retried with back-off until done)',
  slot: tenMinutes,
  async run({ db, logger, eraseMedia }, now) {
    if (!eraseMedia) return { deleted: 0, failed: 0, skipped: 'whatsapp off' };
    const due = await call<{ id: number; target: string; attempts: number }[]>(db, 'media_purge_due', { p_now: now.toISOString(), p_limit: 500 });
    let deleted = 0;
    let failed = 0;
    for (const item of due) {
      try {
        await eraseMedia(item.target);
        await call(db, 'media_purge_done', { p_id: item.id, p_ok: true, p_error: null, p_now: now.toISOString() });
        deleted++;
      } catch (err) {
        const reason = `${(err as { status?: number }).status ?? '-'} ${(err as Error).message}`.slice(0, 300);
        await call(db, 'media_purge_done', { p_id: item.id, p_ok: false, p_error: reason, p_now: now.toISOString() });
        logger.warn({ purge: item.id, attempts: item.attempts + 1 }, 'media deletion failed; will retry');
        failed++;
      }
    }
    return { deleted, failed };
  },
};
