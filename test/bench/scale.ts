import pg from 'pg';
import { serviceKey, supabaseClient } from '../../bot/db/client';
import { postgresExecutor } from '../../bot/db/executor';
import { migrate } from '../../bot/db/migrate';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { createTwilioEmulator } from '../../bot/local/twilio-emulator';
import { createLogger } from '../../bot/logger';
import { loadConfig } from '../../bot/config';
import { findPostgres15, startPostgres15 } from '../support/postgres-servers';
import { freePort, runScript, waitForHealthy } from '../support/processes';
import { busiestSecond } from '../support/windows';

const TOKEN = '888000:ScaleBenchToken_abcdefghijklmnop';
const WA = { accountSid: `AC${'8'.repeat(32)}`, authToken: 'scale-bench-auth-token-0123456789ab', from: 'whatsapp:+390200000088' };

/**
 * Three bot processes (`npm start` with DATABASE_URL) on one PostgreSQL 15, behind the emulators with the
 * providers' real limits (Telegram 30/s and 1/s per chat, Twilio 80/s per sender): a broadcast to
 * BENCH_SCALE recipients on each channel (default 10,000 + 10,000). One process is killed with SIGKILL a
 * third of the way through WhatsApp's part. Rates are measured where the providers see them.
 */
export async function benchScale(n = Number(process.env.BENCH_SCALE ?? 10_000)) {
  const bin = findPostgres15();
  if (!bin) {
    console.log('scale: PostgreSQL 15 not found (install postgresql-15 or set PG15_BIN): skipped');
    return;
  }
  const server = await startPostgres15(bin);
  const stops: (() => Promise<unknown>)[] = [() => server.stop()];
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database bench_scale');
    await admin.end();
    const url = server.url.replace(/\/postgres$/, '/bench_scale');
    const executor = postgresExecutor(url);
    stops.unshift(() => executor.close());
    await migrate(executor);

    // the providers, in this process, each request timed as it arrives
    const telegram = createTelegramEmulator({ limits: { globalPerSecond: 30, perChatPerSecond: 1 } });
    telegram.addBot(TOKEN);
    const tgArrivals: number[] = [];
    const tgServer = await serveFetch((req, info) => {
      if (new URL(req.url).pathname.endsWith('/sendMessage')) tgArrivals.push(Date.now());
      return telegram.handle(req, info);
    });
    const twilio = createTwilioEmulator({ ...WA, senders: [WA.from], messagesPerSecond: 80, deliveryDelayMs: 5 });
    // outside her 24-hour window a notice goes as the approved template, as a real broadcast mostly does
    const content = `HX${'b'.repeat(32)}`;
    twilio.addTemplate(content, 'Avviso dal programma famiglie: {{1}}');
    const twServer = await twilio.listen();
    stops.unshift(async () => { await telegram.close(); await tgServer.close(); await twilio.close(); await twServer.close(); });

    const chats = Array.from({ length: n }, (_, i) => 8_000_000 + i);
    for (const id of chats) telegram.userSends(TOKEN, { id, firstName: 'M' }, 'ciao');
    // her chat exists (she opened it long ago); her words were answered then: confirm them, as getUpdates does
    for (let offset = 0; ;) {
      const got = (await (await fetch(`${tgServer.url}/bot${TOKEN}/getUpdates?offset=${offset}&limit=100`)).json()) as { result: { update_id: number }[] };
      if (got.result.length === 0) break;
      offset = got.result.at(-1)!.update_id + 1;
    }
    const numbers = Array.from({ length: n }, (_, i) => `+39334${String(i).padStart(7, '0')}`);
    await executor.query(
      `with f as (insert into public.families (district_code) select 'milano-' || (1 + g % 9) from generate_series(1, $1::int) g returning id, ref),
            n as (select id, row_number() over (order by ref) as i from f)
       insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
       select case when n.i <= $2 then 'telegram' else 'whatsapp' end,
              case when n.i <= $2 then ($3::bigint + n.i - 1)::text else '+39334' || lpad((n.i - $2 - 1)::text, 7, '0') end,
              'it', true, 'given', n.id, null
         from n`,
      [2 * n, n, chats[0]],
    );
    await executor.query(`insert into public.message_templates (kind, language, content_sid, variables) values ('broadcast', 'it', $1, '{notice}')`, [content]);

    // three identical processes, as an operator would run them behind a load balancer
    const procs = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const env = {
        DATABASE_URL: url, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn',
        TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: tgServer.url, TELEGRAM_WEBHOOK_SECRET: `scale-secret-${i}`,
        TWILIO_ACCOUNT_SID: WA.accountSid, TWILIO_AUTH_TOKEN: WA.authToken, TWILIO_WHATSAPP_FROM: WA.from, TWILIO_API_BASE: twServer.apiBase,
      };
      const proc = runScript('functions/main.ts', [], env, { direct: true });
      procs.push({ ...proc, port });
      stops.unshift(async () => { if (proc.child.exitCode === null) proc.child.kill('SIGTERM'); await proc.done; });
    }
    for (const p of procs) await waitForHealthy(`http://127.0.0.1:${p.port}/healthz`, 60_000);

    const secret = 'bench-scale-secret-0123456789abcdef012345';
    const db = supabaseClient('http://embedded.local', serviceKey(secret), createRpcTransport({ executor, jwtSecret: secret }).fetch);
    const [coordinator] = await executor.query<{ id: string }>(`insert into public.staff (role, full_name) values ('coordinator', 'Bench') returning id`);
    const now = new Date();
    const created = await db.rpc('broadcast_create', { p_staff_id: coordinator!.id, p_source: 'api', p_source_key: null, p_audience: {}, p_texts: { it: 'Open day al nido sabato alle 10.' }, p_send_at: now.toISOString(), p_now: now.toISOString() });
    if (created.error) throw new Error(created.error.message);
    const { broadcasts } = await import('../../bot/features/broadcasts/job');
    const t0 = Date.now();
    await broadcasts.run({ db, logger: createLogger('silent'), config: loadConfig({}), i18n: createTranslator() }, now);

    // a third of the way through WhatsApp's part (the quicker one), one process dies without a word
    const sentOnWhatsApp = async () => (await executor.query<{ n: number }>(`select count(*)::int as n from public.outbox where channel = 'whatsapp' and status = 'sent'`))[0]!.n;
    while ((await sentOnWhatsApp()) < n / 3) await new Promise((r) => setTimeout(r, 50));
    const victim = procs[0]!;
    const inFlight = await executor.query<{ n: number }>(
      `select count(*)::int as n from public.outbox where status = 'sending' and leaving_at is not null and claimed_by like '%-' || $1 || '-%'`, [victim.child.pid]);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();

    const open = async () => (await executor.query<{ n: number }>(`select count(*)::int as n from public.outbox where status in ('pending', 'sending')`))[0]!.n;
    while ((await open()) > 0) await new Promise((r) => setTimeout(r, 500));
    await twilio.settle();
    const seconds = (Date.now() - t0) / 1000;

    const [outcome] = await executor.query<{ sent: number; interrupted: number; failed: number }>(
      `select count(*) filter (where status = 'sent')::int as sent,
              count(*) filter (where status = 'failed' and error like 'interrupted%')::int as interrupted,
              count(*) filter (where status = 'failed' and error not like 'interrupted%')::int as failed
         from public.outbox where kind = 'broadcast'`);
    const statuses = await executor.query<{ channel: string; status: string; kind: string; n: number }>(`select channel, status, kind, count(*)::int as n from public.outbox group by 1, 2, 3 order by 1, 2, 3`);
    if (process.env.BENCH_SCALE_STATUSES) console.log(statuses);
    const tgCounts = chats.map((id) => telegram.chat(TOKEN, id).length);
    const waCreated = numbers.map((m) => twilio.messagesTo(m));
    const waTimes = waCreated.flat().map((m) => m.dateCreated);
    const span = (t: number[]) => (Math.max(...t) - Math.min(...t)) / 1000;
    const report = (name: string, counts: number[], times: number[], limit: number) => {
      // the dead process's claimed rows wait out its 60 s lease: the rate is the first 95%'s, the span is all
      const sorted = [...times].sort((a, b) => a - b);
      const k = Math.floor(sorted.length * 0.95);
      const rate = k / ((sorted[k]! - sorted[0]!) / 1000);
      console.log(`  ${name}: ${times.length} sends in ${span(times).toFixed(1)} s; the first 95% at ${rate.toFixed(1)}/s = ${((rate / limit) * 100).toFixed(1)}% of ${limit}/s; busiest second ${busiestSecond(times)}; duplicated ${counts.filter((c) => c > 1).length}; not received ${counts.filter((c) => c === 0).length}`);
    };
    console.log(`scale: 3 processes on one PostgreSQL 15, a broadcast to ${n} Telegram + ${n} WhatsApp recipients, all done in ${seconds.toFixed(1)} s; one process SIGKILLed at ${((killedAt - t0) / 1000).toFixed(1)} s with ${inFlight[0]!.n} broadcast sends in flight`);
    report('Telegram (at the emulator)', tgCounts, tgArrivals, 30);
    report('WhatsApp (at the emulator)', waCreated.map((m) => m.length), waTimes, 80);
    console.log(`  outbox: ${outcome!.sent} sent, ${outcome!.interrupted} reported interrupted (may have arrived), ${outcome!.failed} failed otherwise; Telegram 429s: ${telegram.stats().tooManyRequests}`);
  } finally {
    for (const s of stops) await s().catch(() => undefined);
  }
}
