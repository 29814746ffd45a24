import { telegramRig } from './telegram-rig';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../bot/config';
import { openDataDoor } from '../../bot/db/client';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { createMetrics } from '../../functions/metrics';

const TOKEN = '777001:BenchMetricsToken_abcdefghijklmn';
const SECRET = 'bench-metrics-secret';
const logger = createLogger('silent');
const ms = (n: number) => `${n.toFixed(2)} ms`;

/**
 * What metrics cost: Telegram webhook updates per second through our server, core and dispatcher with metrics
 * off and on (alternating rounds on one embedded database, so both see the same database size), then one
 * scrape's time with a 10,000-row outbox.
 */
export async function benchMetrics(n = Number(process.env.BENCH_METRICS_INBOUND ?? 1000), rounds = Number(process.env.BENCH_METRICS_ROUNDS ?? 4)) {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-'));
  const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
  try {
    const metrics = createMetrics({ db: door.supabase, logger });
    const emulator = createTelegramEmulator({ limits: { globalPerSecond: 1_000_000, perChatPerSecond: 1_000 } });
    emulator.addBot(TOKEN);
    const api = await emulator.listen();
    let next = 7_000_000;
    let updateId = 0;
    const outstanding = async () => (await door.executor!.query<{ n: number }>(`select count(*)::int as n from public.outbox where status in ('pending', 'sending')`))[0]!.n;
    /** one round on a fresh server, core and dispatcher, with or without metrics; closed once its replies are out */
    const run = async (withMetrics: boolean, count: number) => {
      const r = await telegramRig(door, { token: TOKEN, secret: SECRET, emulator: { emulator, apiRoot: api.apiRoot }, ...(withMetrics ? { metrics } : {}) });
      const ids = Array.from({ length: count }, () => next++);
      for (const id of ids) emulator.userSends(TOKEN, { id, firstName: 'M' }, 'hi');
      let i = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (i < ids.length) await r.post(ids[i++]!, 'ciao', ++updateId);
      }));
      const rate = count / ((performance.now() - t0) / 1000);
      while ((await outstanding()) > 0) await new Promise((res) => setTimeout(res, 20));
      await r.close();
      return rate;
    };
    await run(false, 200);
    await run(true, 200);
    const rates: { off: number[]; on: number[] } = { off: [], on: [] };
    for (let k = 0; k < rounds; k++) {
      rates.off.push(await run(false, n));
      rates.on.push(await run(true, n));
    }
    await emulator.close();
    await api.close();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const [rOff, rOn] = [mean(rates.off), mean(rates.on)];
    const inbound = (await metrics.scrape()).body.match(/^familybot_inbound_seconds_count\{channel="telegram"\} (\d+)$/m)?.[1];
    console.log(
      `metrics overhead: ${n} Telegram webhook updates × ${rounds} alternating rounds, 16 concurrent, embedded database: ` +
        `off ${rOff.toFixed(0)} updates/s (${rates.off.map((r) => r.toFixed(0)).join(', ')}), on ${rOn.toFixed(0)} updates/s (${rates.on.map((r) => r.toFixed(0)).join(', ')}); ` +
        `on/off ${(rOn / rOff).toFixed(3)} (per round ${rates.on.map((r, k) => (r / rates.off[k]!).toFixed(3)).join(', ')}); inbound counted with metrics on: ${inbound}`,
    );

    // what metrics add to one message, alone: a count and a latency at the core, a count at the dispatcher
    const alone = createMetrics({ db: door.supabase, logger, processMetrics: false });
    const calls = 1_000_000;
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) {
      alone.inbound.onInbound('telegram', 'handled', 0.02);
      alone.sends.onSend('telegram', 'sent', false);
    }
    console.log(`metrics per message, alone: ${(((performance.now() - t0) * 1e6) / calls).toFixed(0)} ns (onInbound + onSend, ${calls} calls) against ${ms(1000 / rOff)} of wall time per update at the rate above`);

    // a 10,000-row outbox of every status, priority and both channels, on top of the rounds' (sent) rows; then a long sent history
    await door.executor!.query(`insert into public.contacts (channel, provider_id, language, language_confirmed) values ('telegram', 'bench-metrics', 'it', true)`);
    const add = (from: number, to: number, status: string) =>
      door.executor!.query(
        `insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, status, not_before)
         select 'bench-metrics:' || g, c.id, case when (g / 50) % 2 = 0 then 'whatsapp' else 'telegram' end, 'notice', g % 10, '{"text":"x"}', ${status}, '2030-01-01'
           from generate_series(${from}, ${to}) g, public.contacts c where c.provider_id = 'bench-metrics'`,
      );
    const scrapes = async (label: string) => {
      await door.executor!.query('analyze public.outbox');
      const total = (await door.executor!.query<{ n: number }>(`select count(*)::int as n from public.outbox`))[0]!.n;
      const open = (await door.executor!.query<{ n: number }>(`select count(*)::int as n from public.outbox where status in ('pending', 'sending', 'held', 'failed')`))[0]!.n;
      const times: number[] = [];
      let body = '';
      for (let k = 0; k < 50; k++) {
        const t0 = performance.now();
        body = (await metrics.scrape()).body;
        times.push(performance.now() - t0);
      }
      const rpc: number[] = [];
      for (let k = 0; k < 50; k++) {
        const t0 = performance.now();
        await door.supabase.rpc('outbox_depth');
        rpc.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      rpc.sort((a, b) => a - b);
      const series = body.split('\n').filter((l) => l.startsWith('familybot_outbox_depth{')).length;
      console.log(
        `metrics scrape, ${label}: outbox of ${total} rows (${open} not done): one scrape p50 ${ms(times[25]!)}, max ${ms(times.at(-1)!)} ` +
          `(50 scrapes, ${body.length} bytes with Node's process metrics, ${series} depth series); the outbox_depth rpc alone p50 ${ms(rpc[25]!)}`,
      );
    };
    await add(1, 10_000, `(array['pending', 'held', 'failed', 'sent', 'cancelled'])[1 + (g / 10) % 5]`);
    await scrapes('10,000 rows added (2 channels × 5 statuses × 10 priorities)');
    await add(10_001, 110_000, `'sent'`);
    await scrapes('and 100,000 sent rows more');
  } finally {
    await door.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Our server, core and dispatcher, with or without metrics, against an emulator whose limits are lifted: our side only. */
