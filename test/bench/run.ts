import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelegramChannel } from '../../bot/channels/telegram';
import { systemClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { openDataDoor, type DataDoor } from '../../bot/db/client';
import { createTranslator } from '../../bot/i18n';
import { createTelegramEmulator } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { Dispatcher } from '../../bot/outbox/dispatcher';
import { handleInbound } from '../../bot/app';
import { freePort, runScript, waitForHealthy } from '../support/processes';
import { benchMedia } from './media';
import { benchScale } from './scale';
import { benchInbound } from './inbound';
import { benchMetrics } from './metrics';
import { telegramRig } from './telegram-rig';
import { benchDesk } from './desk';

/** `npm run bench`: prints figures; not a timed test. Each entry says what it measures. */

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function startToHealthy(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const server = runScript('functions/main.ts', [], { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });
  await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 60_000);
  const elapsed = performance.now() - t0;
  server.child.kill('SIGTERM');
  await server.done;
  return elapsed;
}

async function benchStart() {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-'));
  try {
    const fresh = await startToHealthy(dataDir);
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push(await startToHealthy(dataDir));
    console.log(`start → healthy /healthz (process spawn included): fresh DATA_DIR ${ms(fresh)}; warm DATA_DIR median ${ms(warm.sort((a, b) => a - b)[1]!)} (3 runs)`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const TOKEN = '777000:BenchToken_abcdefghijklmnopqrstu';
const logger = createLogger('silent');

async function withEmbedded<T>(fn: (door: DataDoor) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-'));
  const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
  try {
    return await fn(door);
  } finally {
    await door.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function benchRpc() {
  await withEmbedded(async (door) => {
    for (let i = 0; i < 200; i++) await door.supabase.rpc('health');
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      const { error } = await door.supabase.rpc('health');
      samples.push(performance.now() - t0);
      if (error) throw new Error(error.message);
    }
    samples.sort((a, b) => a - b);
    console.log(`trivial .rpc('health') through the embedded transport (PGlite): p50 ${ms(quantile(samples, 0.5))}, p99 ${ms(quantile(samples, 0.99))} (2000 calls)`);
  });
}

/** Broadcast-shaped load: N messages to N chats through the emulator enforcing Telegram's 30/s and 1/s per chat. */
async function benchOutbound(n = Number(process.env.BENCH_OUTBOUND ?? 5000)) {
  await withEmbedded(async (door) => {
    const emulator = createTelegramEmulator({ limits: { globalPerSecond: 30, perChatPerSecond: 1 } });
    emulator.addBot(TOKEN);
    const api = await emulator.listen();
    const ids = Array.from({ length: n }, (_, i) => 5_000_000 + i);
    for (const id of ids) emulator.userSends(TOKEN, { id, firstName: 'M' }, 'hi'); // a chat exists only once she wrote
    await door.executor!.query(
      `with c as (insert into public.contacts (channel, provider_id, language, language_confirmed) select 'telegram', g::text, 'it', true from generate_series($1::bigint, $2::bigint) g returning id, provider_id)
       insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload) select 'bench:' || provider_id, id, 'telegram', 'notice', 5, jsonb_build_object('text', 'Notice ' || provider_id) from c`,
      [ids[0], ids.at(-1)],
    );
    const channel = createTelegramChannel({ token: TOKEN, apiRoot: api.apiRoot });
    const dispatcher = new Dispatcher({ db: door.supabase, sender: channel, clock: systemClock, logger, batchSize: 60 });
    const t0 = performance.now();
    while ((await dispatcher.runOnce()).claimed > 0 || (await door.executor!.query<{ n: number }>(`select count(*)::int as n from public.outbox where status in ('pending','sending')`))[0]!.n > 0);
    const seconds = (performance.now() - t0) / 1000;
    const perChat = ids.map((id) => emulator.chat(TOKEN, id).length);
    const lost = perChat.filter((c) => c === 0).length;
    const duplicated = perChat.filter((c) => c > 1).length;
    const rate = n / seconds;
    console.log(`outbound: ${n} messages to ${n} Telegram chats in ${seconds.toFixed(1)} s = ${rate.toFixed(1)} msg/s, ${((rate / 30) * 100).toFixed(1)}% of the 30 msg/s limit; 429s: ${emulator.stats().tooManyRequests}; lost: ${lost}; duplicated: ${duplicated}`);
    await emulator.close();
    await api.close();
  });
}

/** Conversations end to end: webhook update to reply at the provider, new contacts, on the embedded database. */
async function benchConversations() {
  await inboundRun(Number(process.env.BENCH_CONVERSATIONS ?? 2000), 16);
  await inboundRun(200, 1);
}

/** Our server, core and dispatcher on one embedded database, with a Telegram emulator whose limits are lifted: our side, not Telegram's pacing. */
async function inboundRun(n: number, concurrency: number) {
  await withEmbedded(async (door) => {
    const rig = await telegramRig(door, { token: TOKEN, secret: 'bench-secret' });
    const ids = Array.from({ length: n }, (_, i) => 6_000_000 + concurrency * 100_000 + i);
    for (const id of ids) rig.open(id);
    const started = new Map<number, number>();
    const replied = new Map<number, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const [id, t] of started) if (!replied.has(id) && rig.emulator.chat(TOKEN, id).length > 0) replied.set(id, performance.now() - t);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const id = ids[next++]!;
        started.set(id, performance.now());
        await rig.post(id, 'ciao');
      }
    }));
    const accepted = (performance.now() - t0) / 1000;
    while (replied.size < n) await new Promise((r) => setTimeout(r, 20));
    const answered = (performance.now() - t0) / 1000;
    watching = false;
    await watcher;
    const lat = [...replied.values()].sort((a, b) => a - b);
    console.log(`inbound: ${n} Telegram webhook updates (new contacts, ${concurrency} concurrent) accepted in ${accepted.toFixed(1)} s = ${(n / accepted).toFixed(0)} updates/s on the embedded database, all answered in ${answered.toFixed(1)} s = ${(n / answered).toFixed(0)} conversations/s end to end (2 replies each); update → reply at the provider p50 ${ms(quantile(lat, 0.5))}, p99 ${ms(quantile(lat, 0.99))}`);
    await rig.close();
  });
}

