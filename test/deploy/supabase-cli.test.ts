import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../bot/config';
import { openDataDoor, type DataDoor } from '../../bot/db/client';
import { postgresExecutor } from '../../bot/db/executor';
import { listMigrations, migrate, SUPABASE_DIR, type MigrationResult } from '../../bot/db/migrate';
import { createLogger } from '../../bot/logger';
import { runJob, type JobDeps } from '../../functions/jobs';
import { broadcasts } from '../../bot/features/broadcasts/job';
import { reminders } from '../../bot/features/care/job';
import { choiceIds, coreDeps, deliverAll, i18n, makeStaff, person, texts } from '../support/chat';
import { freshPostgresDatabase } from '../support/databases';
import type { TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';
import { cliDbUrl, hasPlpgsqlCheck, lintFindings, lintLines, runSql, SUPABASE_PROJECT_SQL, supabaseCli, type CliRun } from '../support/supabase-cli';

const ar = i18n.t('ar');
const bn = i18n.t('bn');
const it_ = i18n.t('it');
/** The tests' fixed clock: a Monday morning in Rome, inside the send window. */
const NOW = '2026-11-23T10:00:00+01:00';
const haveServer = inject('pg15Url') !== null;
const NO_PG15 = 'no PostgreSQL 15 here (set PG15_BIN or install postgresql-15): the deploy path is not tested';
const NO_PLPGSQL_CHECK = "PostgreSQL 15 has no plpgsql_check (Debian's postgresql-15-plpgsql-check): supabase db lint is not run";

/** Seed files in the order config.toml's [db.seed] sql_paths names them, as the CLI records them. */
async function seedFiles(): Promise<{ path: string; hash: string }[]> {
  const extra = (await readdir(join(SUPABASE_DIR, 'seeds'))).filter((n) => n.endsWith('.sql')).sort().map((n) => `seeds/${n}`);
  return Promise.all(['seed.sql', ...extra].map(async (file) => ({
    path: `supabase/${file}`,
    hash: createHash('sha256').update(await readFile(join(SUPABASE_DIR, file), 'utf8')).digest('hex'),
  })));
}

it.runIf(!haveServer)('has PostgreSQL 15 for the deploy path', ({ skip }) => {
  if (process.env.CI) throw new Error(NO_PG15);
  skip(NO_PG15);
});

describe.skipIf(!haveServer)('deploying to a new Supabase project with the real Supabase CLI, on PostgreSQL 15', () => {
  let database: { url: string; drop(): Promise<void> };
  let dbUrl: string;
  let push: CliRun;

  beforeAll(async () => {
    database = await freshPostgresDatabase('15');
    await runSql(database.url, SUPABASE_PROJECT_SQL);
    dbUrl = cliDbUrl(database.url);
    push = await supabaseCli(['db', 'push', '--db-url', dbUrl, '--include-seed', '--yes']);
    console.log(`supabase db push --include-seed: ${push.ms} ms`);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('db push, as the README says, applies every migration and every seed file', async () => {
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const sql = postgresExecutor(database.url);
    try {
      const versions = await sql.query<{ version: string; name: string }>('select version, name from supabase_migrations.schema_migrations order by version');
      expect(versions).toEqual((await listMigrations()).map((m) => ({ version: m.version, name: m.name })));
      // the same paths and sha-256 hashes the app's migrate.ts records, so both agree on what was seeded
      const seeded = await sql.query<{ path: string; hash: string }>('select path, hash from supabase_migrations.seed_files order by path');
      expect(seeded).toEqual((await seedFiles()).sort((a, b) => a.path.localeCompare(b.path)));
      const [districts] = await sql.query<{ n: number }>('select count(*)::int as n from public.districts');
      expect(districts!.n).toBeGreaterThan(0);
    } finally {
      await sql.close();
    }
  });

  it('db lint (plpgsql_check over every function in public and private) finds no error', async ({ skip }) => {
    if (!(await hasPlpgsqlCheck(database.url))) {
      if (process.env.CI) throw new Error(NO_PLPGSQL_CHECK);
      skip(NO_PLPGSQL_CHECK);
    }
    await runSql(database.url, 'create extension if not exists plpgsql_check');
    const lint = await supabaseCli(['db', 'lint', '--db-url', dbUrl, '--schema', 'public,private', '--level', 'warning']);
    expect(lint.code, lint.stderr).toBe(0);
    const findings = lintFindings(lint.stdout);
    console.log(`supabase db lint: ${lint.ms} ms, ${findings.length} function(s) with findings\n${lintLines(findings).join('\n')}`);
    // the CLI exits 0 even on errors: the levels are read from its JSON
    expect(lintLines(findings).filter((l) => l.startsWith('error'))).toEqual([]);
  });

  describe('the bot started with DATABASE_URL on the pushed database', () => {
    let migrated: MigrationResult;
    let door: DataDoor;
    let t: TestDb;
    let deps: ReturnType<typeof coreDeps>;
    let jobs: JobDeps;

    beforeAll(async () => {
      if (push.code !== 0) throw new Error('supabase db push failed: the bot is not started on a half-deployed database');
      // the app's own migrator first, on its own, to see what it would do; then the data door, as npm start opens it
      const sql = postgresExecutor(database.url);
      try {
        migrated = await migrate(sql);
      } finally {
        await sql.close();
      }
      const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' });
      door = await openDataDoor(config);
      t = { db: door.supabase, sql: door.executor!, close: () => door.close() };
      deps = coreDeps(t, NOW);
      jobs = { db: door.supabase, logger: createLogger('silent'), config, i18n };
    });
    afterAll(async () => {
      await door?.close();
    });

    it('finds nothing left to apply or seed: the app keeps the same tracking tables as the CLI', async () => {
      const last = (await listMigrations()).at(-1)!.version;
      expect(migrated).toEqual({ applied: [], seeded: false, seedsChanged: [], schemaVersion: last });
      expect(door.mode).toBe('postgres');
      expect(door.schemaVersion).toBe(last);
    });

    it('takes a mother from hello through her language and consent to the main menu', async () => {
      const amina = person(deps, { id: 'deploy-1001', hint: 'ar' });
      const hello = await amina.say('مرحبا');
      expect(texts(hello)).toEqual([ar('greeting.welcome'), ar('greeting.chooseLanguage')]);
      expect(choiceIds(hello)[0]).toBe('lang:ar');
      const language = await amina.tap('lang:ar');
      expect(texts(language)[0]).toBe(ar('greeting.languageSet'));
      expect(texts(language).at(-1)).toBe(`${ar('consent.rights')}\n\n${ar('consent.question')}`);
      expect(choiceIds(language)).toEqual(['consent:yes', 'consent:no']);
      expect(texts(await amina.tap('consent:yes'))).toEqual([ar('profile.askKind')]);
      await amina.tap('kind:birth');
      await amina.say('Amir');
      await amina.say('12/03/2026');
      expect(texts(await amina.tap('another:no'))).toEqual([ar('profile.askDistrict')]);
      expect(texts(await amina.tap('district:milano-7'))).toEqual([ar('profile.done'), ar('profile.queued'), ar('menu.title')]);
      const rows = await t.sql.query(`
        select c.language, c.consent, f.district_code, ch.name, ch.birth_date::text as birth
          from public.contacts c join public.families f on f.id = c.family_id join public.children ch on ch.family_id = f.id
         where c.provider_id = 'deploy-1001'`);
      expect(rows).toEqual([{ language: 'ar', consent: 'given', district_code: 'milano-7', name: 'Amir', birth: '2026-03-12' }]);
    });

    it('takes her request to her tutor: she is told its number, and the tutor’s alert is in the outbox', async () => {
      const fam = await familyWithChild(t, { providerId: 'deploy-2001', language: 'it', birth: '2026-01-10', name: 'Sara' });
      const tutorContact = await tutorFor(t, fam.family_id, 'deploy-tutor-1');
      const mother = person(deps, { id: 'deploy-2001' });
      await mother.tap('menu:help');
      await mother.tap('need:cat:housing');
      await mother.tap('need:noname');
      const sent = await mother.say("Il padrone di casa vuole aumentare l'affitto, cosa posso fare?");
      const [need] = await t.sql.query<{ ref: number; status: string }>(`select ref::int as ref, status from public.needs where family_id = $1`, [fam.family_id]);
      expect(need).toMatchObject({ status: 'open' });
      expect(texts(sent)[0]).toBe(it_('needs.sent', { tutor: 'Giulia', need: `N-${need!.ref}` }));
      const alerts = await t.sql.query<{ kind: string; text: string; status: string }>(
        `select kind, payload->>'text' as text, status from public.outbox where contact_id = $1`, [tutorContact]);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ kind: 'staff_notice', status: 'pending' });
      expect(alerts[0]!.text.split('\n')[0]).toBe(`📌 Nuova richiesta N-${need!.ref} · ${it_('needs.category.housing')}`);
    });

    it('queues the reminders of a child two months old: the check-up at 09:00 Rome today, the vaccines tomorrow', async () => {
      // born 61 days before the run: the two-month check-up was due yesterday, the first vaccines are due today
      const { child_id, contact_id } = await familyWithChild(t, { providerId: 'deploy-3001', birth: '2026-09-23', name: 'Omar' });
      const outcome = await runJob(reminders, jobs, new Date('2026-11-23T07:00:00+01:00'));
      expect(outcome).toMatchObject({ ran: true, summary: { today: '2026-11-23' } });
      const queued = await t.sql.query<{ key: string; not_before: string; text: string }>(
        `select idempotency_key as key, not_before::text, payload->>'text' as text from public.outbox where contact_id = $1 and kind = 'reminder' order by not_before`,
        [contact_id]);
      const romeTime = (iso: string) => format(new TZDate(new Date(iso).getTime(), 'Europe/Rome'), 'yyyy-MM-dd HH:mm');
      // one reminder question a day: the vaccines due today wait for tomorrow behind yesterday's check-up
      expect(queued.map((r) => [r.key.replace(/^.*:(\d{4}-\d{2}-\d{2}):(\w+)$/, '$1 $2'), romeTime(r.not_before)])).toEqual([
        ['2026-11-22 due', '2026-11-23 09:00'],
        ['2026-11-23 due', '2026-11-24 09:00'],
      ]);
      expect(queued.every((r) => r.key.includes(child_id))).toBe(true);
      expect(queued[0]!.text).toContain(it_('care.checkDate'));
      expect(queued[1]!.text).toContain(it_('care.item.hexa', { dose: 1 }));
    });

    it('releases a coordinator’s broadcast to the families it is meant for, each once', async () => {
      const targets = ['deploy-4001', 'deploy-4002'];
      for (const id of targets) await familyWithChild(t, { providerId: id, language: 'bn', birth: '2025-05-01' });
      await makeStaff(t, 'coordinator', 'Marco Rossi', 'deploy-coord-1');
      const marco = person(deps, { id: 'deploy-coord-1', hint: 'it' });
      await marco.say('/avviso');
      await marco.tap('bc:filter:languages');
      await marco.tap('bc:add:languages:bn');
      expect(texts(await marco.tap('bc:next'))[0]).toBe(it_('broadcast.askItalian', { max: 1000 }));
      const notice = 'Sabato 28 open day al nido di via Rossi, ore 10.';
      await marco.say(notice);
      expect(texts(await marco.tap('bc:now'))[0]).toContain(it_('broadcast.sendingNow', { broadcast: 'B-1' }));

      const released = await runJob(broadcasts, jobs, new Date(NOW));
      expect(released).toMatchObject({ ran: true, summary: { released: [{ ref: 1, queued: 2, skipped: 0 }] } });
      await deliverAll(t, NOW);
      const got = await t.sql.query<{ who: string; text: string; status: string }>(
        `select c.provider_id as who, o.payload->>'text' as text, o.status from public.outbox o join public.contacts c on c.id = o.contact_id where o.kind = 'broadcast' order by 1`);
      // Bengali has no text of its own: the Italian one under the note in her language
      const text = `${bn('broadcast.head')}\n${bn('broadcast.inItalian')}\n\n${notice}`;
      expect(got).toEqual(targets.map((who) => ({ who, text, status: 'sent' })));
    });
  });
});
