import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import type { Clock } from '../bot/clock';
import type { Db } from '../bot/db/client';
import { attempt, RpcError } from '../bot/db/rpc';
import type { Logger } from '../bot/logger';

/**
 * The WhatsApp spool: what Twilio sent us while the database could not be reached, kept on the local disk until
 * it can be handled. Twilio does not redeliver a webhook we failed, so a message answered 500 is lost; a spooled
 * one is answered 200 only after its line is on disk (fsync), then handled, in order, when the database is back.
 *
 * Files, in SPOOL_DIR: `spool-<host>-<pid>.jsonl` belongs to the process `<pid>` of the machine `<host>` (its name
 * is its lock: one writer, the process named). A file whose process is gone (same host, pid not alive) is an
 * orphan: the next process to start renames it to a name of its own (rename is atomic: one adopter wins) and
 * replays it. Files of other hosts are never touched. Entries a replay could not handle for another reason than
 * the database (a bug) go to `rejected-<host>-<pid>.jsonl`, logged, never retried by themselves.
 */

export type SpoolKind = 'inbound' | 'status';

export interface SpoolEntry {
  kind: SpoolKind;
  /** dedupe key: `inbound:<MessageSid>` or `status:<MessageSid>:<MessageStatus>` */
  key: string;
  /** when Twilio gave it to us (the injected clock): it is handled as of this time */
  receivedAt: string;
  /** Twilio's form, signature already checked */
  params: Record<string, string>;
}

export interface SpoolOptions {
  dir: string;
  logger: Logger;
  clock: Clock;
  /** handles one entry against the database; throws when it could not */
  apply: (entry: SpoolEntry) => Promise<void>;
  /** true when the database answers (the `health` rpc) */
  probe: () => Promise<boolean>;
  /** probe back-off while the database stays away: from minMs, doubling, up to maxMs */
  backoff?: { minMs: number; maxMs: number };
  /** a live attempt still running after this long is spooled (Twilio gives up at 15 s); its replay waits for it */
  liveDeadlineMs?: number;
  /** tests: another process's identity */
  host?: string;
  pid?: number;
  isAlive?: (pid: number) => boolean;
  /** tests: observe each fsync */
  sync?: (file: FileHandle) => Promise<void>;
}

/**
 * Unreachable = no HTTP answer at all (supabase-js: status 0, `TypeError: fetch failed`), a 502/503/504 (PostgREST
 * PGRST000-003, SQLSTATE 08/53/57P01), or a 500 whose SQLSTATE says connection/resources/time-out/operator
 * (08, 53, 57: e.g. 57014 statement timeout); anything else (4xx, a 500 from a bug, a JS error) is a real error.
 */
export function databaseUnreachable(err: unknown): boolean {
  if (!(err instanceof RpcError)) return false;
  if (err.status === undefined) return true;
  if (err.status === 502 || err.status === 503 || err.status === 504) return true;
  return err.status === 500 && /^(08|53|57)/.test(err.code);
}

/** The spool's probe: the `health` rpc answers ok. */
export const healthProbe = (db: Db) => async (): Promise<boolean> => {
  const health = await attempt<{ ok?: boolean } | null>(db, 'health');
  return 'data' in health && health.data?.ok === true;
};

const DEFAULT_BACKOFF = { minMs: 500, maxMs: 30_000 };
const OWNED = /^spool-([A-Za-z0-9_]+)-(\d+)(\.[\w-]+)?\.jsonl$/;
const COMPACT_EVERY = 50;

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Spool files open in this process (tests run several servers in one): never adopted from under their owner. */
const openHere = new Set<string>();

const safeHost = (h: string) => h.replace(/[^A-Za-z0-9_]/g, '_') || 'host';

export function spoolKey(kind: SpoolKind, params: Record<string, string>): string | null {
  const sid = params.MessageSid ?? params.SmsMessageSid;
  if (!sid) return null;
  if (kind === 'inbound') return `inbound:${sid}`;
  return params.MessageStatus ? `status:${sid}:${params.MessageStatus}` : null;
}

