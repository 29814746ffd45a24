import type { ChannelLimits } from '../channels/types';
import type { Db } from '../db/client';
import { call } from '../db/rpc';

/** bulk (reminders, broadcasts, notices) from this priority on, as pacing_take: never given a slot far ahead */
const BULK_PRIORITY = 5;

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends are spaced this much wider than the limit asks (as pacing_take does): the provider's sliding second then
 * sees at most the limit while each send arrives within 1000 × (MARGIN − 1) = 50 ms of its slot; at most 95.2% of
 * the limit is used. 1.03 (97%) was tried: on a loaded machine the Twilio SDK's own time alone took sends past it.
 */
const MARGIN = 1.05;

/** The least time between two messages to one chat, by whichever process sends them (0: the provider sets none). */
export const chatGapMs = (limits: ChannelLimits) => (limits.perChatPerSecond > 0 ? Math.ceil((1000 * MARGIN) / limits.perChatPerSecond) : 0);

/**
 * Paces one provider sender across every process that sends as it: each send is given its time by the
 * database (`pacing_take`, evenly spaced sends per sender), so any number of dispatchers together stay
 * within the limit and one that dies holds no share. Bulk is never given a slot far ahead, so a reply
 * queued anywhere goes first. A sender with no finite limit (`perSecond: Infinity`) is not paced.
 * Per-chat gaps are kept by the claim (`not_until`).
 */
export class SharedPacer {
  constructor(
    private readonly db: Db,
    /** the provider's rate-limited identity, e.g. telegram:<bot id>, whatsapp:<sender> */
    private readonly sender: string,
    private readonly limits: ChannelLimits,
    private readonly now: () => Date,
    private readonly sleep: Sleep = realSleep,
  ) {}

  /**
   * How late a send may leave its slot: L sends spaced MARGIN·1000/L ms apart span 1000·(MARGIN − 1) ms more than a
   * second, so one sent that late still never shares a provider's second with L others. A third of it is ours to be
   * late (17 ms); the rest is the request's way out (the SDK, the network), which varies.
   */
  private readonly lateMs = (1000 * (MARGIN - 1)) / 3;

  /** how long asking takes, lately: slots are asked for that far ahead, so one given "now" is not already late */
  private askMs = 0;

  /** the database said bulk must wait until then: this process's other bulk sends do not ask before it */
  private bulkFullUntil = 0;
  /** one question to the database at a time per process, replies let in first: waiting senders do not poll */
  private asking = false;
  private waiting: { priority: number; go: () => void }[] = [];

  private async turn(priority: number): Promise<() => void> {
    const release = () => {
      const next = this.waiting.shift();
      if (next) next.go();
      else this.asking = false;
    };
    if (!this.asking) {
      this.asking = true;
      return release;
    }
    await new Promise<void>((go) => {
      const at = this.waiting.findIndex((w) => w.priority > priority);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, { priority, go });
    });
    return release;
  }

  /**
   * Resolves at the time one more message of this priority may leave, the outbox row then marked as leaving;
   * false when the row is no longer this worker's (its lease ran out and another dispatcher took it): do not send it.
   */
  async take(priority: number, row?: { id: number; worker: string }): Promise<boolean> {
    if (!Number.isFinite(this.limits.perSecond)) return true;
    const bulk = priority >= BULK_PRIORITY;
    let gaveUp = false;
    for (;;) {
      if (bulk && this.bulkFullUntil > this.now().getTime()) {
        await this.sleep(this.bulkFullUntil - this.now().getTime());
        continue;
      }
      const release = await this.turn(priority);
      // the one asking before may have just learned that bulk must wait
      if (bulk && this.bulkFullUntil > this.now().getTime()) {
        release();
        continue;
      }
      const asked = this.now().getTime();
      const from = asked + Math.round(this.askMs);
      let slot: { reserved: boolean; wait_ms: number; claimed: boolean };
      try {
        slot = await call(this.db, 'pacing_take', {
          p_sender: this.sender,
          p_per_second: this.limits.perSecond,
          p_priority: priority,
          p_now: new Date(from).toISOString(),
          p_outbox_id: row?.id ?? null,
          p_worker: row?.worker ?? null,
        });
      } finally {
        release();
      }
      const answered = this.now().getTime();
      this.askMs = 0.8 * this.askMs + 0.2 * (answered - asked);
      if (!slot.claimed) return false;
      const wait = from + slot.wait_ms - answered;
      if (slot.reserved) {
        if (wait > 0) await this.sleep(wait);
        // a send that leaves later would crowd the next ones past the limit: give the slot up and ask again,
        // once (a process late every time still sends: a provider's 429 is retried, a stalled queue is not)
        if (gaveUp || this.now().getTime() - (from + slot.wait_ms) <= this.lateMs) return true;
        gaveUp = true;
        continue;
      }
      this.bulkFullUntil = Math.max(this.bulkFullUntil, from + slot.wait_ms);
      await this.sleep(Math.max(1, wait));
    }
  }
}
