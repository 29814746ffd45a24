import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleInbound } from '../../../bot/app';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, deliverAll, i18n, makeStaff, registered, texts } from '../../support/chat';

const en = i18n.t('en');

describe('her data, her rights', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t);
  });
  afterEach(() => t.close());

  /** A registered mother followed by Giulia, who has sent one photo. */
  async function mother() {
    const p = await registered(deps, '5550001', 'en');
    await makeStaff(t, 'tutor', 'Giulia Bianchi', '2001');
    await t.sql.query(`insert into public.family_assignments (family_id, tutor_id) select c.family_id, s.id from public.contacts c, public.staff s where c.provider_id = '5550001'`);
    await handleInbound(deps, { channel: 'telegram', providerId: '5550001', providerMessageId: 'photo-1', media: [{ kind: 'photo', ref: 'AgACAgQAAxkBAAIB', contentType: 'image/jpeg' }] });
    return p;
  }

  /** Every row of every table in public, as text, that mentions one of the needles. */
  async function rowsMentioning(...needles: string[]): Promise<string[]> {
    // the knowledge base and the services directory are reference data: no row is about anyone
    const tables = await t.sql.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' and tablename not in ('kb_entries', 'kb_texts', 'services')`);
    const found: string[] = [];
    for (const { name } of tables) {
      for (const needle of needles) {
        const rows = await t.sql.query<{ row: string }>(`select x::text as row from public.${name} x where x::text ilike '%' || $1 || '%'`, [needle]);
        found.push(...rows.map((r) => `${name}: ${r.row}`));
      }
    }
    return found;
  }

  it('shows in plain words what is kept about her', async () => {
    const p = await mother();
    await p.tap('menu:privacy');
    const [summary] = texts(await p.tap('privacy:show'));
    expect(summary).toContain(en('privacy.summaryLanguage', { language: 'English' }));
    expect(summary).toContain('Telegram (5550001)');
    expect(summary).toContain(en('privacy.summaryDistrict', { district: 'Municipio 2 – Stazione Centrale, Gorla, Turro, Greco, Crescenzago' }));
    expect(summary).toContain(en('privacy.summaryTutor', { tutor: 'Giulia' }));
    expect(summary).toContain('Sara: born on 1 February 2025');
    expect(summary).toContain(en('privacy.summaryFiles', { count: 1 }));
  });

  it('exports everything stored about her and her children', async () => {
    const p = await mother();
    await p.tap('menu:privacy');
    const out = texts(await p.tap('privacy:export'));
    expect(out[0]).toBe(en('privacy.exportIntro'));
    const data = JSON.parse(out.slice(1, -1).join('\n')) as Record<string, any>;
    const [contact] = await t.sql.query<Record<string, unknown>>(`select channel, provider_id, language, consent, consent_source from public.contacts where provider_id = '5550001'`);
    expect(data.contact).toMatchObject({ channel: contact!.channel, id: contact!.provider_id, language: contact!.language, consent: contact!.consent, consent_source: contact!.consent_source });
    expect(data.family).toMatchObject({ district: expect.stringContaining('Municipio 2'), tutor: 'Giulia Bianchi', children: [{ name: 'Sara', birth_date: '2025-02-01', due_date: null }] });
    // what was sent and when, never the provider's reference to the file
    expect(data.files).toEqual([{ kind: 'photo', content_type: 'image/jpeg', received_at: expect.any(String) }]);
    expect(JSON.stringify(data)).not.toContain('AgACAgQAAxkBAAIB');
  });

  it('erases her, her family, her children and her requests after a confirmation, leaving no row that names them', async () => {
    const p = await mother();
    await p.tap('menu:help');
    await p.tap('need:cat:health');
    await p.say('Amaranta');
    await p.say('Sara has a rash since Tuesday, should I worry?');
    const tutorCopies = await t.sql.query(`select 1 from public.outbox o join public.contacts c on c.id = o.contact_id where c.staff_id is not null`);
    expect(tutorCopies.length).toBeGreaterThan(0);
    await p.tap('menu:privacy');
    expect(texts(await p.tap('privacy:erase'))).toEqual([en('privacy.eraseConfirm')]);
    expect(texts(await p.tap('erase:yes'))).toEqual([en('privacy.erased')]);
    await deliverAll(t);
    expect(await rowsMentioning('5550001', 'Sara', 'AgACAgQAAxkBAAIB', 'Amaranta', 'rash since Tuesday')).toEqual([]);
    expect(await t.sql.query(`select 1 from public.needs union all select 1 from public.need_messages`)).toEqual([]);
    const counts = await t.sql.query<{ families: number; children: number; contacts: number }>(
      `select (select count(*)::int from public.families) as families, (select count(*)::int from public.children) as children, (select count(*)::int from public.contacts where staff_id is null) as contacts`);
    expect(counts[0]).toEqual({ families: 0, children: 0, contacts: 0 });
    const audit = await t.sql.query<{ action: string }>(`select action from public.audit_log where action = 'privacy.erased'`);
    expect(audit).toHaveLength(1);
  });

  it('keeps everything when she says no to erasing', async () => {
    const p = await mother();
    await p.tap('menu:privacy');
    await p.tap('privacy:erase');
    expect(texts(await p.tap('erase:no'))).toEqual([`${en('privacy.kept')}\n${en('menu.title')}`]);
    expect((await rowsMentioning('Sara')).filter((r) => r.startsWith('children:'))).toHaveLength(1);
  });
});
