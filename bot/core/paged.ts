import type { QueuedMessage } from '../care/reminders';
import type { Db } from '../db/client';
import { call } from '../db/rpc';

/** messages per reminders_enqueue call: a page's messages in one call (~0.2 s for 1,000), well within the time-out */
const ENQUEUE_BATCH = 1000;

/** One page of a job's candidates, and where the next page starts (null on the last). */
export interface Page<Row> {
  rows: Row[];
  next: string | null;
}

export interface PagedSummary {
  rows: number;
  messages: number;
  queued: number;
  stages: Record<string, number>;
  sendFrom: string | null;
}

/**
 * A daily job's candidates, page by page until the last, each page turned into messages and queued (each once,
 * by its key): no call returns more than PostgREST's row cap or runs longer than its time-out, whatever the
 * programme's size.
 */
export async function queuePages<Row>(
  db: Db,
  nowIso: string,
  page: (after: string | null) => Promise<Page<Row>>,
  messagesOf: (rows: Row[]) => { messages: QueuedMessage[]; stages: Record<string, number> },
): Promise<PagedSummary> {
  const sum: PagedSummary = { rows: 0, messages: 0, queued: 0, stages: {}, sendFrom: null };
  let after: string | null = null;
  let reading: Promise<Page<Row>> = page(after);
  do {
    const { rows, next }: Page<Row> = await reading;
    // the next page is read while this one is turned into messages and queued (reading does not depend on the queue);
    // the queue is still written page after page, in order
    if (next) {
      reading = page(next);
      reading.catch(() => undefined);
    }
    const { messages, stages } = messagesOf(rows);
    for (let i = 0; i < messages.length; i += ENQUEUE_BATCH) {
      sum.queued += await call<number>(db, 'reminders_enqueue', { p_messages: messages.slice(i, i + ENQUEUE_BATCH), p_now: nowIso });
    }
    for (const [stage, n] of Object.entries(stages)) sum.stages[stage] = (sum.stages[stage] ?? 0) + n;
    sum.rows += rows.length;
    sum.messages += messages.length;
    sum.sendFrom ??= messages[0]?.not_before ?? null;
    after = next;
  } while (after);
  return sum;
}