/** Registration cost in the core: each mother from hello to the main menu (9 messages), one after another. */
async function benchOnboarding(n = Number(process.env.BENCH_ONBOARDING ?? 200)) {
  await withEmbedded(async (door) => {
    const deps = { db: door.supabase, i18n: createTranslator(), clock: systemClock, logger };
    const steps: Partial<Parameters<typeof handleInbound>[1]>[] = [
      { text: 'hello' }, { choiceId: 'lang:bn' }, { choiceId: 'consent:yes' }, { choiceId: 'kind:birth' }, { text: 'Rafi' },
      { text: '12/03/2026' }, { choiceId: 'another:no' }, { choiceId: 'district:milano-4' }, { text: 'menu' },
    ];
    const samples: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      for (const [j, step] of steps.entries()) {
        const s0 = performance.now();
        await handleInbound(deps, { channel: 'whatsapp', providerId: `+8801700${String(i).padStart(6, '0')}`, providerMessageId: `SMbench${i}-${j}`, ...step });
        samples.push(performance.now() - s0);
      }
    }
    const total = (performance.now() - t0) / 1000;
    samples.sort((a, b) => a - b);
    console.log(`onboarding: ${n} mothers from hello to the main menu (${steps.length} messages each) in ${total.toFixed(1)} s = ${(n / total).toFixed(1)} registrations/s on the embedded database; per message p50 ${ms(quantile(samples, 0.5))}, p99 ${ms(quantile(samples, 0.99))}`);
  });
}

/** Planning and the daily reminder job over N children (born over the last six years), at 10,000 and 100,000. */
/** n families across the nine districts, each on Telegram with one child born up to `spreadDays` before `day`. */
async function seedFamilies(door: DataDoor, n: number, day: string, spreadDays: number) {
  await door.executor!.query(`
    with f as (insert into public.families (district_code) select 'milano-' || (1 + g % 9) from generate_series(1, ${n}) g returning id, ref)
    , c as (insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
            select 'telegram', (100000000 + f.ref)::text, 'it', true, 'given', f.id, now() from f)
    insert into public.children (family_id, name, birth_date)
    select f.id, 'Bimbo ' || f.ref, date '${day}' - (f.ref % ${spreadDays})::int from f`);
}

