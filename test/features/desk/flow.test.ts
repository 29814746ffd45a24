import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DESK_LINKS_PER_HOUR, secretHash } from '../../../bot/features/desk/flow';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, i18n, makeStaff, person, registered, texts } from '../../support/chat';

const it_ = i18n.t('it');
const LINK = /http:\/\/desk\.test\/desk\/l\/([A-Za-z0-9_-]{43})/;

describe('/desk: a coordinator asks the bot for a link to the desk', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, '2026-11-23T10:00:00+01:00', { deskUrl: 'http://desk.test/desk' });
  });
  afterEach(() => t.close());

  const links = async () => t.sql.query<{ token_hash: string; expires_at: Date | string; used_at: Date | string | null; role: string }>(
    `select l.token_hash, l.expires_at, l.used_at, s.role from public.desk_links l join public.staff s on s.id = l.staff_id order by l.created_at`);
  const audit = async () => (await t.sql.query<{ action: string }>(`select action from public.audit_log order by id`)).map((r) => r.action);

  it.each(['/desk', '/scrivania', '/DESK'])('answers %s with a single-use link that lasts 10 minutes, storing only its hash', async (command) => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    const coordinator = person(deps, { id: '500' });
    const [reply] = await coordinator.say(command);
    const secret = LINK.exec(reply!.text)?.[1];
    expect(secret, reply!.text).toBeDefined();
    expect(reply!.text).toBe(it_('desk.link', { url: `http://desk.test/desk/l/${secret}`, count: 10 }));
    const [row] = await links();
    expect(row!.token_hash).toBe(secretHash(secret!));
    expect(row!.token_hash).not.toContain(secret!);
    expect(new Date(row!.expires_at).toISOString()).toBe('2026-11-23T09:10:00.000Z');
    expect(await audit()).toEqual(['desk.link']);
  });

  it('is on the coordinator\'s menu, not on a tutor\'s', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    expect(choiceIds(await person(deps, { id: '500' }).say('menu'))).toContain('staff:desk');
    expect(choiceIds(await person(deps, { id: '501' }).say('menu'))).not.toContain('staff:desk');
    expect(LINK.test(texts(await person(deps, { id: '500' }).tap('staff:desk')).join('\n'))).toBe(true);
  });

  it('tells a tutor and a mother that only coordinators can do this, and makes no link', async () => {
    await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    expect(texts(await person(deps, { id: '501' }).say('/desk'))[0]).toBe(it_('staff.notAllowed'));
    const mother = await registered(deps, '1001', 'it');
    expect(texts(await mother.say('/desk'))).toEqual([`${it_('staff.notAllowed')}\n${it_('menu.title')}`]);
    expect(await links()).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it('still checks her words for danger first: a mother who writes /desk and that she is beaten gets help, not a refusal', async () => {
    const mother = await registered(deps, '1002', 'it');
    const out = texts(await mother.say('/desk mio marito mi picchia'));
    expect(out.join('\n')).toContain('112');
    expect(out.join('\n')).not.toContain(it_('staff.notAllowed'));
  });

  it(`gives at most ${DESK_LINKS_PER_HOUR} links an hour, and a new link stops the unused ones before it`, async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    const coordinator = person(deps, { id: '500' });
    for (let i = 0; i < DESK_LINKS_PER_HOUR; i++) {
      expect(LINK.test((await coordinator.say('/desk'))[0]!.text)).toBe(true);
      deps.clock.advance(60_000);
    }
    expect((await coordinator.say('/desk'))[0]!.text).toBe(it_('desk.tooMany', { count: DESK_LINKS_PER_HOUR }));
    const rows = await links();
    expect(rows).toHaveLength(DESK_LINKS_PER_HOUR);
    // only the newest can still be used
    expect(rows.filter((r) => new Date(r.expires_at).getTime() > deps.clock.now().getTime())).toHaveLength(1);
    deps.clock.advance(60 * 60_000);
    expect(LINK.test((await coordinator.say('/desk'))[0]!.text)).toBe(true);
  });

  it('says the desk is off when the server has no address for it', async () => {
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    const off = coreDeps(t, '2026-11-23T10:00:00+01:00');
    expect(texts(await person(off, { id: '500' }).say('/desk'))[0]).toBe(it_('desk.off'));
    expect(await links()).toEqual([]);
  });
});
