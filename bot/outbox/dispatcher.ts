import { randomBytes } from 'node:crypto';
import type { ChannelSender, OutboundMessage, SendOutcome } from '../channels/types';
import type { Clock } from '../clock';
import type { ChannelName } from '../core/types';
import type { Db } from '../db/client';
import { call } from '../db/rpc';
import type { Logger } from '../logger';
import { chatGapMs, realSleep, SharedPacer, type Sleep } from './pacing';

export interface DispatcherOptions {
  db: Db;
  sender: ChannelSender;
  clock: Clock;
  logger: Logger;
  workerId?: string;
  /** rows claimed per round */
  batchSize?: number;
  /** how long a claim is ours; a dispatcher that dies mid-send frees its rows after this */
  leaseSeconds?: number;
  /** idle poll interval when nothing wakes it */
  idleMs?: number;
  /** after this many attempts a retryable failure becomes permanent */
  maxAttempts?: number;
  /** sends in flight at once; a batch holds at most one row per chat, so this never reorders a chat */
  concurrency?: number;
  sleep?: Sleep;
  /** told of each send's outcome (functions/metrics.ts); none when absent */
  metrics?: SendMetrics;
}

/** What the dispatcher reports of each send: plain methods, so it knows nothing of Prometheus. */
export interface SendMetrics {
  /** `rateLimited`: the provider answered 429 */
  onSend(channel: ChannelName, outcome: SendOutcome['kind'], rateLimited: boolean): void;
}

export interface DispatchRound {
  claimed: number;
  outcomes: Record<SendOutcome['kind'], number>;
}

/** Exponential back-off for 5xx and network errors: 3 s doubling, capped at one hour (as grammY's auto-retry). */
export const backoffMs = (attempt: number) => Math.min(3_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);

/**
 * Sends one channel's outbox rows. Delivery is at-least-once at exactly one boundary: a dispatcher that dies
 * after the provider accepted a message and before its outcome was recorded (`outbox_record_many`) leaves the row 'sending'; when
 * its lease runs out the row is claimed and sent again, except a broadcast already given its send slot, which
 * fails as "interrupted" (a notice twice is worse than one reported as perhaps not arrived); one it had claimed but
 * not begun is sent by another dispatcher. Everything before that boundary is exactly-once:
 * the idempotency key stops the same message being queued twice, and SKIP LOCKED claims stop two
 * dispatchers taking the same row.
 */
export class Dispatcher {
  private readonly pacer: SharedPacer;
  private readonly sleep: Sleep;
  private readonly workerId: string;
  private running = false;
  private wake?: () => void;
  private expiredAt = -Infinity;
  private loop?: Promise<void>;