function parseLine(line: string): SpoolEntry | null {
  try {
    const v = JSON.parse(line) as Partial<SpoolEntry>;
    if ((v.kind !== 'inbound' && v.kind !== 'status') || typeof v.key !== 'string' || typeof v.receivedAt !== 'string') return null;
    if (!v.params || typeof v.params !== 'object' || Array.isArray(v.params)) return null;
    if (Object.values(v.params).some((p) => typeof p !== 'string')) return null;
    return { kind: v.kind, key: v.key, receivedAt: v.receivedAt, params: v.params };
  } catch {
    return null;
  }
}

const lineOf = (e: SpoolEntry) => `${JSON.stringify({ kind: e.kind, key: e.key, receivedAt: e.receivedAt, params: e.params })}\n`;

interface Pending {
  entry: SpoolEntry;
  /** its line is in the current file */
  written: boolean;
}

export class WhatsAppSpool {
  readonly file: string;
  private readonly rejectedFile: string;
  private readonly pending: Pending[] = [];
  private readonly keys = new Set<string>();
  /** live attempts that ran past the deadline and were spooled: their replay waits for them */
  private readonly inflight = new Map<string, Promise<unknown>>();
  private handle: FileHandle | null = null;
  private io: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private wakeSleep: (() => void) | null = null;
  private woken = false;
  private closed = false;
  private handledSinceCompaction = 0;
  private drainWaiters: (() => void)[] = [];

  private constructor(private readonly opts: SpoolOptions, private readonly host: string, private readonly pid: number) {
    const dir = resolve(opts.dir);
    // a second spool in the same process and folder gets a file of its own
    let file = join(dir, `spool-${host}-${pid}.jsonl`);
    for (let i = 2; openHere.has(file); i++) file = join(dir, `spool-${host}-${pid}.i${i}.jsonl`);
    openHere.add(file);
    this.file = file;
    this.rejectedFile = join(dir, `rejected-${host}-${pid}.jsonl`);
  }

  /** Opens this process's spool, adopts orphans of this machine, and starts replaying whatever was left. */
  static async open(opts: SpoolOptions): Promise<WhatsAppSpool> {
    const spool = new WhatsAppSpool(opts, safeHost(opts.host ?? hostname()), opts.pid ?? process.pid);
    await spool.load();
    if (spool.pending.length) spool.kick();
    return spool;
  }

  /** Messages and statuses waiting in the spool. */
  depth(): number {
    return this.pending.length;
  }

  /**
   * Handles a signed Twilio post now, or spools it: behind a non-empty spool (never ahead of older ones), when the
   * database is unreachable, or when the live attempt runs past the deadline. Rethrows any other error.
   */
  async submit(kind: SpoolKind, params: Record<string, string>): Promise<'handled' | 'spooled' | 'ignored'> {
    const key = spoolKey(kind, params);
    if (!key) return 'ignored';
    const entry: SpoolEntry = { kind, key, receivedAt: this.opts.clock.now().toISOString(), params };
    // already waiting: Twilio retried it; it will be handled once
    if (this.keys.has(key)) return 'spooled';
    if (this.pending.length > 0 || this.closed) {
      await this.append(entry);
      return 'spooled';
    }
    const live = this.opts.apply(entry);
    const deadlineMs = this.opts.liveDeadlineMs ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
    try {
      const outcome = await Promise.race([live.then(() => 'done' as const), late]);
      if (outcome === 'done') return 'handled';
      this.inflight.set(key, live.catch(() => undefined).finally(() => this.inflight.delete(key)));
      this.opts.logger.warn({ kind, sid: params.MessageSid, ms: deadlineMs }, 'whatsapp spool: database too slow, spooled');
    } catch (err) {
      if (!databaseUnreachable(err)) throw err;
      this.opts.logger.warn({ kind, sid: params.MessageSid, err: (err as Error).message }, 'whatsapp spool: database unreachable, spooled');
    } finally {
      clearTimeout(timer);
    }
    await this.append(entry);
    return 'spooled';
  }

