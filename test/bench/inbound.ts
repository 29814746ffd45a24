import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Bot, webhookCallback } from 'grammy';
import { loadConfig } from '../../bot/config';
import { openDataDoor, serviceKey, supabaseClient, type DataDoor } from '../../bot/db/client';
import { postgresExecutor } from '../../bot/db/executor';
import { migrate } from '../../bot/db/migrate';
import { createRpcTransport } from '../../bot/db/rpc-transport';
import { serveFetch, type FetchHandler } from '../../bot/http/node-adapter';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { findPostgres15, startPostgres15 } from '../support/postgres-servers';
import { telegramRig } from './telegram-rig';

const TOKEN = '777001:InboundBenchToken_abcdefghijklmnop';
const SECRET = 'bench-secret';
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

interface Intake {
  rate: number;
  p50: number;
  p99: number;
}

/**
 * Posts `n` Telegram webhook updates, `concurrency` at a time, each a new update from one of `chats` chats
 * (a chat's first update creates her contact; the pool is warmed first), and times each webhook answer.
 */
async function drive(url: string, n: number, concurrency: number, chats: number, firstId: number): Promise<Intake> {
  let updateId = firstId * 10;
  const post = async (chat: number, text: string) => {
    const update = { update_id: ++updateId, message: { message_id: updateId, date: 1, chat: { id: chat, type: 'private', first_name: 'M' }, from: { id: chat, is_bot: false, first_name: 'M', language_code: 'it' }, text } };
    const res = await fetch(`${url}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  };
  const ids = Array.from({ length: chats }, (_, i) => firstId + i);
  // warm-up: each chat's first message (her contact is created), and the JIT
  let w = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (w < ids.length) await post(ids[w++]!, 'ciao'); }));
  const latencies: number[] = [];
  let next = 0;
  const texts = ['ciao', 'menu', '1', 'grazie', 'quando è il vaccino?'];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      const started = performance.now();
      await post(ids[i % ids.length]!, texts[i % texts.length]!);
      latencies.push(performance.now() - started);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: n / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** The baseline: a bare grammY echo bot behind webhookCallback, answering each message through the emulator. */
async function bare(n: number, concurrency: number, chats: number): Promise<Intake> {
  const emulator = createTelegramEmulator({ limits: { globalPerSecond: 1_000_000, perChatPerSecond: 1_000 } });
  emulator.addBot(TOKEN);
  const api = await emulator.listen();
  const bot = new Bot(TOKEN, { client: { apiRoot: api.apiRoot } });
  await bot.init();
  bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
  const callback = webhookCallback(bot, 'std/http', { secretToken: SECRET });
  const handler: FetchHandler = async (req) => (new URL(req.url).pathname === '/telegram/webhook' ? callback(req) : new Response(null, { status: 404 }));
  const server = await serveFetch(handler);
  for (let i = 0; i < chats; i++) emulator.userSends(TOKEN, { id: 9_000_000 + i, firstName: 'M' }, 'hi');
  try {
    return await drive(server.url, n, concurrency, chats, 9_000_000);
  } finally {
    await server.close();
    await emulator.close();
    await api.close();
  }
}

/** Our server, core and dispatcher on `door` (test/bench/telegram-rig.ts): our side, not Telegram's pacing. */
async function ours(door: DataDoor, n: number, concurrency: number, chats: number, firstId: number): Promise<Intake> {
  const rig = await telegramRig(door, { token: TOKEN, secret: SECRET });
  for (let i = 0; i < chats; i++) rig.open(firstId + i);
  try {
    return await drive(rig.url, n, concurrency, chats, firstId);
  } finally {
    await rig.close();
  }
}

/**
 * `npm run bench -- inbound`: Telegram webhook intake (updates accepted per second, webhook answer p50/p99) at
 * 16 connections from a pool of 500 chats, in one run: a bare grammY echo bot, ours on the embedded database,
 * ours on PostgreSQL 15 (DATABASE_POOL_SIZE connections, default 10); ours as a ratio of the bare bot.
 */
export async function benchInbound(n = Number(process.env.BENCH_INBOUND ?? 3000), concurrency = 16, chats = 500) {
  const line = (name: string, r: Intake, base?: Intake) =>
    console.log(`  ${name}: ${r.rate.toFixed(0)} updates/s${base ? ` (${((r.rate / base.rate) * 100).toFixed(0)}% of bare)` : ''}, webhook answer p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
  // BENCH_INBOUND_ONLY=pg15 (or embedded) leaves the other database out, e.g. to profile one
  const only = process.env.BENCH_INBOUND_ONLY;
  console.log(`inbound: ${n} Telegram webhook updates, ${concurrency} at a time, from ${chats} chats`);
  const baseline = await bare(n, concurrency, chats);
  line('bare grammY echo bot', baseline);

  if (only !== 'pg15') await embeddedRun(n, concurrency, chats, line, baseline);
  if (only !== 'embedded') await pg15Run(n, concurrency, chats, line, baseline);
}

type Line = (name: string, r: Intake, base?: Intake) => void;

async function embeddedRun(n: number, concurrency: number, chats: number, line: Line, baseline: Intake) {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-'));
  const embedded = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
  try {
    line('ours, embedded (PGlite)', await ours(embedded, n, concurrency, chats, 6_000_000), baseline);
  } finally {
    await embedded.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function pg15Run(n: number, concurrency: number, chats: number, line: Line, baseline: Intake) {
  const bin = findPostgres15();
  if (!bin) return console.log('  ours, PostgreSQL 15: not installed (PG15_BIN or postgresql-15): skipped');
  const server = await startPostgres15(bin);
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('create database bench_inbound');
    await admin.end();
    const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10);
    const executor = postgresExecutor(server.url.replace(/\/postgres$/, '/bench_inbound'), poolSize);
    await migrate(executor);
    const secret = 'bench-inbound-secret-0123456789abcdef01234';
    const door = { supabase: supabaseClient('http://embedded.local', serviceKey(secret), createRpcTransport({ executor, jwtSecret: secret }).fetch), executor, mode: 'postgres', schemaVersion: null, close: () => executor.close() } as unknown as DataDoor;
    try {
      line(`ours, PostgreSQL 15 (pool of ${poolSize})`, await ours(door, n, concurrency, chats, 6_500_000), baseline);
    } finally {
      await executor.close();
    }
  } finally {
    await server.stop();
  }
}
