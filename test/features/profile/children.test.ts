import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Language } from '../../../bot/i18n';
import { pgliteDb, type TestDb } from '../../support/door';
import { choiceIds, coreDeps, i18n, person, registered, texts } from '../../support/chat';

// today is 23 November 2026 in Rome: the examples offered are a recent birth and a due date ahead
const BIRTH_EXAMPLE = '23/08/2026';
const DUE_EXAMPLE = '23/03/2027';

describe('children in the family profile', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t);
  });
  afterEach(() => t.close());

  const children = () => t.sql.query<{ name: string | null; birth: string | null; due: string | null }>(
    `select name, birth_date::text as birth, due_date::text as due from public.children order by coalesce(birth_date, due_date)`);

  /** A mother who has just been asked her child's birth date. */
  async function askedBirthDate(lng: Language, id: string) {
    const p = person(deps, { id, hint: lng });
    await p.say('hi');
    await p.tap(`lang:${lng}`);
    await p.tap('consent:yes');
    await p.tap('kind:birth');
    await p.say('Nour');
    return p;
  }

  describe('birth dates as people type them', () => {
    it.each([
      ['it', '12/03/2026', '2026-03-12'],
      ['it', '12-3-26', '2026-03-12'],
      ['it', '12.03.2026', '2026-03-12'],
      ['it', '2026-03-12', '2026-03-12'],
      ['it', '12 marzo 2026', '2026-03-12'],
      ['en', '12 March 2026', '2026-03-12'],
      ['fr', '12 mars 2026', '2026-03-12'],
      ['es', '12 de marzo de 2026', '2026-03-12'],
      ['it', '29/02/2024', '2024-02-29'],
    ] as const)('%s: "%s" is accepted as %s', async (lng, typed, stored) => {
      const p = await askedBirthDate(lng, `acc-${typed}`);
      const out = await p.say(typed);
      expect(texts(out)[1]).toBe(i18n.t(lng)('profile.askAnother'));
      expect(await children()).toEqual([{ name: 'Nour', birth: stored, due: null }]);
    });

    it.each([
      ['it', '31/02/2026', 'dates.impossible'],
      ['it', '29/02/2025', 'dates.impossible'],
      ['it', '12/03/2027', 'dates.future'],
      ['en', '24/11/2026', 'dates.future'],
      ['it', '12/03/2019', 'dates.tooOld'],
      ['it', 'ieri', 'dates.notADate'],
      ['ar', 'لا أعرف', 'dates.notADate'],
      ['it', '12/13/2026', 'dates.impossible'],
    ] as const)('%s: "%s" is refused with %s and an example, and she is asked again', async (lng, typed, key) => {
      const p = await askedBirthDate(lng, `rej-${typed}`);
      const out = await p.say(typed);
      expect(texts(out)).toEqual([i18n.t(lng)(key, { example: BIRTH_EXAMPLE })]);
      expect(await children()).toEqual([]);
      // the same question still stands: a good date now is taken
      expect(texts(await p.say('01/09/2026'))[1]).toBe(i18n.t(lng)('profile.askAnother'));
    });

    it.each([
      ['12/03/2026', 'dates.past'],
      ['12/03/2028', 'dates.tooFar'],
    ] as const)('a due date "%s" is refused with %s', async (typed, key) => {
      const p = person(deps, { id: `due-${typed}`, hint: 'it' });
      await p.say('ciao');
      await p.tap('lang:it');
      await p.tap('consent:yes');
      await p.tap('kind:due');
      expect(texts(await p.say(typed))).toEqual([i18n.t('it')(key, { example: DUE_EXAMPLE })]);
    });
  });

  it('refuses a name that is only digits or far too long', async () => {
    const p = person(deps, { id: 'n1', hint: 'it' });
    await p.say('ciao');
    await p.tap('lang:it');
    await p.tap('consent:yes');
    await p.tap('kind:birth');
    expect(texts(await p.say('12/03/2026'))).toEqual([i18n.t('it')('profile.nameInvalid')]);
    expect(texts(await p.say('x'.repeat(61)))).toEqual([i18n.t('it')('profile.nameInvalid')]);
  });

  it('lets her add, rename, re-date and remove a child later, and turn a pregnancy into a birth', async () => {
    const it_ = i18n.t('it');
    const p = await registered(deps, 'c1', 'it');
    const list = await p.tap('menu:children');
    expect(texts(list)[0]).toBe(`${it_('children.header')}\n• ${it_('children.bornLine', { name: 'Sara', date: '1 febbraio 2025', age: it_('children.ageMonths', { count: 21 }) })}`);

    // a pregnancy
    await p.tap('child:add');
    await p.tap('kind:due');
    const added = await p.say('10/02/2027');
    expect(texts(added)[0]).toBe(it_('profile.pregnancySaved', { date: '10 febbraio 2027' }));
    expect(await children()).toEqual([{ name: 'Sara', birth: '2025-02-01', due: null }, { name: null, birth: null, due: '2027-02-10' }]);

    // rename Sara
    const sara = choiceIds(await p.tap('menu:children')).find((id) => id.startsWith('child:') && id !== 'child:add')!;
    await p.tap(sara);
    await p.tap('action:name');
    expect(texts(await p.say('Sarah'))[0]).toBe(it_('children.updated'));
    // change her birth date
    await p.tap(sara);
    await p.tap('action:date');
    await p.say('02/02/2025');
    expect((await children())[0]).toEqual({ name: 'Sarah', birth: '2025-02-02', due: null });

    // the baby is born
    const ids = choiceIds(await p.tap('menu:children'));
    const baby = ids.filter((id) => id.startsWith('child:') && id !== 'child:add')[1]!;
    await p.tap(baby);
    expect(texts(await p.tap('action:born'))).toEqual([it_('profile.askName')]);
    await p.say('Adam');
    await p.say('20/11/2026');
    expect((await children())[1]).toEqual({ name: 'Adam', birth: '2026-11-20', due: null });

    // remove Sarah, after a confirmation
    await p.tap(sara);
    expect(texts(await p.tap('action:remove'))).toEqual([it_('children.confirmRemove', { name: 'Sarah' })]);
    expect(texts(await p.tap('remove:yes'))[0]).toBe(it_('children.removed'));
    expect(await children()).toEqual([{ name: 'Adam', birth: '2026-11-20', due: null }]);
  });

  it('the nido menu lists the calls for her child\'s age, and "I need help" keeps the emergency numbers in sight', async () => {
    const p = await registered(deps, 'c2', 'en');
    const en = i18n.t('en');
    // Sara, born February 2025, will be 31 months old in September 2027: nido or sezione primavera
    const nido = await p.tap('menu:nido');
    expect(texts(nido)[0]).toContain(en('calls.nidoHead'));
    expect(choiceIds(nido)).toEqual(expect.arrayContaining(['call:show:nido-2027', 'call:show:primavera-2027', 'call:show:bonus-nido']));
    const help = await p.tap('menu:help');
    expect(help[0]!.text).toBe(`${en('needs.chooseArea', { context: 'team' })}\n\n${en('needs.emergencyShort')}`);
    for (const n of ['112', '1522', '114']) expect(help[0]!.text).toContain(n);
    expect(help[0]!.choices!.map((c) => c.id)).toEqual(['need:cat:health', 'need:cat:education', 'need:cat:protection', 'need:cat:parenting', 'need:cat:housing', 'need:cat:work', 'need:cat:documents', 'need:cat:other', 'menu']);
    // free words at the menu: the menu again, kindly
    expect(texts(await p.say('what?'))).toEqual([`${en('common.notUnderstood')}\n${en('menu.title')}`]);
  });
});
