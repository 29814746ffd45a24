import { afterEach, describe, expect, it } from 'vitest';
import { createTranslator } from '../../bot/i18n';
import { makeStaff } from '../support/chat';
import { pgliteDb, type TestDb } from '../support/door';
import { whatsappStack } from '../support/whatsapp-stack';

const i18n = createTranslator();
const ar = i18n.t('ar');
const team = { context: 'team' };
const PHONE = '+393339876543';

/** Without the isolation marks the translator adds around names and numbers in right-to-left text. */
const plain = (s: string) => s.replace(/[\u2066-\u2069\u200e\u200f]/g, '');

describe('an Arabic-speaking mother on an Italian number, through the Twilio SDK and the WhatsApp emulator', () => {
  let t: TestDb | undefined;
  afterEach(async () => { await t?.close(); t = undefined; });

  it('is greeted in Arabic, picks her language by its everyday name, and finishes registering after a danger reply interrupted it', async () => {
    t = await pgliteDb();
    const stack = await whatsappStack(t, '2026-11-23T10:00:00Z');
    try {
      await makeStaff(t, 'coordinator', 'Anna Rossi', '9001');
      let seen = 0;
      const says = async (body: string) => {
        await stack.emulator.userSends(PHONE, { body });
        await stack.flush();
        stack.clock.advance(5_000);
        const all = stack.emulator.messagesTo(PHONE).map((m) => plain(m.body ?? ''));
        const fresh = all.slice(seen);
        seen = all.length;
        return fresh.join('\n---\n');
      };

      // Arabic script from +39: the greeting and the list in Arabic, Arabic first
      const hello = await says('السلام عليكم');
      expect(hello).toContain(plain(ar('greeting.welcome')));
      expect(hello).toContain(`1. ${ar('language.name')}`);
      // "عربي" is how she names it
      expect(await says('عربي')).toContain(plain(ar('greeting.languageSet')));
      expect(await says('1')).toContain(plain(ar('profile.askKind')));

      // danger before her children are known: the numbers and the team, not the next registration question
      const danger = await says('زوجي يضربني كل يوم وانا خايفة');
      expect(danger).toContain('1522');
      expect(danger).not.toContain(plain(ar('profile.askKind')));
      // at her next resting point, registration is taken up again
      const back = await says('شكرا');
      expect(back).toContain(plain(ar('profile.resume')));
      expect(back).toContain(plain(ar('profile.askKind')));

      await says('1');
      await says('عمر');
      await says('10/10/2026');
      const district = await says('2');
      expect(district).toContain(plain(ar('profile.askDistrict')));
      // a district by part of its name, as she would write it
      const done = await says('san siro');
      expect(done).toContain(plain(ar('profile.queued')));
      const [family] = await t.sql.query<{ district_code: string }>(`select f.district_code from public.families f join public.contacts c on c.family_id = f.id where c.provider_id = $1`, [PHONE]);
      expect(family!.district_code).toBe('milano-7');

      // no tutor yet: the help menu says who will answer, and how soon
      const help = await says('أحتاج مساعدة');
      expect(help).toContain(plain(ar('needs.chooseArea', team)));
      expect(help).not.toContain(plain(ar('kb.didItHelp')));
    } finally {
      await stack.close();
    }
  });
});