  /** The database answered something: replay now instead of at the next probe. */
  wake(): void {
    if (!this.pending.length || this.closed) return;
    this.woken = true;
    this.wakeSleep?.();
    this.kick();
  }

  /** Resolves when the spool is empty and its file rewritten (tests, shutdown reports). */
  async drained(): Promise<void> {
    while (this.pending.length || this.loop) {
      if (this.pending.length) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      else await this.loop;
    }
    await this.io;
  }

  /** Stops replaying (what is left stays on disk for the next start) and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeSleep?.();
    // a call hanging on a database that does not answer must not hold the shutdown: what is left stays on disk
    let cap: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.loop, new Promise((resolve) => (cap = setTimeout(resolve, 5_000)))]);
    clearTimeout(cap);
    await this.serial(async () => {
      await this.handle?.close();
      this.handle = null;
      // nothing left: no file for the next start to adopt
      if (!this.pending.length) await rm(this.file, { force: true });
    });
    openHere.delete(this.file);
  }

  // ---- the file ----

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.io.then(fn, fn);
    this.io = run.catch(() => undefined);
    return run;
  }

  private async sync(file: FileHandle) {
    await (this.opts.sync ? this.opts.sync(file) : file.sync());
  }

  private async syncDir() {
    // the directory entry of a new or renamed file must survive a power cut too (not possible on every platform)
    const dir = await open(this.opts.dir, 'r').catch(() => null);
    if (!dir) return;
    try {
      await dir.sync();
    } catch {
      // some file systems do not sync directories
    } finally {
      await dir.close();
    }
  }

  private async append(entry: SpoolEntry): Promise<void> {
    const p: Pending = { entry, written: false };
    this.pending.push(p);
    this.keys.add(entry.key);
    try {
      await this.serial(async () => {
        this.handle ??= await open(this.file, 'a', 0o600);
        await this.handle!.write(lineOf(entry));
        await this.sync(this.handle!);
        p.written = true;
      });
    } catch (err) {
      // not on disk: not acknowledged either (the webhook answers 500), and not replayed from memory
      const i = this.pending.indexOf(p);
      if (i >= 0) this.pending.splice(i, 1);
      this.keys.delete(entry.key);
      throw err;
    }
    this.kick();
  }

  /** Rewrites the file with what is left, atomically (write, fsync, rename). */
  private compact(): Promise<void> {
    return this.serial(async () => {
      const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      const out = await open(tmp, 'w', 0o600);
      try {
        const left = this.pending.filter((p) => p.written).map((p) => lineOf(p.entry)).join('');
        if (left) await out.write(left);
        await this.sync(out);
      } finally {
        await out.close();
      }
      await this.handle?.close();
      this.handle = null;
      await rename(tmp, this.file);
      await this.syncDir();
      // the next append opens the new file
      this.handledSinceCompaction = 0;
    });
  }

