import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreDeps, i18n, makeStaff, person, texts } from '../../support/chat';
import { pgliteDb, type TestDb } from '../../support/door';
import { familyWithChild, tutorFor } from '../../support/families';

const en = i18n.t('en');
const team = { context: 'team' };
const NOW = '2026-11-23T10:00:00+01:00';

describe('honest about who is there', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  beforeEach(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, NOW);
  });
  afterEach(() => t.close());

  const alertsTo = (contactId: string) => t.sql.query<{ text: string }>(
    `select payload->>'text' as text from public.outbox where contact_id = $1 and kind = 'staff_notice' order by id`, [contactId]);

  it('with no tutor, an urgent request says the programme’s team knows, and every coordinator hears at once', async () => {
    await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-09-01' });
    const anna = await makeStaff(t, 'coordinator', 'Anna Rossi', '9001');
    const marco = await makeStaff(t, 'coordinator', 'Marco Neri', '9002');
    const p = person(deps, { id: '1001' });
    expect(texts(await p.tap('menu:help'))[0]).toContain(en('needs.chooseArea', team));
    const said = texts(await p.tap('need:cat:protection')).join('\n');
    expect(said).toContain(en('needs.urgentDescribe', team));
    expect(said).not.toMatch(/tutor/i);
    for (const coordinator of [anna, marco]) expect((await alertsTo(coordinator))[0]?.text).toContain('🆘');
  });

  it.each([
    ['a question for the knowledge base', 'menu:ask', 'kb.askPrompt'],
    ['the help menu', 'menu:help', 'needs.chooseArea'],
  ])('%s names the team and how soon while she has no tutor, and her tutor once she has one', async (_what, tap, key) => {
    const { family_id } = await familyWithChild(t, { providerId: '1001', language: 'en', birth: '2026-09-01' });
    const p = person(deps, { id: '1001' });
    const before = texts(await p.tap(tap))[0]!;
    expect(before).toContain(en(key, team));
    expect(before).toContain('one working day');
    await tutorFor(t, family_id);
    await p.say('menu');
    expect(texts(await p.tap(tap))[0]).toContain(en(key));
  });

  it('no mother-facing text with a team variant still speaks of her tutor in any language', () => {
    for (const lng of ['it', 'ar', 'tl', 'zh', 'es', 'si', 'ro', 'uk', 'sq', 'bn', 'en', 'fr', 'ur'] as const) {
      const t_ = i18n.t(lng);
      // "your tutor" in that language: its longest word is the noun ("tutor mo" → tutor)
      const tutorWord = t_('needs.yourTutor').split(/\s+/).sort((a, b) => b.length - a.length)[0]!;
      for (const key of ['needs.urgentSent', 'needs.urgentDescribe', 'kb.forwarded', 'care.helpSent', 'media.photo']) {
        const teamText = t_(key, team);
        expect(teamText, `${lng} ${key}`).not.toBe(t_(key));
        expect(teamText.toLocaleLowerCase(), `${lng} ${key}`).not.toContain(tutorWord.toLocaleLowerCase());
      }
    }
  });
});
