import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subDays, format } from 'date-fns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../bot/clock';
import { loadConfig } from '../../../bot/config';
import { handleInbound } from '../../../bot/app';
import { openDataDoor } from '../../../bot/db/client';
import { createTranslator } from '../../../bot/i18n';
import { createLogger } from '../../../bot/logger';
import { runScript } from '../../support/processes';

const i18n = createTranslator();
// the commands run on the system clock: dates relative to today keep the file valid on any day
const daysAgo = (n: number) => format(subDays(new Date(), n), 'yyyy-MM-dd');

describe('npm run admin and npm run import on the embedded database', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'familybot-import-'));
    env = { DATA_DIR: dataDir };
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const run = async (script: string, args: string[]) => runScript(script, args, env).done;
  const query = async <T>(sql: string): Promise<T[]> => {
    const door = await openDataDoor(loadConfig(env));
    try {
      return await door.executor!.query<T>(sql);
    } finally {
      await door.close();
    }
  };

  it('creates the first coordinator\'s invitation from the shell', async () => {
    const out = await run('functions/cli/admin.ts', ['create-coordinator', '--name', 'Marco Rossi', '--email', 'M.Rossi@example.org']);
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as { code: string; role: string; via: string };
    expect(printed).toMatchObject({ role: 'coordinator', name: 'Marco Rossi', code: expect.stringMatching(/^[A-HJ-NP-Z2-9]{8}$/), via: 'embedded' });

    const bad = await run('functions/cli/admin.ts', ['create-coordinator']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--name is required');
  }, 60_000);

  it('refuses a file with bad rows, naming each line, and imports nothing', async () => {
    const file = join(dataDir, 'bad.csv');
    await writeFile(file, [
      'phone,telegram_id,language,district,tutor_email,child_name,child_birth_date,consent',
      `+393331234567,,ar,milano-7,,Amir,${daysAgo(300)},yes`,
      `+39333,,ar,milano-7,,Lina,${daysAgo(30)},yes`,
      `,555000111,xx,,,Rafi,${daysAgo(30)},`,
    ].join('\n'));
    const out = await run('functions/cli/import.ts', ['families', file]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${file}:3: phone "+39333" is not in E.164 form`);
    expect(out.stderr).toContain(`${file}:4: language "xx" is not one of`);
    expect(JSON.parse(out.stdout)).toMatchObject({ rows: 3, bad_rows: 2, imported: false });
    expect(await query<{ n: number }>('select count(*)::int as n from public.families')).toEqual([{ n: 0 }]);

    const skipping = await run('functions/cli/import.ts', ['families', file, '--skip-bad']);
    expect(skipping.code, skipping.stderr).toBe(0);
    expect(JSON.parse(skipping.stdout)).toMatchObject({ imported: true, result: { families_created: 1, children_added: 1 } });
  }, 60_000);

  it('imports a good file once: the same file twice changes nothing; an imported mother is answered in her language', async () => {
    const file = join(dataDir, 'caseload.csv');
    await writeFile(file, [
      'phone,telegram_id,language,district,tutor_email,child_name,child_birth_date,consent',
      `+393339876543,,bn,milano-2,,Rafi,${daysAgo(400)},yes`,
      `+393339876543,,bn,milano-2,,Mitu,${daysAgo(20)},yes`,
      `,777000111,uk,,,Olena,${daysAgo(900)},`,
    ].join('\n'));
    const first = await run('functions/cli/import.ts', ['families', file]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ rows: 3, families: 2, imported: true, result: { families_created: 2, children_added: 3, assignments: 0, updated: 0 } });
    const again = await run('functions/cli/import.ts', ['families', file]);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: true, result: { families_created: 0, children_added: 0, assignments: 0, updated: 0 } });

    const door = await openDataDoor(loadConfig(env));
    try {
      const deps = { db: door.supabase, i18n, clock: new FakeClock(new Date()), logger: createLogger('silent') };
      // consent collected on paper: straight to the menu, in Bengali
      const wa = await handleInbound(deps, { channel: 'whatsapp', providerId: '+393339876543', providerMessageId: 'SMimport1', text: 'hello', languageHint: 'it' });
      expect(wa.replies.map((r) => r.text)).toEqual([i18n.t('bn')('greeting.paperWelcome'), i18n.t('bn')('menu.title')]);
      // no paper consent: asked for it, in Ukrainian, without asking the language again
      const tg = await handleInbound(deps, { channel: 'telegram', providerId: '777000111', providerMessageId: '1:import2', text: 'привіт', languageHint: 'en' });
      expect(tg.replies[0]!.text).toBe(i18n.t('uk')('greeting.welcome'));
      expect(tg.replies.at(-1)!.text).toBe(`${i18n.t('uk')('consent.rights')}\n\n${i18n.t('uk')('consent.question')}`);
    } finally {
      await door.close();
    }
  }, 90_000);

  it('imports calls from a file, refusing one with a bad row with its line and reason', async () => {
    const header = 'code,kind,title_it,opens_on,closes_on,districts,documents,apply_how,source,checked_on';
    const bad = join(dataDir, 'calls-bad.csv');
    await writeFile(bad, [header, 'sap-m8,sap,Avviso SAP Municipio 8,2027-02-01,2027-03-05,milano-8,isee,online_spid,Regione,2027-01-20', 'sap-m9,sap,Avviso SAP Municipio 9,2027-03-05,2027-02-01,milano-9,isee,online_spid,Regione,2027-01-20'].join('\n'));
    const refused = await run('functions/cli/import.ts', ['calls', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${bad}:3: opens_on 2027-03-05 is after closes_on 2027-02-01`);
    expect(await query<{ n: number }>(`select count(*)::int as n from public.calls where code like 'sap-%'`)).toEqual([{ n: 0 }]);

    const good = join(dataDir, 'calls.csv');
    await writeFile(good, [header, 'sap-m8,sap,Avviso SAP Municipio 8,2027-02-01,2027-03-05,milano-8,isee,online_spid,Regione,2027-01-20'].join('\n'));
    const out = await run('functions/cli/import.ts', ['calls', good]);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ imported: true, result: { added: 1, updated: 0 } });
    expect(await query<{ districts: string[] }>(`select districts from public.calls where code = 'sap-m8'`)).toEqual([{ districts: ['milano-8'] }]);
  }, 60_000);

  it('runs the reminders job once from the shell and prints what it queued', async () => {
    const out = await run('functions/cli/job.ts', ['reminders', '--now', new Date().toISOString()]);
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as { ran: boolean; summary: { planned: number; queued: number; stages: Record<string, number> } };
    expect(printed.ran).toBe(true);
    // the imported and earlier families' children are planned; the 13-month-old with paper consent gets a catch-up summary
    expect(printed.summary.planned).toBeGreaterThanOrEqual(3);
    expect(printed.summary.stages.catchup).toBeGreaterThanOrEqual(1);
    expect(out.stdout).not.toContain('Rafi');
  }, 60_000);
});