  private async readEntries(path: string): Promise<SpoolEntry[]> {
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const entries: SpoolEntry[] = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const entry = parseLine(line);
      if (entry) entries.push(entry);
      else this.opts.logger.warn({ file: path, line: i + 1 }, 'whatsapp spool: malformed line skipped');
    });
    return entries;
  }

  /** Our own file from an earlier life, then every orphan of this machine, merged by time, deduplicated. */
  private async load() {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o700 });
    const alive = this.opts.isAlive ?? pidAlive;
    const names = await readdir(this.opts.dir);
    const dir = resolve(this.opts.dir);
    const adopted: string[] = [];
    for (const name of names) {
      const m = OWNED.exec(name);
      const path = join(dir, name);
      // ours, another machine's, or open in this process: not an orphan
      if (!m || path === this.file || m[1] !== this.host || openHere.has(path)) continue;
      const pid = Number(m[2]);
      if (pid !== this.pid && alive(pid)) continue;
      const mine = join(dir, `spool-${this.host}-${this.pid}.from${pid}-${randomBytes(4).toString('hex')}.jsonl`);
      openHere.add(mine);
      try {
        await rename(path, mine);
        adopted.push(mine);
      } catch (err) {
        openHere.delete(mine);
        // another process adopted it first
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const all = [...(await this.readEntries(this.file))];
    for (const path of adopted) all.push(...(await this.readEntries(path)));
    // stable: equal times keep file order
    all.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    for (const entry of all) {
      if (this.keys.has(entry.key)) continue;
      this.keys.add(entry.key);
      this.pending.push({ entry, written: true });
    }
    // our file now holds everything; the adopted ones can go (a crash before this replays them twice: deduped)
    await this.compact();
    for (const path of adopted) {
      await rm(path, { force: true });
      openHere.delete(path);
    }
    if (this.pending.length) this.opts.logger.info({ depth: this.pending.length, adopted: adopted.map((p) => basename(p)) }, 'whatsapp spool: replaying what was left');
  }

  // ---- the replay loop ----

  private kick() {
    if (this.loop || this.closed || !this.pending.length) return;
    this.loop = this.drain()
      .catch((err: unknown) => this.opts.logger.error({ err: (err as Error).message }, 'whatsapp spool: replay stopped'))
      .finally(() => {
        this.loop = null;
        // something arrived as the loop was ending
        if (this.pending.length && !this.closed) this.kick();
      });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    }).finally(() => (this.wakeSleep = null));
  }

  private async drain() {
    const { minMs, maxMs } = this.opts.backoff ?? DEFAULT_BACKOFF;
    let delay = minMs;
    let up = false;
    while (!this.closed && this.pending.length) {
      if (!up) {
        this.woken = false;
        up = await this.opts.probe().catch(() => false);
        if (!up) {
          await this.sleep(delay);
          delay = this.woken ? minMs : Math.min(delay * 2, maxMs);
          continue;
        }
        delay = minMs;
      }
      const p = this.pending[0]!;
      if (!p.written) {
        // its line is still on its way to the disk
        await this.io;
        continue;
      }
      const { entry } = p;
      const running = this.inflight.get(entry.key);
      if (running) {
        // not forever: a connection that never answers must not hold the spool
        let cap: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([running, new Promise((resolve) => (cap = setTimeout(resolve, 60_000)))]);
        clearTimeout(cap);
      }
      try {
        await this.opts.apply(entry);
        delay = minMs;
      } catch (err) {
        if (databaseUnreachable(err)) {
          this.opts.logger.warn({ kind: entry.kind, sid: entry.params.MessageSid, err: (err as Error).message, depth: this.pending.length }, 'whatsapp spool: database still unreachable');
          up = false;
          this.woken = false;
          await this.sleep(delay);
          delay = this.woken ? minMs : Math.min(delay * 2, maxMs);
          continue;
        }
        // a bug, not the database: set aside, loudly, so it neither blocks the others nor spools forever
        this.opts.logger.error({ kind: entry.kind, sid: entry.params.MessageSid, err: (err as Error).message }, 'whatsapp spool: entry could not be handled, set aside');
        await this.serial(async () => {
          const out = await open(this.rejectedFile, 'a', 0o600);
          try {
            await out.write(lineOf(entry));
            await this.sync(out);
          } finally {
            await out.close();
          }
        });
      }
      this.pending.shift();
      this.keys.delete(entry.key);
      this.handledSinceCompaction++;
      if (!this.pending.length || this.handledSinceCompaction >= COMPACT_EVERY) await this.compact();
      if (!this.pending.length) {
        this.opts.logger.info('whatsapp spool: drained');
        this.drainWaiters.splice(0).forEach((resolve) => resolve());
      }
    }
  }
}
