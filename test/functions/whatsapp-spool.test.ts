import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { createTranslator } from '../../bot/i18n';
import { RpcError } from '../../bot/db/rpc';
import { createLogger } from '../../bot/logger';
import { databaseUnreachable, WhatsAppSpool, type SpoolEntry, type SpoolOptions } from '../../functions/whatsapp-spool';
import { cuttableDb, type Cut } from '../support/cuttable-db';
import { ROOT, runScript } from '../support/processes';
import { pgliteDb, type TestDb } from '../support/door';
import { WA, whatsappStack } from '../support/whatsapp-stack';

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { logger: createLogger('info', stream), lines };
}

const unreachable = () => new RpcError('inbound_begin', { message: 'TypeError: fetch failed', details: 'Caused by: Error: connect ECONNREFUSED' }, 0);

/** A database that is down until `up` is set: what it handled, in order. */
function fakeDatabase() {
  const state = { up: false, handled: [] as SpoolEntry[], bug: new Set<string>() };
  const apply = async (entry: SpoolEntry) => {
    if (!state.up) throw unreachable();
    if (state.bug.has(entry.key)) throw new RpcError('inbound_finish', { message: 'contact not found', code: 'P0002' }, 400);
    state.handled.push(entry);
  };
  return { state, apply, probe: async () => state.up };
}

const msg = (n: number, extra: Record<string, string> = {}) => ({ MessageSid: `SM${String(n).padStart(32, '0')}`, From: 'whatsapp:+393331234567', Body: `message ${n}`, ...extra });

describe('what counts as "the database cannot be reached"', () => {
  it.each([
    ['no answer at all (fetch failed)', new RpcError('health', { message: 'TypeError: fetch failed' }, 0), true],
    ['an aborted request (time-out)', new RpcError('health', { message: 'AbortError: This operation was aborted' }, 0), true],
    ['PostgREST cannot connect (503 PGRST000)', new RpcError('health', { message: 'Could not connect', code: 'PGRST000' }, 503), true],
    ['PostgREST pool time-out (504 PGRST003)', new RpcError('health', { message: 'Timed out acquiring connection', code: 'PGRST003' }, 504), true],
    ['a gateway in front of it (502)', new RpcError('health', { message: 'Bad Gateway' }, 502), true],
    ['the statement time-out (500, 57014)', new RpcError('health', { message: 'canceling statement due to statement timeout', code: '57014' }, 500), true],
    ['a connection lost mid-call (500, 08006)', new RpcError('health', { message: 'connection failure', code: '08006' }, 500), true],
    ['a bug in a function (500, XX000)', new RpcError('inbound_finish', { message: 'internal error', code: 'XX000' }, 500), false],
    ['a refused argument (400, 22023)', new RpcError('inbound_begin', { message: 'bad value', code: '22023' }, 400), false],
    ['a missing function (404, PGRST202)', new RpcError('inbound_begin', { message: 'Could not find the function', code: 'PGRST202' }, 404), false],
    ['a bug in our code (TypeError)', new TypeError("Cannot read properties of undefined (reading 'id')"), false],
  ])('%s → %s', (_what, err, expected) => {
    expect(databaseUnreachable(err)).toBe(expected);
  });
});