  constructor(private readonly opts: DispatcherOptions) {
    this.workerId = opts.workerId ?? `${opts.sender.channel}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.sleep = opts.sleep ?? realSleep;
    this.pacer = new SharedPacer(opts.db, opts.sender.paceKey ?? opts.sender.channel, opts.sender.limits, () => opts.clock.now(), this.sleep);
  }

  /** One claim-send-record round; returns what happened. */
  async runOnce(): Promise<DispatchRound> {
    const rows = await this.claim(this.batchSize);
    const outcomes: DispatchRound['outcomes'] = { sent: 0, retry: 0, contact_gone: 0, permanent: 0, no_template: 0 };
    const queue = [...rows];
    const worker = async () => {
      for (let message = queue.shift(); message; message = queue.shift()) {
        const outcome = await this.deliver(message);
        if (outcome) outcomes[outcome]++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, rows.length) }, worker));
    return { claimed: rows.length, outcomes };
  }

  private get batchSize() {
    return this.opts.batchSize ?? Math.max(10, this.opts.sender.limits.perSecond);
  }

  private get concurrency() {
    return this.opts.concurrency ?? 8;
  }

  /** Claims up to `limit` rows, the chats that may be written to soonest first. */
  private async claim(limit: number): Promise<ClaimedMessage[]> {
    const { db, sender, clock } = this.opts;
    // a bulk message whose sender died mid-send may have arrived: fail it with that reason rather than send it twice
    // (a lease lasts leaseSeconds, so looking twice per lease is enough)
    if (clock.now().getTime() - this.expiredAt >= (this.opts.leaseSeconds ?? 60) * 500) {
      await call(db, 'outbox_expire_bulk', { p_channel: sender.channel, p_now: clock.now().toISOString() });
      this.expiredAt = clock.now().getTime();
    }
    const claimed = await call<Record<string, unknown>[] | null>(db, 'outbox_claim', {
      p_worker: this.workerId,
      p_channel: sender.channel,
      p_now: clock.now().toISOString(),
      p_limit: limit,
      p_lease_seconds: this.opts.leaseSeconds ?? 60,
      p_chat_gap_ms: chatGapMs(sender.limits),
    });
    // the chats another process just wrote to wait their gap: the ready ones go first
    const t = clock.now().getTime();
    const readyAt = (m: ClaimedMessage) => Math.max(m.notUntil?.getTime() ?? t, t);
    return (claimed ?? []).map(toMessage).sort((a, b) => readyAt(a) - readyAt(b));
  }

  /** Waits out the chat's gap and a send slot, sends, records; the outcome, or none when the row is no longer ours. */
  private async deliver(message: ClaimedMessage): Promise<SendOutcome['kind'] | undefined> {
    const { sender, clock } = this.opts;
    const chatWait = message.notUntil ? message.notUntil.getTime() - clock.now().getTime() : 0;
    if (chatWait > 0) await this.sleep(chatWait);
    if (!(await this.pacer.take(message.priority, { id: message.id, worker: this.workerId }))) {
      // held too long (its lease ran out) and claimed by another dispatcher: it is theirs to send
      this.opts.logger.warn({ channel: sender.channel, outbox: message.id }, 'claim expired before sending: left to another dispatcher');
      return undefined;
    }
    let outcome = await sender.send(message, clock.now());
    const rateLimited = outcome.kind === 'retry' && outcome.rateLimited === true;
    if (outcome.kind === 'retry' && message.attempts >= (this.opts.maxAttempts ?? 12)) {
      outcome = { kind: 'permanent', reason: `gave up after ${message.attempts} attempts: ${outcome.reason}` };
    }
    this.opts.metrics?.onSend(sender.channel, outcome.kind, rateLimited);
    await this.record(message, outcome);
    return outcome.kind;
  }

  /** outcomes finished while a recording call was on its way: they go together in the next one */
  private unrecorded: { record: Record<string, unknown>; resolve: () => void; reject: (err: Error) => void }[] = [];
  private recording = false;

  /** Resolves once the outcome is committed; the first waits for nobody, the rest share the next call. */
  private record(message: OutboundMessage, outcome: SendOutcome): Promise<void> {
    const now = this.opts.clock.now();
    const retryAt = outcome.kind === 'retry' ? new Date(now.getTime() + (outcome.retryAfterMs ?? backoffMs(message.attempts))) : null;
    if (outcome.kind !== 'sent') {
      this.opts.logger.warn({ channel: this.opts.sender.channel, outbox: message.id, outcome: outcome.kind, reason: outcome.reason }, 'message not sent');
    }
    const record = {
      id: message.id,
      outcome: outcome.kind,
      provider_message_id: outcome.kind === 'sent' ? outcome.providerMessageId : null,
      error: outcome.kind === 'sent' ? null : outcome.reason,
      retry_at: retryAt?.toISOString() ?? null,
      at: now.toISOString(),
    };
    return new Promise((resolve, reject) => {
      this.unrecorded.push({ record, resolve, reject });
      void this.flushRecords();
    });
  }

  private async flushRecords() {
    if (this.recording) return;
    this.recording = true;
    try {
      while (this.unrecorded.length > 0) {
        const batch = this.unrecorded.splice(0, 100);
        try {
          const statuses = await call<string[]>(this.opts.db, 'outbox_record_many', { p_worker: this.workerId, p_records: batch.map((b) => b.record) });
          batch.forEach((b, i) => (statuses[i]?.startsWith('error: ') ? b.reject(new Error(`outbox_record ${statuses[i]}`)) : b.resolve()));
        } catch (err) {
          // not recorded: the rows stay 'sending' and go again when their lease runs out (the at-least-once boundary)
          for (const b of batch) b.reject(err as Error);
        }
      }
    } finally {
      this.recording = false;
    }
  }

  /**
   * Runs until stopped. Claiming never waits for a whole batch to finish: while fewer rows are waiting than there
   * are senders, more are claimed (a chat with a row in hand is never claimed twice, so its order holds), and the
   * senders take them as they come; with nothing to send it waits for `notify()` or the idle interval.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    const queue: ClaimedMessage[] = [];
    let busy = 0;
    const senderWoken = new Signal();
    const claimerWoken = new Signal();
    this.wake = () => claimerWoken.fire();
    const claimer = async () => {
      while (this.running) {
        let claimed = 0;
        const room = this.batchSize - queue.length - busy;
        if (queue.length < this.concurrency && room > 0) {
          try {
            const rows = await this.claim(room);
            claimed = rows.length;
            queue.push(...rows);
            senderWoken.fire();
          } catch (err) {
            this.opts.logger.error({ channel: this.opts.sender.channel, err: (err as Error).message }, 'dispatch round failed');
          }
        }
        // nothing came (or the queue is full): wait for a sender to free room, a notice, or the idle interval
        if ((claimed === 0 || queue.length >= this.concurrency) && this.running) await claimerWoken.wait(this.opts.idleMs ?? 500);
      }
      senderWoken.fire();
    };
    const sender = async () => {
      // on stop, what was claimed is still sent: its lease would otherwise hold it for a minute
      while (this.running || queue.length > 0) {
        const message = queue.shift();
        if (!message) {
          await senderWoken.wait(this.opts.idleMs ?? 500);
          continue;
        }
        busy++;
        try {
          await this.deliver(message);
        } catch (err) {
          this.opts.logger.error({ channel: this.opts.sender.channel, outbox: message.id, err: (err as Error).message }, 'dispatch failed');
        } finally {
          busy--;
          if (queue.length < this.concurrency) claimerWoken.fire();
        }
      }
    };
    this.loop = Promise.all([claimer(), ...Array.from({ length: this.concurrency }, sender)]).then(() => undefined);
  }

  /** Something was just queued: look now instead of at the next poll. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.wake = undefined;
  }
}

/** Wakes whoever waits on it, or the next one to wait if none does yet (a wake-up between two waits is not lost). */
class Signal {
  private fired = false;
  private waiters: (() => void)[] = [];

  fire(): void {
    const waiters = this.waiters;
    this.waiters = [];
    if (waiters.length === 0) this.fired = true;
    for (const w of waiters) w();
  }

  async wait(ms: number): Promise<void> {
    if (this.fired) {
      this.fired = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, ms);
      this.waiters.push(done);
    });
  }
}

/** A claimed row: the message, its priority (bulk paces behind replies) and when its chat may next be written to. */
type ClaimedMessage = OutboundMessage & { priority: number; notUntil: Date | null };

function toMessage(r: Record<string, unknown>): ClaimedMessage {
  return {
    id: Number(r.id),
    priority: Number(r.priority),
    notUntil: r.not_until ? new Date(r.not_until as string) : null,
    contactId: r.contact_id as string,
    providerId: r.provider_id as string,
    language: r.language as string,
    lastInboundAt: r.last_inbound_at ? new Date(r.last_inbound_at as string) : null,
    kind: r.kind as string,
    payload: r.payload as OutboundMessage['payload'],
    attempts: Number(r.attempts),
    template: r.template_sid ? { contentSid: r.template_sid as string, variables: (r.template_variables as string[]) ?? [] } : null,
  };
}
