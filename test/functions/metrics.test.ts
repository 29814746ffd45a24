import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import type { Job } from '../../bot/core/jobs';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createLogger } from '../../bot/logger';
import { findJob, runScheduled } from '../../functions/jobs';
import { createMetrics, serveMetrics, type Metrics } from '../../functions/metrics';
import { createApp } from '../../functions/server';
import { pgliteDb, type TestDb } from '../support/door';
import { freePort, runScript, waitForHealthy } from '../support/processes';
import { SECRET, telegramStack, TOKEN, type Stack } from '../support/telegram-stack';
import { whatsappStack } from '../support/whatsapp-stack';

const logger = createLogger('silent');
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, one sample a line. */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

/** The one sample of `name` with these labels (others may be there), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

const scrapeWithToken = async (url: string) => {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

/** Polls until `ok` holds for a scrape (the dispatcher sends in the background), and returns that scrape. */
async function scrapeUntil(scrape: () => Promise<string>, ok: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape();
    if (ok(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every label value of our own series: words and priorities, never an id, a number or a text. */
function ownLabelValues(text: string): string[] {
  return samples(text)
    .filter((s) => s.name.startsWith('familybot_'))
    .flatMap((s) => Object.entries(s.labels).filter(([k]) => k !== 'le').map(([, v]) => v));
}

const rows = async (t: TestDb, sql: string) => t.sql.query<Record<string, string | number>>(sql);

describe('GET /metrics after real traffic', () => {
  let s: Stack | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  const stack = (spoolDepth?: () => number) =>
    telegramStack('webhook', undefined, undefined, { metrics: (t) => createMetrics({ db: t.db, logger, ...(spoolDepth ? { spoolDepth } : {}) }), env: { METRICS_TOKEN } });

  it('counts her messages by outcome and times them, counts the sends, and shows the outbox as the database has it', async () => {
    s = await stack(() => 3);
    const chat = 734219865;
    s.emulator.userSends(TOKEN, { id: chat, firstName: 'Amina', languageCode: 'it' }, 'ciao, sono Amina');
    await s.emulator.waitForMessages(TOKEN, chat, 2, 10_000);

    // an update that meets a database in trouble fails (Telegram will redeliver), then goes through, then is a duplicate
    const update = { update_id: 900_001, message: { message_id: 50, date: 1, chat: { id: chat, type: 'private', first_name: 'Amina' }, from: { id: chat, is_bot: false, first_name: 'Amina' }, text: 'ciao' } };
    const post = () => fetch(`${s!.url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    await s.t.sql.query('alter function public.inbound_begin rename to inbound_begin_away');
    expect((await post()).status).toBe(500);
    await s.t.sql.query('alter function public.inbound_begin_away rename to inbound_begin');
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);

    // everything queued goes out; then rows that stay: one waiting for later, one held, one failed
    const outstanding = async () => Number((await rows(s!.t, `select count(*) as n from public.outbox where status in ('pending', 'sending')`))[0]!.n);
    for (let i = 0; i < 300 && (await outstanding()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await outstanding()).toBe(0);
    await s.t.sql.query(`insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, status, not_before)
      select k, c.id, 'telegram', 'notice', p, '{"text":"x"}', st, '2030-01-01' from public.contacts c,
        (values ('m:1', 5, 'pending'), ('m:2', 5, 'pending'), ('m:3', 3, 'held'), ('m:4', 0, 'failed')) v(k, p, st)`);

    const sent = Number((await rows(s.t, `select count(*) as n from public.outbox where status = 'sent'`))[0]!.n);
    expect(sent).toBeGreaterThanOrEqual(2);
    const text = await scrapeUntil(() => scrapeWithToken(s!.url), (t) => value(t, 'familybot_sends_total', { channel: 'telegram', outcome: 'sent' }) === sent);

    expect(value(text, 'familybot_inbound_total', { channel: 'telegram', outcome: 'handled' })).toBe(2);
    expect(value(text, 'familybot_inbound_total', { channel: 'telegram', outcome: 'duplicate' })).toBe(1);
    expect(value(text, 'familybot_inbound_total', { channel: 'telegram', outcome: 'failed' })).toBe(1);
    expect(value(text, 'familybot_inbound_seconds_count', { channel: 'telegram' })).toBe(4);
    expect(value(text, 'familybot_inbound_seconds_sum', { channel: 'telegram' })).toBeGreaterThan(0);

    expect(value(text, 'familybot_sends_total', { channel: 'telegram', outcome: 'sent' })).toBe(sent);
    expect(samples(text).filter((x) => x.name === 'familybot_sends_total' && x.labels.outcome !== 'sent')).toEqual([]);

    const depth = await rows(s.t, `select channel, status, priority::text as priority, count(*)::int as n from public.outbox where status not in ('sent', 'cancelled') group by 1, 2, 3`);
    expect(depth).toHaveLength(3);
    const scraped = samples(text).filter((x) => x.name === 'familybot_outbox_depth' && x.value > 0);
    const byStatus = (a: { status: unknown }, b: { status: unknown }) => String(a.status).localeCompare(String(b.status));
    expect(scraped.map((x) => ({ channel: x.labels.channel, status: x.labels.status, priority: x.labels.priority, n: x.value })).sort(byStatus)).toEqual(
      depth.map((r) => ({ channel: r.channel, status: r.status, priority: r.priority, n: r.n })).sort(byStatus),
    );
    expect(value(text, 'familybot_outbox_depth', { channel: 'telegram', status: 'pending', priority: '5' })).toBe(2);
    expect(value(text, 'familybot_database_up')).toBe(1);
    expect(value(text, 'familybot_spool_depth')).toBe(3);
    expect(value(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    // nothing personal: no chat id, name or word of hers, and every label value is a word or a priority
    for (const personal of [String(chat), 'Amina', 'ciao']) expect(text).not.toContain(personal);
    expect(ownLabelValues(text).filter((v) => !/^(?:[a-z_]+|\d)$/.test(v))).toEqual([]);

    // a status that empties reads 0 at the next scrape, not a series gone missing
    await s.t.sql.query(`update public.outbox set status = 'cancelled' where status = 'held'`);
    expect(value(await scrapeWithToken(s.url), 'familybot_outbox_depth', { channel: 'telegram', status: 'held', priority: '3' })).toBe(0);
  }, 40_000);

  it('counts a 429 from Telegram, and the retry and the send that follow it', async () => {
    s = await stack();
    s.emulator.inject({ kind: '429', count: 1, retryAfter: 1, methods: ['sendMessage'] });
    s.emulator.userSends(TOKEN, { id: 734219866, firstName: 'Mina', languageCode: 'it' }, 'ciao');
    await s.emulator.waitForMessages(TOKEN, 734219866, 2, 15_000);
    expect(s.emulator.stats().tooManyRequests).toBe(1);
    const text = await scrapeUntil(() => scrapeWithToken(s!.url), (t) => value(t, 'familybot_sends_total', { channel: 'telegram', outcome: 'sent' }) === 2);
    expect(value(text, 'familybot_rate_limited_total', { channel: 'telegram' })).toBe(1);
    expect(value(text, 'familybot_sends_total', { channel: 'telegram', outcome: 'retry' })).toBe(1);
    expect(value(text, 'familybot_sends_total', { channel: 'telegram', outcome: 'sent' })).toBe(2);
    expect(value(text, 'familybot_spool_depth')).toBeUndefined();
  }, 30_000);

  it('counts a WhatsApp message under its channel, with no phone number in the output', async () => {
    const t = await pgliteDb();
    const wa = await whatsappStack(t);
    try {
      const metrics = createMetrics({ db: t.db, logger, processMetrics: false });
      wa.core.metrics = metrics.inbound;
      const sent = await wa.emulator.userSends('whatsapp:+393331234567', { body: 'ciao', profileName: 'Amina' });
      expect(sent.status).toBe(200);
      await wa.flush();
      const text = (await metrics.scrape()).body;
      expect(value(text, 'familybot_inbound_total', { channel: 'whatsapp', outcome: 'handled' })).toBe(1);
      expect(value(text, 'familybot_inbound_seconds_count', { channel: 'whatsapp' })).toBe(1);
      for (const personal of ['3331234567', 'Amina', 'ciao']) expect(text).not.toContain(personal);
    } finally {
      await wa.close();
      await t.close();
    }
  }, 30_000);
});

describe('job durations', () => {
  it('times each scheduled run by job and outcome: ran, skipped (slot already taken), failed', async () => {
    const t = await pgliteDb();
    try {
      const metrics = createMetrics({ db: t.db, logger, processMetrics: false });
      const clock = new FakeClock('2026-11-23T10:00:00+01:00');
      const deps = { db: t.db, logger, config: loadConfig({}), i18n: createTranslator() };
      const housekeeping = findJob('housekeeping')!;
      await runScheduled(housekeeping, deps, clock, metrics.jobs);
      await runScheduled(housekeeping, deps, clock, metrics.jobs);
      const broken: Job = { ...housekeeping, name: 'broken', run: async () => Promise.reject(new Error('no')) };
      await runScheduled(broken, deps, clock, metrics.jobs);
      const text = (await metrics.scrape()).body;
      expect(value(text, 'familybot_job_seconds_count', { job: 'housekeeping', outcome: 'ran' })).toBe(1);
      expect(value(text, 'familybot_job_seconds_count', { job: 'housekeeping', outcome: 'skipped' })).toBe(1);
      expect(value(text, 'familybot_job_seconds_count', { job: 'broken', outcome: 'failed' })).toBe(1);
      expect(value(text, 'familybot_job_seconds_sum', { job: 'housekeeping', outcome: 'ran' })).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});

describe('who may read /metrics', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  async function server(env: Record<string, string>, metrics: Metrics, t: TestDb) {
    const door = { supabase: t.db, mode: 'embedded' as const, schemaVersion: null, close: async () => undefined };
    const clock = new FakeClock('2026-11-23T10:00:00Z');
    const served = await serveFetch(createApp({ config: loadConfig(env), logger, clock, door, startedAt: clock.now(), channels: { mounts: [] }, metrics }));
    stops.push(() => served.close());
    return served.url;
  }

  it('answers 404 on the public port without METRICS_TOKEN, and with it 401 to a missing or wrong token and 200 to the right one', async () => {
    const t = await pgliteDb();
    stops.push(() => t.close());
    const metrics = createMetrics({ db: t.db, logger, processMetrics: false });
    const open = await server({}, metrics, t);
    expect((await fetch(`${open}/metrics`)).status).toBe(404);
    expect((await fetch(`${open}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);

    const guarded = await server({ METRICS_TOKEN }, metrics, t);
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer metrics-token-0123456789abcdeX' }, { authorization: `Bearer ${METRICS_TOKEN}x` }, { authorization: `Basic ${METRICS_TOKEN}` }, { authorization: 'Bearer ' }];
    for (const headers of wrong) {
      const res = await fetch(`${guarded}/metrics`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(await res.text()).not.toContain('familybot_');
    }
    const right = await fetch(`${guarded}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('# TYPE familybot_inbound_total counter');
  });

  it('serves the metrics port on 127.0.0.1 only, at /metrics only', async () => {
    const t = await pgliteDb();
    stops.push(() => t.close());
    const served = await serveMetrics(createMetrics({ db: t.db, logger, processMetrics: false }), 0);
    stops.push(() => served.close());
    expect(served.server.address()).toMatchObject({ address: '127.0.0.1' });
    const res = await fetch(`${served.url}/metrics`);
    expect(res.status).toBe(200);
    expect(value(await res.text(), 'familybot_database_up')).toBe(1);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${served.url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('costs one database call per scrape', async () => {
    const t = await pgliteDb();
    stops.push(() => t.close());
    const calls: string[] = [];
    const db = new Proxy(t.db, {
      get: (target, prop, receiver) => (prop === 'rpc' ? (fn: string, args?: never) => (calls.push(fn), target.rpc(fn, args)) : Reflect.get(target, prop, receiver)),
    });
    const metrics = createMetrics({ db, logger });
    await metrics.scrape();
    await metrics.scrape();
    expect(calls).toEqual(['outbox_depth', 'outbox_depth']);
  });

  it('reports the database down, with no depth series, when the outbox query fails, and still answers the scrape', async () => {
    const t = await pgliteDb();
    stops.push(() => t.close());
    const metrics = createMetrics({ db: t.db, logger, processMetrics: false });
    await t.sql.query('alter function public.outbox_depth rename to outbox_depth_away');
    const text = (await metrics.scrape()).body;
    expect(value(text, 'familybot_database_up')).toBe(0);
    expect(samples(text).filter((x) => x.name === 'familybot_outbox_depth')).toEqual([]);
  });
});

describe('npm start', () => {
  it('serves /metrics on 127.0.0.1:METRICS_PORT and not on the public port', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'familybot-metrics-'));
    const [port, metricsPort] = [await freePort(), await freePort()];
    const server = runScript('functions/main.ts', [], { DATA_DIR: dataDir, PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info' });
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 40_000);
      // started through and through (channels and jobs too), so the stop below is an ordinary one
      for (let i = 0; i < 400 && !server.output().includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(server.output()).toContain(`"metrics":"http://127.0.0.1:${metricsPort}/metrics"`);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(value(text, 'familybot_database_up')).toBe(1);
      expect(value(text, 'familybot_spool_depth')).toBe(0);
    } finally {
      server.child.kill('SIGTERM');
      const stopped = await server.done;
      await rm(dataDir, { recursive: true, force: true });
      expect(stopped.code, stopped.stderr).toBe(0);
    }
  }, 60_000);

  it('stops with one line when METRICS_PORT is taken', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'familybot-metrics-'));
    const taken = await serveFetch(async () => new Response('mine'), { port: await freePort(), host: '127.0.0.1' });
    try {
      const out = await runScript('functions/main.ts', [], { DATA_DIR: dataDir, PORT: String(await freePort()), METRICS_PORT: String(taken.port), LOG_LEVEL: 'warn' }).done;
      expect(out.code).toBe(1);
      expect(out.stderr.trim()).toBe(`Configuration error: METRICS_PORT ${taken.port} is already in use (choose another, or 0 for no metrics listener)`);
    } finally {
      await taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