async function benchReminders() {
  const sizes = (process.env.BENCH_CHILDREN ?? '10000,100000').split(',').map(Number);
  const { planPending, reminders } = await import('../../bot/features/care/job');
  const mb = (b: number) => `${Math.round(b / 1048576)} MB`;
  /** planning, then an ordinary day's job some days after registration: what is due, not the catch-up summaries */
  const run = async (where: string, door: DataDoor, n: number, top?: () => string) => {
    await seedFamilies(door, n, '2026-11-23', 2190);
    const peak = { rss: process.memoryUsage().rss };
    const sampler = setInterval(() => { peak.rss = Math.max(peak.rss, process.memoryUsage().rss); }, 50);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const planned = await planPending(door.supabase, '2026-11-23', new Date('2026-11-23T06:00:00Z').toISOString());
    const planSeconds = (performance.now() - t0) / 1000;
    const planPeak = peak.rss;
    peak.rss = process.memoryUsage().rss;
    const [{ rows }] = (await door.executor!.query<{ rows: number }>('select count(*)::int as rows from public.child_plan')) as [{ rows: number }];
    const t1 = performance.now();
    const summary = await reminders.run({ db: door.supabase, logger, config: loadConfig({}), i18n: createTranslator() }, new Date('2026-11-27T06:00:00Z'));
    const jobSeconds = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    console.log(`reminders (${where}): ${n} children → ${planned} planned (${rows} plan rows) in ${planSeconds.toFixed(1)} s, peak RSS ${mb(planPeak)} (from ${mb(rss0)}); a daily job over them in ${jobSeconds.toFixed(1)} s (${summary.candidates} rows looked at, ${summary.queued} messages queued), peak RSS ${mb(peak.rss)}${top ? `; slowest single calls: ${top()}` : ''}`);
  };
  for (const n of sizes) await withEmbedded((door) => run('PGlite', door, n));
  const databases = await pg15Databases();
  if (!databases) return console.log('reminders: PostgreSQL 15 is not installed (PG15_BIN or postgresql-15): its figures are skipped');
  try {
    for (const n of sizes) {
      const { door, top, close } = await databases.open();
      try {
        await run('PostgreSQL 15', door, n, top);
      } finally {
        await close();
      }
    }
  } finally {
    await databases.stop();
  }
}

/** A question in her language, end to end in the core: the knowledge-base index build, then question → answer per message. */
async function benchQuestions(n = Number(process.env.BENCH_QUESTIONS ?? 200)) {
  const { KnowledgeBase } = await import('../../bot/knowledge/knowledge');
  await withEmbedded(async (door) => {
    const knowledge = new KnowledgeBase(door.supabase, systemClock);
    const builds: string[] = [];
    for (const lng of ['it', 'ar', 'zh', 'bn']) {
      const t0 = performance.now();
      await knowledge.index(lng);
      builds.push(`${lng} ${ms(performance.now() - t0)}`);
    }
    const deps = { db: door.supabase, i18n: createTranslator(), clock: systemClock, logger, knowledge };
    const questions = ['come si fa la domanda per la casa popolare', 'quando aprono le iscrizioni al nido a Milano', 'devo per forza vaccinare la bambina?', 'dove posso comprare una bicicletta usata?'];
    const samples: number[] = [];
    let answered = 0;
    let offered = 0;
    for (let i = 0; i < n; i++) {
      const who = `+3933300${String(i).padStart(5, '0')}`;
      await door.executor!.query(`with f as (insert into public.families (district_code) values ('milano-4') returning id)
        insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at) select 'whatsapp', $1, 'it', true, 'given', f.id, now() from f`, [who]);
      const s0 = performance.now();
      const out = await handleInbound(deps, { channel: 'whatsapp', providerId: who, providerMessageId: `SMq${i}`, text: questions[i % questions.length] });
      samples.push(performance.now() - s0);
      if (out.replies.some((r) => r.choices?.some((c) => c.id === 'kb:yes'))) answered++;
      else if (out.replies.some((r) => r.choices?.some((c) => c.id.startsWith('kb:pick:')))) offered++;
    }
    samples.sort((a, b) => a - b);
    console.log(`questions: index build per language (46 entries) ${builds.join(', ')}; ${n} questions → ${answered} answered from the knowledge base, ${offered} offered entries to choose from, ${n - answered - offered} sent to the tutor; per message p50 ${ms(quantile(samples, 0.5))}, p99 ${ms(quantile(samples, 0.99))}`);
  });
  await questionsTable();
}

/**
 * Per language, on questions written the way mothers write: the right entry answered at once, her question found
 * (at once, or offered among the entries to choose), and unanswerable ones sent to her tutor rather than answered
 * wrongly (with how many were first offered entries to choose from).
 */