describe('the WhatsApp spool on disk', () => {
  let dir: string;
  const open: WhatsAppSpool[] = [];
  const clock = new FakeClock('2026-11-23T10:00:00Z');
  const spoolOf = async (opts: Partial<SpoolOptions> & Pick<SpoolOptions, 'apply' | 'probe'>) => {
    const s = await WhatsAppSpool.open({ dir, logger: createLogger('silent'), clock, backoff: { minMs: 5, maxMs: 20 }, host: 'testhost', pid: 4242, isAlive: () => false, ...opts });
    open.push(s);
    return s;
  };
  const fileLines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpoolEntry);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes and fsyncs each line before answering, keeps later ones behind, then replays them once, in order, and empties the file', async () => {
    const db = fakeDatabase();
    const synced: number[] = [];
    const s = await spoolOf({ ...db, sync: async (f) => { await f.sync(); synced.push(1); } });
    synced.length = 0;
    for (let n = 1; n <= 3; n++) {
      expect(await s.submit('inbound', msg(n))).toBe('spooled');
      // the line was on disk (synced) before submit came back
      expect(synced).toHaveLength(n);
      expect((await fileLines(s.file)).map((e) => e.params.MessageSid)).toEqual([1, 2, 3].slice(0, n).map((i) => msg(i).MessageSid));
    }
    // the database is back, but a newer message still goes behind the older ones
    db.state.up = true;
    await s.submit('inbound', msg(4));
    await s.submit('status', { MessageSid: 'SMout1', MessageStatus: 'delivered' });
    await s.drained();
    expect(db.state.handled.map((e) => e.key)).toEqual([...[1, 2, 3, 4].map((n) => `inbound:${msg(n).MessageSid}`), 'status:SMout1:delivered']);
    expect(db.state.handled[0]!.receivedAt).toBe('2026-11-23T10:00:00.000Z');
    expect(s.depth()).toBe(0);
    expect(await readFile(s.file, 'utf8')).toBe('');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // with an empty spool a message is handled at once, not written
    expect(await s.submit('inbound', msg(5))).toBe('handled');
    expect(await readFile(s.file, 'utf8')).toBe('');
  });

  it('keeps one line per MessageSid (Twilio retrying), and one per status of a message', async () => {
    const db = fakeDatabase();
    const s = await spoolOf(db);
    await s.submit('inbound', msg(1));
    await s.submit('inbound', msg(1));
    await s.submit('status', { MessageSid: 'SMout1', MessageStatus: 'sent' });
    await s.submit('status', { MessageSid: 'SMout1', MessageStatus: 'delivered' });
    await s.submit('status', { MessageSid: 'SMout1', MessageStatus: 'delivered' });
    expect((await fileLines(s.file)).map((e) => e.key)).toEqual([`inbound:${msg(1).MessageSid}`, 'status:SMout1:sent', 'status:SMout1:delivered']);
    expect(s.depth()).toBe(3);
  });

  it('does not spool an ordinary error: the caller sees it (a bug must not wait on disk forever)', async () => {
    const db = fakeDatabase();
    db.state.up = true;
    db.state.bug.add(`inbound:${msg(1).MessageSid}`);
    const s = await spoolOf(db);
    await expect(s.submit('inbound', msg(1))).rejects.toThrow(/contact not found/);
    expect(s.depth()).toBe(0);
    expect(await readFile(s.file, 'utf8')).toBe('');
  });

  it('sets aside, with an error in the log, a spooled entry that fails for another reason than the database, and goes on', async () => {
    const db = fakeDatabase();
    const { logger, lines } = capturedLogger();
    const s = await spoolOf({ ...db, logger });
    for (let n = 1; n <= 3; n++) await s.submit('inbound', msg(n));
    db.state.bug.add(`inbound:${msg(2).MessageSid}`);
    db.state.up = true;
    s.wake();
    await s.drained();
    expect(db.state.handled.map((e) => e.params.MessageSid)).toEqual([msg(1).MessageSid, msg(3).MessageSid]);
    expect((await fileLines(join(dir, 'rejected-testhost-4242.jsonl'))).map((e) => e.params.MessageSid)).toEqual([msg(2).MessageSid]);
    const error = lines.find((l) => l.level === 50);
    expect(error).toMatchObject({ msg: 'whatsapp spool: entry could not be handled, set aside', sid: msg(2).MessageSid });
    // never her words or her number in the log
    expect(JSON.stringify(lines)).not.toMatch(/message 2|393331234567/);
  });

  it('replays on start what a process left when it stopped without draining', async () => {
    const db = fakeDatabase();
    const first = await spoolOf({ ...db, pid: 1001 });
    for (let n = 1; n <= 3; n++) await first.submit('inbound', msg(n));
    await first.close();
    open.splice(open.indexOf(first), 1);
    expect(await fileLines(join(dir, 'spool-testhost-1001.jsonl'))).toHaveLength(3);

    db.state.up = true;
    const next = await spoolOf({ ...db, pid: 2002 });
    expect(next.depth()).toBe(3);
    await next.drained();
    expect(db.state.handled.map((e) => e.params.MessageSid)).toEqual([1, 2, 3].map((n) => msg(n).MessageSid));
    expect((await readdir(dir)).sort()).toEqual(['spool-testhost-2002.jsonl']);
  });

  it('replays on start what a process killed with SIGKILL had spooled', async () => {
    const script = join(dir, 'writer.mts');
    await writeFile(script, [
      `import { WhatsAppSpool } from '${join(ROOT, 'functions/whatsapp-spool.ts')}';`,
      `import { RpcError } from '${join(ROOT, 'bot/db/rpc.ts')}';`,
      `import { createLogger } from '${join(ROOT, 'bot/logger.ts')}';`,
      `const spool = await WhatsAppSpool.open({ dir: process.argv[2], logger: createLogger('silent'), clock: { now: () => new Date('2026-11-23T10:00:00Z') },`,
      `  apply: async () => { throw new RpcError('inbound_begin', { message: 'TypeError: fetch failed' }, 0); }, probe: async () => false });`,
      `for (let n = 1; n <= 3; n++) await spool.submit('inbound', { MessageSid: 'SM' + n, From: 'whatsapp:+393331234567', Body: 'message ' + n });`,
      `process.stdout.write('spooled ' + process.pid + '\\n');`,
      `setInterval(() => undefined, 1000);`,
    ].join('\n'));
    const spoolDir = join(dir, 'spool');
    const writer = runScript(script, [spoolDir], {}, { direct: true });
    const deadline = Date.now() + 20_000;
    while (!/spooled \d+/.test(writer.output())) {
      if (Date.now() > deadline || writer.child.exitCode !== null) throw new Error(`the writer did not spool: ${writer.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    writer.child.kill('SIGKILL');
    await writer.done;
    expect(await readdir(spoolDir)).toEqual([`spool-${hostname().replace(/[^A-Za-z0-9_]/g, '_')}-${writer.child.pid}.jsonl`]);

    const db = fakeDatabase();
    db.state.up = true;
    // this process, as itself: the writer's pid is gone, so its file is an orphan of this machine
    const next = await WhatsAppSpool.open({ dir: spoolDir, logger: createLogger('silent'), clock, apply: db.apply, probe: db.probe, backoff: { minMs: 5, maxMs: 20 } });
    open.push(next);
    expect(next.depth()).toBe(3);
    await next.drained();
    expect(db.state.handled.map((e) => [e.params.MessageSid, e.receivedAt])).toEqual([1, 2, 3].map((n) => [`SM${n}`, '2026-11-23T10:00:00.000Z']));
  }, 30_000);

  it('skips a malformed line with a warning (a torn last line, garbage), replays the rest and deduplicates repeated lines', async () => {
    const good = (n: number) => JSON.stringify({ kind: 'inbound', key: `inbound:${msg(n).MessageSid}`, receivedAt: `2026-11-23T09:0${n}:00.000Z`, params: msg(n) });
    await writeFile(join(dir, 'spool-testhost-777.jsonl'), [good(1), 'not json at all', good(2), JSON.stringify({ kind: 'inbound', key: 'x' }), good(1), good(3).slice(0, 40)].join('\n'));
    const db = fakeDatabase();
    db.state.up = true;
    const { logger, lines } = capturedLogger();
    const s = await spoolOf({ ...db, logger });
    await s.drained();
    expect(db.state.handled.map((e) => e.params.MessageSid)).toEqual([msg(1).MessageSid, msg(2).MessageSid]);
    expect(lines.filter((l) => l.msg === 'whatsapp spool: malformed line skipped').map((l) => l.line)).toEqual([2, 4, 6]);
  });

  it('leaves alone the file of a process still alive and those of another machine; adopts an orphan once when two start together', async () => {
    const line = (n: number) => `${JSON.stringify({ kind: 'inbound', key: `inbound:${msg(n).MessageSid}`, receivedAt: '2026-11-23T09:00:00.000Z', params: msg(n) })}\n`;
    await writeFile(join(dir, 'spool-testhost-500.jsonl'), line(1));
    await writeFile(join(dir, 'spool-otherhost-600.jsonl'), line(2));
    await writeFile(join(dir, 'spool-testhost-700.jsonl'), line(3) + line(4));
    const db = fakeDatabase();
    db.state.up = true;
    const alive = (pid: number) => pid === 500;
    const [a, b] = await Promise.all([spoolOf({ ...db, pid: 801, isAlive: alive }), spoolOf({ ...db, pid: 802, isAlive: alive })]);
    await Promise.all([a.drained(), b.drained()]);
    expect(db.state.handled.map((e) => e.params.MessageSid).sort()).toEqual([msg(3).MessageSid, msg(4).MessageSid]);
    const left = await readdir(dir);
    expect(left).toContain('spool-testhost-500.jsonl');
    expect(left).toContain('spool-otherhost-600.jsonl');
    expect(left).not.toContain('spool-testhost-700.jsonl');
  });

  it('probes with back-off while the database stays away', async () => {
    const db = fakeDatabase();
    let probes = 0;
    const s = await spoolOf({ apply: db.apply, probe: async () => (probes++, db.state.up), backoff: { minMs: 40, maxMs: 10_000 } });
    await s.submit('inbound', msg(1));
    await new Promise((r) => setTimeout(r, 400));
    // after 40, 80, 160 ms: at most five probes in 400 ms, not ten at a steady 40 ms
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(probes).toBeLessThanOrEqual(5);
  });

  it('replays at once when woken (the database answered someone else), without waiting out the back-off', async () => {
    const db = fakeDatabase();
    const s = await spoolOf({ ...db, backoff: { minMs: 5_000, maxMs: 5_000 } });
    await s.submit('inbound', msg(1));
    await new Promise((r) => setTimeout(r, 50));
    db.state.up = true;
    const started = Date.now();
    s.wake();
    await s.drained();
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(db.state.handled).toHaveLength(1);
  });
});

const i18n = createTranslator();
const MOTHER = '+393331234567';

describe('WhatsApp through Twilio while the database blinks', () => {
  let t: TestDb;
  let dir: string;
  let cut: ReturnType<typeof cuttableDb>;
  let s: Awaited<ReturnType<typeof whatsappStack>>;
  beforeEach(async () => {
    t = await pgliteDb();
    dir = await mkdtemp(join(tmpdir(), 'spool-e2e-'));
    cut = cuttableDb(t);
    s = await whatsappStack(t, undefined, { db: cut.db, spool: { dir, backoff: { minMs: 20, maxMs: 200 } } });
  });
  afterEach(async () => {
    await s.close();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const count = async (sql: string) => (await t.sql.query<{ n: number }>(sql))[0]!.n;
  const healthz = async () => {
    const res = await fetch(`${s.server.url}/healthz`);
    return { status: res.status, body: (await res.json()) as { spool: { depth: number } } };
  };
  const spooled = async () => (await readFile(s.spool!.file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpoolEntry);

  it('answers 200 and keeps her messages on disk while the database is down, then handles each once, in order, as of when she wrote', async () => {
    cut.cut('refused');
    const sent = [];
    for (const body of ['Ciao', 'English']) sent.push(await s.emulator.userSends(MOTHER, { body }));
    expect(sent.map((x) => x.status)).toEqual([200, 200]);
    // a forged post is refused, and never reaches the disk
    const forged = { MessageSid: `SM${'f'.repeat(32)}`, AccountSid: WA.accountSid, From: `whatsapp:${MOTHER}`, To: WA.from, Body: 'hi', NumMedia: '0' };
    expect((await s.signedPost('/whatsapp/webhook', forged, undefined, 'not-the-auth-token-0123456789')).status).toBe(403);
    expect((await spooled()).map((e) => e.params.MessageSid)).toEqual(sent.map((x) => x.messageSid));
    expect(await healthz()).toMatchObject({ status: 503, body: { spool: { depth: 2 } } });

    // back twenty minutes later: her messages are handled as of when she wrote
    s.clock.advance(20 * 60_000);
    cut.restore();
    await s.spool!.drained();
    expect(await healthz()).toMatchObject({ status: 200, body: { spool: { depth: 0 } } });
    expect(await spooled()).toEqual([]);
    await s.flush();
    const bodies = s.emulator.messagesTo(MOTHER).map((m) => m.body);
    // "Ciao" answered first (welcome and the languages, in Italian), then "English" (in English), nothing twice
    expect([bodies[0], bodies[2]]).toEqual([i18n.t('it')('greeting.welcome'), i18n.t('en')('greeting.languageSet')]);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(await t.sql.query(`select split_part(idempotency_key, ':', 3) as sid, count(*)::int as n from public.outbox group by 1 order by min(id)`)).toEqual([
      { sid: sent[0]!.messageSid, n: 2 },
      { sid: sent[1]!.messageSid, n: bodies.length - 2 },
    ]);
    expect(await t.sql.query(`select provider_message_id as sid, received_at::text as at from public.inbound_log where handled_at is not null order by provider_message_id`)).toEqual(
      sent.map((x) => ({ sid: x.messageSid, at: '2026-11-23 10:00:00+00' })).sort((a, b) => a.sid.localeCompare(b.sid)),
    );
    expect(await count(`select count(*)::int as n from public.inbound_log where provider_message_id = '${forged.MessageSid}'`)).toBe(0);
  });

  it('keeps the delivery reports too, and records them once the database is back', async () => {
    await s.emulator.userSends(MOTHER, { body: 'Ciao' });
    await s.flush();
    expect(await count(`select count(*)::int as n from public.outbox where delivery_status = 'delivered'`)).toBe(2);
    cut.cut('503');
    s.emulator.markRead(MOTHER);
    await s.emulator.settle();
    expect((await spooled()).map((e) => [e.kind, e.params.MessageStatus])).toEqual([['status', 'read'], ['status', 'read']]);
    expect((await healthz()).body.spool.depth).toBe(2);
    cut.restore();
    await s.spool!.drained();
    expect(await count(`select count(*)::int as n from public.outbox where delivery_status = 'read'`)).toBe(2);
  });
});

/** Four mothers write five messages each; the data door is cut after `cutAt` posts and restored after `restoreAt`. */
async function traffic(opts: { cut?: Cut; cutAt?: number; restoreAt?: number }) {
  const t = await pgliteDb();
  const dir = await mkdtemp(join(tmpdir(), 'spool-fault-'));
  const door = cuttableDb(t);
  const s = await whatsappStack(t, undefined, { db: door.db, spool: { dir, backoff: { minMs: 20, maxMs: 200 }, liveDeadlineMs: 300 } });
  try {
    const mothers = ['+393330000001', '+393330000002', '+393330000003', '+393330000004'];
    const script = ['Ciao', 'English', 'hello', 'I need help with vaccinations', 'thanks'];
    let posted = 0;
    let maxDepth = 0;
    const statuses: number[] = [];
    const sids = new Set<string>();
    await Promise.all(mothers.map(async (mother) => {
      for (const body of script) {
        if (opts.cut && posted === opts.cutAt) door.cut(opts.cut);
        if (opts.cut && posted === opts.restoreAt) door.restore();
        posted++;
        const sent = await s.emulator.userSends(mother, { body });
        maxDepth = Math.max(maxDepth, s.spool!.depth());
        statuses.push(sent.status);
        sids.add(sent.messageSid);
      }
    }));
    door.restore();
    await s.spool!.drained();
    await s.flush();
    const inbound = await t.sql.query<{ sid: string; handled: boolean }>(`select provider_message_id as sid, handled_at is not null as handled from public.inbound_log`);
    const replies = await t.sql.query<{ sid: string; n: number }>(
      `select split_part(idempotency_key, ':', 3) as sid, count(*)::int as n from public.outbox where kind = 'reply' group by 1 order by 1`,
    );
    return {
      statuses,
      sids,
      inbound,
      replies: Object.fromEntries(replies.map((r) => [r.sid, r.n])),
      maxDepth,
      calls: door.calls,
      said: Object.fromEntries(mothers.map((m) => [m, s.emulator.messagesTo(m).map((x) => x.body)])),
    };
  } finally {
    await s.close();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('a fault: the database cut in the middle of real traffic', () => {
  let baseline: Awaited<ReturnType<typeof traffic>>;
  beforeEach(async () => {
    baseline ??= await traffic({});
  });

  it.each(['refused', '503', 'hang'] as const)('(%s) every message is answered 200 and handled exactly once; each mother hears what she would have heard', async (how) => {
    const run = await traffic({ cut: how, cutAt: 5, restoreAt: 14 });
    expect(run.statuses).toEqual(Array(20).fill(200));
    // the cut really bit: posts waited on disk
    expect(run.maxDepth).toBeGreaterThanOrEqual(4);
    expect(baseline.maxDepth).toBe(0);
    expect(run.inbound).toHaveLength(20);
    expect(run.inbound.every((r) => r.handled)).toBe(true);
    expect(new Set(run.inbound.map((r) => r.sid))).toEqual(run.sids);
    // each message's replies were queued once (the same counts as with no cut at all, per message position)
    expect(Object.values(run.replies).reduce((a, b) => a + b, 0)).toBe(Object.values(baseline.replies).reduce((a, b) => a + b, 0));
    expect(run.said).toEqual(baseline.said);
  }, 60_000);
});
