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
 * after the provider accepted a message and before `outbox_record` committed leaves the row 'sending'; when
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
  private woken = false;
  private expiredAt = -Infinity;
  private loop?: Promise<void>;

  constructor(private readonly opts: DispatcherOptions) {
    this.workerId = opts.workerId ?? `${opts.sender.channel}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.sleep = opts.sleep ?? realSleep;
    this.pacer = new SharedPacer(opts.db, opts.sender.paceKey ?? opts.sender.channel, opts.sender.limits, () => opts.clock.now(), this.sleep);
  }

  /** One claim-send-record round; returns what happened. */
  async runOnce(): Promise<DispatchRound> {
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
      p_limit: this.opts.batchSize ?? Math.max(10, sender.limits.perSecond),
      p_lease_seconds: this.opts.leaseSeconds ?? 60,
      p_chat_gap_ms: chatGapMs(sender.limits),
    });
    const rows = claimed ?? [];
    const outcomes: DispatchRound['outcomes'] = { sent: 0, retry: 0, contact_gone: 0, permanent: 0, no_template: 0 };
    // the chats another process just wrote to wait their gap: the ready ones go first
    const t = clock.now().getTime();
    const readyAt = (m: ClaimedMessage) => Math.max(m.notUntil?.getTime() ?? t, t);
    const queue = rows.map(toMessage).sort((a, b) => readyAt(a) - readyAt(b));
    const worker = async () => {
      for (let message = queue.shift(); message; message = queue.shift()) {
        const chatWait = message.notUntil ? message.notUntil.getTime() - clock.now().getTime() : 0;
        if (chatWait > 0) await this.sleep(chatWait);
        if (!(await this.pacer.take(message.priority, { id: message.id, worker: this.workerId }))) {
          // held too long (its lease ran out) and claimed by another dispatcher: it is theirs to send
          this.opts.logger.warn({ channel: sender.channel, outbox: message.id }, 'claim expired before sending: left to another dispatcher');
          continue;
        }
        let outcome = await sender.send(message, clock.now());
        const rateLimited = outcome.kind === 'retry' && outcome.rateLimited === true;
        if (outcome.kind === 'retry' && message.attempts >= (this.opts.maxAttempts ?? 12)) {
          outcome = { kind: 'permanent', reason: `gave up after ${message.attempts} attempts: ${outcome.reason}` };
        }
        outcomes[outcome.kind]++;
        this.opts.metrics?.onSend(sender.channel, outcome.kind, rateLimited);
        await this.record(message, outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 8, rows.length) }, worker));
    return { claimed: rows.length, outcomes };
  }

  private async record(message: OutboundMessage, outcome: SendOutcome) {
    const now = this.opts.clock.now();
    const retryAt = outcome.kind === 'retry' ? new Date(now.getTime() + (outcome.retryAfterMs ?? backoffMs(message.attempts))) : null;
    await call(this.opts.db, 'outbox_record', {
      p_id: message.id,
      p_worker: this.workerId,
      p_outcome: outcome.kind,
      p_provider_message_id: outcome.kind === 'sent' ? outcome.providerMessageId : null,
      p_error: outcome.kind === 'sent' ? null : outcome.reason,
      p_retry_at: retryAt?.toISOString() ?? null,
      p_now: now.toISOString(),
    });
    if (outcome.kind !== 'sent') {
      this.opts.logger.warn({ channel: this.opts.sender.channel, outbox: message.id, outcome: outcome.kind, reason: outcome.reason }, 'message not sent');
    }
  }

  /** Runs until stopped: rounds back to back while there is work, then waits for `notify()` or the idle interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let claimed = 0;
        try {
          claimed = (await this.runOnce()).claimed;
        } catch (err) {
          this.opts.logger.error({ channel: this.opts.sender.channel, err: (err as Error).message }, 'dispatch round failed');
        }
        if (claimed === 0 && this.running && !this.woken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.opts.idleMs ?? 500);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
        this.woken = false;
      }
    })();
  }

  /** Something was just queued: look now instead of at the next poll. */
  notify(): void {
    this.woken = true; // a notice that comes mid-round must not wait for the idle interval
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
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
