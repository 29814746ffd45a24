import { createHash, timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InboundMetrics } from '../bot/core/context';
import type { Db } from '../bot/db/client';
import { attempt } from '../bot/db/rpc';
import { serveFetch, type FetchHandler, type ServedHandler } from '../bot/http/node-adapter';
import type { Logger } from '../bot/logger';
import type { SendMetrics } from '../bot/outbox/dispatcher';

/**
 * GET /metrics in Prometheus' text format, on a registry of its own (never prom-client's global one: tests and
 * benches build several apps in one process). Labels are channels, outcomes, statuses, priorities and job names:
 * never a chat id, a phone number or a word she wrote.
 */

export type JobRunOutcome = 'ran' | 'skipped' | 'failed';

/** What the scheduler reports of each job run (functions/jobs/index.ts). */
export interface JobMetrics {
  onJob(job: string, outcome: JobRunOutcome, seconds: number): void;
}

export interface Metrics {
  readonly registry: Registry;
  /** given to the core (handleInbound) */
  readonly inbound: InboundMetrics;
  /** given to each channel's dispatcher */
  readonly sends: SendMetrics;
  /** given to the scheduler */
  readonly jobs: JobMetrics;
  /** one scrape: the exposition text and its content type; the outbox depth costs one grouped query */
  scrape(): Promise<{ body: string; contentType: string }>;
}

export interface MetricsOptions {
  db: Db;
  logger: Logger;
  /** WhatsApp webhooks kept on disk while the database was unreachable; no gauge when absent */
  spoolDepth?: () => number;
  /** Node's process metrics (CPU, memory, event loop, GC); default on */
  processMetrics?: boolean;
}

interface DepthRow {
  channel: string;
  status: string;
  priority: number;
  n: number;
}

const PREFIX = 'familybot_';

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const inboundTotal = new Counter({
    name: `${PREFIX}inbound_total`,
    help: 'Messages and button presses received, by channel and outcome (handled; duplicate: a redelivery already handled; failed: not handled this time, so Telegram redelivers it or the WhatsApp spool replays it).',
    labelNames: ['channel', 'outcome'] as const,
    registers,
  });
  const inboundSeconds = new Histogram({
    name: `${PREFIX}inbound_seconds`,
    help: 'Time to handle one inbound message in the core (handleInbound: decide, store, queue the replies), by channel.',
    labelNames: ['channel'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const sendsTotal = new Counter({
    name: `${PREFIX}sends_total`,
    help: 'Outbox sends by channel and outcome (sent, retry, contact_gone, permanent, no_template).',
    labelNames: ['channel', 'outcome'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: `${PREFIX}rate_limited_total`,
    help: 'Sends the provider answered with 429 (too many requests), by channel.',
    labelNames: ['channel'] as const,
    registers,
  });
  const jobSeconds = new Histogram({
    name: `${PREFIX}job_seconds`,
    help: 'Scheduled job runs by job and outcome (ran; skipped: another process had the slot; failed), in seconds.',
    labelNames: ['job', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers,
  });
  // one outbox_depth call per scrape: the registry collects every metric at once, so both gauges share it
  let reading: Promise<DepthRow[] | undefined> | undefined;
  const readDepth = () =>
    (reading ??= attempt<DepthRow[] | null>(opts.db, 'outbox_depth')
      .then((result) => {
        if ('data' in result) return result.data ?? [];
        opts.logger.warn({ err: result.error.message }, 'metrics: outbox depth unavailable');
        return undefined;
      })
      .finally(() => (reading = undefined)));

  new Gauge({
    name: `${PREFIX}database_up`,
    help: '1 when this scrape\'s outbox query answered, 0 when the database did not.',
    registers,
    async collect() {
      this.set((await readDepth()) ? 1 : 0);
    },
  });
  // a status that empties reads 0 rather than vanishing, so `outbox_depth{status="failed"}` stays a number
  const seen = new Map<string, { channel: string; status: string; priority: string }>();
  new Gauge({
    name: `${PREFIX}outbox_depth`,
    help: 'Outbox rows not done yet (pending, sending, held, failed) by channel, status and priority (0 = a reply, higher waits); read at scrape time in one query.',
    labelNames: ['channel', 'status', 'priority'] as const,
    registers,
    async collect() {
      const rows = await readDepth();
      // unknown is not zero: no depth series this scrape, and database_up says why
      if (!rows) return void this.reset();
      const now = new Map(rows.map((r) => [`${r.channel}/${r.status}/${r.priority}`, r]));
      for (const [key, r] of now) seen.set(key, { channel: r.channel, status: r.status, priority: String(r.priority) });
      for (const [key, labels] of seen) this.set(labels, now.get(key)?.n ?? 0);
    },
  });
  if (opts.spoolDepth) {
    const spoolDepth = opts.spoolDepth;
    new Gauge({
      name: `${PREFIX}spool_depth`,
      help: 'WhatsApp webhooks kept on local disk while the database was unreachable, waiting to be handled.',
      registers,
      collect() {
        this.set(spoolDepth());
      },
    });
  }

  return {
    registry,
    inbound: {
      onInbound(channel, outcome, seconds) {
        inboundTotal.inc({ channel, outcome });
        inboundSeconds.observe({ channel }, seconds);
      },
    },
    sends: {
      onSend(channel, outcome, limited) {
        sendsTotal.inc({ channel, outcome });
        if (limited) rateLimited.inc({ channel });
      },
    },
    jobs: {
      onJob(job, outcome, seconds) {
        jobSeconds.observe({ job, outcome }, seconds);
      },
    },
    async scrape() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}

const answer = async (metrics: Metrics) => {
  const { body, contentType } = await metrics.scrape();
  return new Response(body, { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
};

/** Equal in constant time whatever the lengths: both sides hashed first. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** GET /metrics on the public port (METRICS_TOKEN set): `Authorization: Bearer <token>` or 401. */
export function publicMetricsHandler(metrics: Metrics, token: string): FetchHandler {
  return async (req) => {
    const given = /^Bearer +(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '')?.[1] ?? '';
    if (!sameSecret(given, token)) return new Response('Unauthorized', { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
    return answer(metrics);
  };
}

/**
 * With no METRICS_TOKEN: GET /metrics on a listener of its own bound to 127.0.0.1 (METRICS_PORT). A separate port rather
 * than "loopback callers only" on the public one, because behind a reverse proxy every public request comes from loopback.
 */
export function serveMetrics(metrics: Metrics, port: number): Promise<ServedHandler> {
  return serveFetch(
    async (req) => {
      const { pathname } = new URL(req.url);
      if (pathname !== '/metrics') return new Response('Not Found', { status: 404 });
      if (req.method !== 'GET' && req.method !== 'HEAD') return new Response('Method Not Allowed', { status: 405, headers: { allow: 'GET' } });
      return answer(metrics);
    },
    { port, host: '127.0.0.1', maxBodyBytes: 1024 },
  );
}