async function questionsTable() {
  const { measureCorpus, share } = await import('../support/question-corpus');
  const [tuning, heldout] = [await measureCorpus('tuning'), await measureCorpus('heldout')];
  const pct = (n: number, of: number) => `${n}/${of} ${share(n, of).toFixed(2)}`;
  type Rates = (typeof tuning)[number];
  const cells = (r: Pick<Rates, 'right' | 'found' | 'answerable' | 'forwarded' | 'offered' | 'unanswerable'>) =>
    [pct(r.right, r.answerable), pct(r.found, r.answerable), pct(r.forwarded, r.unanswerable), `${r.offered}/${r.forwarded}`];
  const total = (rs: Rates[]) => rs.reduce((a, r) => ({ right: a.right + r.right, found: a.found + r.found, answerable: a.answerable + r.answerable, forwarded: a.forwarded + r.forwarded, offered: a.offered + r.offered, unanswerable: a.unanswerable + r.unanswerable }), { right: 0, found: 0, answerable: 0, forwarded: 0, offered: 0, unanswerable: 0 });
  console.log('questions by language: right at once, found (at once or among the entries offered), forwarded rather than answered wrongly (of which first offered entries); tuning part | held-out part');
  const rows = [['lang', 'right', 'found', 'forwarded', 'offered', '| held-out right', 'found', 'forwarded', 'offered']];
  for (const [i, t] of tuning.entries()) rows.push([t.lang, ...cells(t), `| ${cells(heldout[i]!)[0]}`, ...cells(heldout[i]!).slice(1)]);
  rows.push(['all', ...cells(total(tuning)), `| ${cells(total(heldout))[0]}`, ...cells(total(heldout)).slice(1)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((x, c) => x.padEnd(widths[c]!)).join('  '));
  if (process.env.BENCH_QUESTIONS_MISSES) for (const r of tuning) for (const m of r.misses) console.log(`  ${r.lang} ${m}`);
}

/**
 * Safety: recall and false alarms per language on the corpora (main part, which the lexicons were tuned on, and the
 * held-out part, which they never saw), recall per concept, the matcher's cost per message against the phrase-list
 * check it replaced, and a first danger message → the numbers at the provider against a first "ciao" in the same run.
 */
async function benchSafety(n = Number(process.env.BENCH_SAFETY ?? 60)) {
  const { LANGUAGES } = await import('../../bot/i18n');
  const { CONCEPTS } = await import('../../bot/safety/lexicon');
  const { dangerMatcher } = await import('../../bot/safety/matcher');
  const { hasPhrase } = await import('../../bot/core/keywords');
  const { readCorpus, score } = await import('../safety/corpus');
  const matcher = dangerMatcher();
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows: string[][] = [['lang', 'recall', 'false alarms', 'held-out recall', 'held-out false alarms', 'self-harm as self-harm', ...CONCEPTS]];
  const all: string[] = [];
  const totals = { d: 0, c: 0, o: 0, a: 0, hd: 0, hc: 0, ho: 0, ha: 0 };
  for (const lng of LANGUAGES) {
    const corpus = readCorpus(lng);
    const main = score(matcher, lng, corpus.danger, corpus.ordinary);
    const held = score(matcher, lng, corpus.heldout.danger, corpus.heldout.ordinary);
    const both = score(matcher, lng, [...corpus.danger, ...corpus.heldout.danger], []);
    Object.assign(totals, { d: totals.d + main.danger, c: totals.c + main.caught, o: totals.o + main.ordinary, a: totals.a + main.alarms, hd: totals.hd + held.danger, hc: totals.hc + held.caught, ho: totals.ho + held.ordinary, ha: totals.ha + held.alarms });
    rows.push([lng, `${pct(main.recall)} (${main.caught}/${main.danger})`, `${pct(main.falseAlarms)} (${main.alarms}/${main.ordinary})`, `${pct(held.recall)} (${held.caught}/${held.danger})`, `${pct(held.falseAlarms)} (${held.alarms}/${held.ordinary})`,
      `${both.selfHarmRight[0]}/${both.selfHarmRight[1]}`, ...CONCEPTS.map((c) => { const [k, t] = both.concepts[c] ?? [0, 0]; return `${k}/${t}`; })]);
    all.push(...[...corpus.danger, ...corpus.ordinary, ...corpus.heldout.danger, ...corpus.heldout.ordinary].map((m) => m.text));
    // for a reviewer: the main part's misses and alarms of one language (the held-out part stays unseen)
    if (process.env.BENCH_SAFETY_LIST === lng) for (const m of [...main.missed.map((x) => `missed [${x.concept}] ${x.text}`), ...main.raised.map((x) => `alarm ${x.text}`)]) console.log(`  ${lng}: ${m}`);
  }
  rows.push(['all', `${pct(totals.c / totals.d)}`, `${pct(totals.a / totals.o)}`, `${pct(totals.hc / totals.hd)}`, `${pct(totals.ha / totals.ho)}`, '', ...CONCEPTS.map(() => '')]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log('safety: the danger matcher on the corpora (concept columns: main + held-out danger messages heard, either level)');
  for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`);

  // cost per message: every lexicon listens to every message; the baseline is the phrase-list check it replaced
  const time = (f: (text: string) => unknown) => {
    for (const t of all.slice(0, 200)) f(t);
    const t0 = performance.now();
    for (let r = 0; r < 5; r++) for (const t of all) f(t);
    return (performance.now() - t0) / (5 * all.length);
  };
  const i18n = createTranslator();
  const ctx = (lng: string) => ({ contact: { language: lng }, deps: { i18n } }) as never;
  const phrase = time((t) => hasPhrase(ctx('it'), t, 'eviction'));
  const lexicons = time((t) => matcher.assess(t, ['it']));
  console.log(`safety: per message over ${all.length} corpus messages: matcher (13 lexicons) ${(lexicons * 1000).toFixed(1)} µs; phrase lists of one language (baseline) ${(phrase * 1000).toFixed(1)} µs; ratio ${(lexicons / phrase).toFixed(1)}×`);

  // a first message → the first reply at the provider: danger (numbers + urgent request + alert) vs hello (language menu)
  const danger = LANGUAGES.flatMap((l) => readCorpus(l).danger.map((m) => m.text));
  const p50: Record<string, number> = {};
  for (const [label, texts] of [['hello', ['ciao', 'salam', 'hello', 'hola']], ['danger', danger]] as const) {
    await withEmbedded(async (door) => {
      await door.executor!.query(`with s as (insert into public.staff (role, full_name) values ('coordinator', 'Anna Rossi') returning id)
        insert into public.contacts (channel, provider_id, language, language_confirmed, consent, staff_id) select 'telegram', '5999999', 'it', true, 'given', id from s`);
      const rig = await telegramRig(door, { token: TOKEN, secret: 'bench-secret' });
      rig.open(5_999_999);
      const lat: number[] = [];
      for (let i = 0; i < n; i++) {
        const id = 7_000_000 + i;
        rig.open(id);
        const t0 = performance.now();
        await rig.post(id, texts[i % texts.length]!);
        while (rig.emulator.chat(TOKEN, id).length === 0) await new Promise((r) => setTimeout(r, 1));
        lat.push(performance.now() - t0);
      }
      lat.sort((a, b) => a - b);
      p50[label] = quantile(lat, 0.5);
      const ratio = label === 'danger' ? `; ${(p50.danger! / p50.hello!).toFixed(2)}× the p50 of a first "hello"` : '';
      console.log(`safety: first message "${label}" from ${n} new contacts, one after another → first reply at the provider p50 ${ms(quantile(lat, 0.5))}, p99 ${ms(quantile(lat, 0.99))}${ratio}`);
      await rig.close();
    });
  }
}

/** The calls job over many families on an opening day, and her nido menu per message. */
async function benchCalls(n = Number(process.env.BENCH_CALLS_FAMILIES ?? 10000), menus = Number(process.env.BENCH_CALLS_MENUS ?? 200)) {
  const { calls } = await import('../../bot/features/calls/job');
  await withEmbedded(async (door) => {
    // children from 0 to 5 years: about half fit the nido call of September 2027
    await seedFamilies(door, n, '2027-02-03', 1825);
    const t0 = performance.now();
    const summary = await calls.run({ db: door.supabase, logger, config: loadConfig({}), i18n: createTranslator() }, new Date('2027-02-03T08:00:00Z'));
    const jobSeconds = (performance.now() - t0) / 1000;
    const deps = { db: door.supabase, i18n: createTranslator(), clock: { now: () => new Date('2027-02-10T10:00:00Z') }, logger };
    const samples: number[] = [];
    for (let i = 0; i < menus; i++) {
      const s0 = performance.now();
      await handleInbound(deps, { channel: 'telegram', providerId: String(100000001 + i), providerMessageId: `calls${i}`, choiceId: 'menu:nido' });
      samples.push(performance.now() - s0);
    }
    samples.sort((a, b) => a - b);
    console.log(`calls: job over ${n} families on an opening day in ${jobSeconds.toFixed(1)} s (${summary.fitting} family-call pairs fit, ${summary.queued} notices queued); nido menu per message p50 ${ms(quantile(samples, 0.5))}, p99 ${ms(quantile(samples, 0.99))} (${menus} messages)`);
  });
}


/**
 * A broadcast to N Telegram chats and N WhatsApp numbers (outside the 24-hour window: the notice template)
 * through the emulators enforcing Telegram's 30/s + 1/s per chat and Twilio's 80/s per sender.
 */
async function benchBroadcast() {
  const n = Number(process.env.BENCH_BROADCAST ?? 10_000);
  await withEmbedded(async (door) => {
    const { createWhatsAppChannel } = await import('../../bot/channels/whatsapp');
    const { createTwilioEmulator } = await import('../../bot/local/twilio-emulator');
    const { runJob } = await import('../../functions/jobs');
    const { broadcasts } = await import('../../bot/features/broadcasts/job');
    const tg = createTelegramEmulator({ limits: { globalPerSecond: 30, perChatPerSecond: 1 } });
    tg.addBot(TOKEN);
    const tgApi = await tg.listen();
    const SID = `AC${'7'.repeat(32)}`;
    const FROM = 'whatsapp:+390200000777';
    const CONTENT = `HX${'a'.repeat(32)}`;
    const wa = createTwilioEmulator({ accountSid: SID, authToken: 'bench-auth-token-0123456789', senders: [FROM], messagesPerSecond: 80, autoDeliver: false });
    wa.addTemplate(CONTENT, 'Avviso dal programma famiglie: {{1}}');
    const waApi = await wa.listen();
    const tgIds = Array.from({ length: n }, (_, i) => 7_000_000 + i);
    for (const id of tgIds) tg.userSends(TOKEN, { id, firstName: 'M' }, 'hi');
    const waNumbers = Array.from({ length: n }, (_, i) => `+39334${String(i).padStart(7, '0')}`);
    await door.executor!.query(`
      with f as (insert into public.families (district_code) select 'milano-' || (1 + g % 9) from generate_series(1, $1::int * 2) g returning id, ref)
      insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
      select case when f.ref % 2 = 0 then 'telegram' else 'whatsapp' end,
             case when f.ref % 2 = 0 then (7000000 + (f.ref / 2) - 1)::text else '+39334' || lpad(((f.ref - 1) / 2)::text, 7, '0') end,
             'it', true, 'given', f.id, null from f`, [n]);
    await door.executor!.query(`insert into public.message_templates (kind, language, content_sid, variables) values ('broadcast', 'it', $1, '{notice}')`, [CONTENT]);
    const [coordinator] = await door.executor!.query<{ id: string }>(`insert into public.staff (role, full_name) values ('coordinator', 'Bench') returning id`);
    const now = new Date('2026-11-23T10:00:00+01:00');
    const created = await door.supabase.rpc('broadcast_create', { p_staff_id: coordinator!.id, p_source: 'api', p_source_key: null, p_audience: {}, p_texts: { it: 'Open day al nido sabato alle 10.' }, p_send_at: now.toISOString(), p_now: now.toISOString() });
    if (created.error) throw new Error(created.error.message);
    const i18n = createTranslator();
    const t0 = performance.now();
    await runJob(broadcasts, { db: door.supabase, logger, config: loadConfig({}), i18n }, now);
    const released = (performance.now() - t0) / 1000;

    const dispatchers = [
      new Dispatcher({ db: door.supabase, sender: createTelegramChannel({ token: TOKEN, apiRoot: tgApi.apiRoot }), clock: systemClock, logger }),
      new Dispatcher({ db: door.supabase, sender: createWhatsAppChannel({ accountSid: SID, authToken: 'bench-auth-token-0123456789', from: FROM, apiBase: waApi.apiBase, choiceHint: () => '' }), clock: systemClock, logger }),
    ];
    const t1 = performance.now();
    for (const d of dispatchers) d.start();
    const left = async () => (await door.executor!.query<{ n: number }>(`select count(*)::int as n from public.outbox where kind = 'broadcast' and status in ('pending', 'sending')`))[0]!.n;
    while ((await left()) > 0) await new Promise((r) => setTimeout(r, 500));
    const seconds = (performance.now() - t1) / 1000;
    for (const d of dispatchers) await d.stop();
    await wa.settle();
    const tgCounts = tgIds.map((id) => tg.chat(TOKEN, id).filter((m) => 'text' in m && m.text?.includes('Open day')).length);
    const waCounts = waNumbers.map((num) => wa.messagesTo(num).length);
    const all = [...tgCounts, ...waCounts];
    const minimum = Math.max(n / 30, n / 80);
    const [failed] = await door.executor!.query<{ n: number }>(`select count(*)::int as n from public.outbox where kind = 'broadcast' and status <> 'sent'`);
    console.log(`broadcast: ${n} Telegram chats + ${n} WhatsApp numbers (template, outside 24 h): released (audience fixed, ${2 * n} rows queued) in ${released.toFixed(1)} s; sent in ${seconds.toFixed(1)} s vs theoretical minimum ${minimum.toFixed(1)} s at 30/s and 80/s in parallel = ${(seconds / minimum).toFixed(3)}×; 429s: Telegram ${tg.stats().tooManyRequests}, Twilio ${wa.stats().tooManyRequests}; not sent: ${failed!.n}; lost: ${all.filter((c) => c === 0).length}; duplicated: ${all.filter((c) => c > 1).length}`);
    await tg.close();
    await tgApi.close();
    await wa.close();
    await waApi.close();
  });
}

/**
 * Her message → the reply leaving, when nothing else is queued for her and when 50 messages are scheduled for
 * her later (reminders, notices): a chat waits only behind what is due, so the two should match.
 */
async function benchOrder(n = Number(process.env.BENCH_ORDER ?? 100)) {
  await withEmbedded(async (door) => {
    const rig = await telegramRig(door, { token: TOKEN, secret: 'bench-secret' });
    const run = async (base: number, later: number) => {
      const ids = Array.from({ length: n }, (_, i) => base + i);
      for (const id of ids) await rig.open(id);
      // each chat once, so she exists; then what is scheduled for her later
      for (const id of ids) await rig.post(id, 'ciao');
      while (ids.some((id) => rig.emulator.chat(TOKEN, id).length < 2)) await new Promise((r) => setTimeout(r, 5));
      if (later) {
        await door.executor!.query(`
          insert into public.outbox (idempotency_key, contact_id, channel, kind, priority, payload, not_before)
          select 'later:' || c.id || ':' || g, c.id, 'telegram', 'reminder', 5, '{"text":"later"}', now() + interval '1 hour'
            from public.contacts c, generate_series(1, ${later}) g where c.provider_id::bigint between ${base} and ${base + n - 1}`);
      }
      const samples: number[] = [];
      for (const id of ids) {
        const before = rig.emulator.chat(TOKEN, id).length;
        const t0 = performance.now();
        await rig.post(id, 'ciao');
        while (rig.emulator.chat(TOKEN, id).length <= before) await new Promise((r) => setTimeout(r, 1));
        samples.push(performance.now() - t0);
      }
      return samples.sort((a, b) => a - b);
    };
    await run(6_900_000, 0); // warm-up: first queries, JIT
    const none = await run(7_000_000, 0);
    const fifty = await run(7_100_000, 50);
    const p50 = quantile(fifty, 0.5) / quantile(none, 0.5);
    console.log(`order: her message → first reply at the provider, ${n} chats one after another: nothing queued for her p50 ${ms(quantile(none, 0.5))}, p99 ${ms(quantile(none, 0.99))}; 50 rows scheduled for her later p50 ${ms(quantile(fifty, 0.5))}, p99 ${ms(quantile(fifty, 0.99))} (${p50.toFixed(2)}× the p50 with nothing queued)`);
    await rig.close();
  });
}

/** A PostgreSQL 15 server for the benches, each database fresh and migrated, its calls timed by function; null where not installed. */
async function pg15Databases() {
  const { findPostgres15, startPostgres15 } = await import('../support/postgres-servers');
  const { postgresExecutor } = await import('../../bot/db/executor');
  const { migrate } = await import('../../bot/db/migrate');
  const { createRpcTransport } = await import('../../bot/db/rpc-transport');
  const { serviceKey, supabaseClient } = await import('../../bot/db/client');
  const pg = await import('pg');
  const bin = findPostgres15();
  if (!bin) return null;
  const server = await startPostgres15(bin);
  const secret = 'bench-limits-secret-0123456789abcdef012345';
  let n = 0;
  /** a fresh migrated database, its supabase-js client, and the slowest call of each function through it */
  const open = async () => {
    const name = `bench_${++n}`;
    const admin = new pg.default.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const executor = postgresExecutor(server.url.replace(/\/postgres$/, `/${name}`));
    await migrate(executor);
    const transport = createRpcTransport({ executor, jwtSecret: secret });
    const slowest = new Map<string, number>();
    const timed = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const fn = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname.split('/').pop()!;
      const t0 = performance.now();
      const res = await transport.fetch(input, init);
      slowest.set(fn, Math.max(slowest.get(fn) ?? 0, performance.now() - t0));
      return res;
    }) as typeof fetch;
    const door = { supabase: supabaseClient('http://embedded.local', serviceKey(secret), timed), executor } as unknown as DataDoor;
    const top = () => [...slowest].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([f, t]) => `${f} ${ms(t)}`).join(', ');
    return { door, top, close: () => executor.close() };
  };
  return { open, stop: () => server.stop() };
}

/**
 * Supabase's limits, on PostgreSQL 15: the reminders job at 1,000 / 10,000 / 100,000 children and a broadcast
 * to 20,000 recipients, each call timed by function, so the slowest single RPC can be held against the 8-second
 * statement time-out of service_role (`BENCH_LIMITS_CHILDREN`, `BENCH_LIMITS_RECIPIENTS`).
 */
async function benchLimits() {
  const { planPending, reminders } = await import('../../bot/features/care/job');
  const { broadcasts } = await import('../../bot/features/broadcasts/job');
  const databases = await pg15Databases();
  if (!databases) return console.log('limits: PostgreSQL 15 is not installed (PG15_BIN or postgresql-15): skipped');
  const { open } = databases;
  try {
    for (const children of (process.env.BENCH_LIMITS_CHILDREN ?? '1000,10000,100000').split(',').map(Number)) {
      const { door, top, close } = await open();
      await seedFamilies(door, children, '2026-11-23', 2190);
      const t0 = performance.now();
      await planPending(door.supabase, '2026-11-23', new Date('2026-11-23T06:00:00Z').toISOString());
      const plan = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const summary = await reminders.run({ db: door.supabase, logger, config: loadConfig({}), i18n: createTranslator() }, new Date('2026-11-27T06:00:00Z'));
      const job = (performance.now() - t1) / 1000;
      console.log(`limits (PostgreSQL 15): ${children} children planned in ${plan.toFixed(1)} s, the daily reminders job in ${job.toFixed(1)} s (${summary.candidates} rows, ${summary.queued} queued); slowest single calls: ${top()}`);
      await close();
    }
    const recipients = Number(process.env.BENCH_LIMITS_RECIPIENTS ?? 20000);
    const { door, top, close } = await open();
    await door.executor!.query(`
      with f as (insert into public.families (district_code) select 'milano-' || (1 + g % 9) from generate_series(1, $1::int) g returning id, ref)
      insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
      select 'telegram', (500000000 + f.ref)::text, 'it', true, 'given', f.id, now() from f`, [recipients]);
    const [coordinator] = await door.executor!.query<{ id: string }>(`insert into public.staff (role, full_name) values ('coordinator', 'Bench') returning id`);
    const now = new Date('2026-11-23T10:00:00+01:00');
    const created = await door.supabase.rpc('broadcast_create', { p_staff_id: coordinator!.id, p_source: 'api', p_source_key: null, p_audience: {}, p_texts: { it: 'Open day al nido sabato alle 10.' }, p_send_at: now.toISOString(), p_now: now.toISOString() });
    if (created.error) throw new Error(created.error.message);
    const out = await broadcasts.run({ db: door.supabase, logger, config: loadConfig({}), i18n: createTranslator() }, now);
    console.log(`limits (PostgreSQL 15): a broadcast to ${recipients} recipients released (${JSON.stringify(out.released)}); slowest single calls: ${top()}`);
    await close();
  } finally {
    await databases.stop();
  }
}

const BENCHES: Record<string, () => Promise<void>> = { order: benchOrder, safety: benchSafety, questions: benchQuestions, start: benchStart, rpc: benchRpc, inbound: () => benchInbound(), conversations: benchConversations, outbound: benchOutbound, onboarding: benchOnboarding, reminders: benchReminders, calls: benchCalls, broadcast: benchBroadcast, limits: benchLimits, media: benchMedia, metrics: () => benchMetrics(), scale: () => benchScale(), desk: () => benchDesk() };

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(BENCHES)) {
  if (only.length === 0 || only.includes(name)) await run();
}
