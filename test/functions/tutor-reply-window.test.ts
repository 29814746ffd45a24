import { afterEach, describe, expect, it } from 'vitest';
import { rtlParagraphs } from '../../bot/i18n';
import { i18n, person } from '../support/chat';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';
import { whatsappStack } from '../support/whatsapp-stack';

const ur = i18n.t('ur');
const it_ = i18n.t('it');
const MOTHER = '+923001234567';

describe("the tutor's reply and WhatsApp's 24-hour window", () => {
  let t: TestDb;
  afterEach(() => t.close());

  it('waits behind the "message from your tutor" template, tells the tutor, and is delivered the moment she answers', async () => {
    t = await pgliteDb();
    const stack = await whatsappStack(t, '2026-11-21T10:00:00Z');
    try {
      const fam = await familyWithChild(t, { providerId: MOTHER, channel: 'whatsapp', language: 'ur', birth: '2026-01-10', name: 'Ayesha', lastInboundAt: '2026-11-21T09:00:00Z' });
      await tutorFor(t, fam.family_id, '2001');
      const sid = `HX${'c'.repeat(32)}`;
      await t.db.rpc('message_template_upsert', { p_kind: 'tutor_waiting', p_language: 'ur', p_content_sid: sid, p_variables: [], p_now: '2026-11-01T10:00:00Z' });
      stack.emulator.addTemplate(sid, 'آپ کی ٹیوٹر {{1}} کا پیغام آیا ہے۔ پڑھنے کے لیے جواب دیں۔');

      // Saturday: she asks for help through the real webhook
      for (const body of ['menu', '5', '7', 'Fatima', 'میرے پرمٹ کی تجدید میں مدد چاہیے']) {
        await stack.emulator.userSends(MOTHER, { body });
        await stack.flush();
      }
      const [need] = await t.sql.query<{ ref: number }>(`select ref::int as ref from public.needs`);
      expect(need).toBeDefined();

      // Monday, 48 hours later: her window is closed when the tutor answers
      stack.clock.set('2026-11-23T10:00:00Z');
      const tutor = person(stack.core, { id: '2001' });
      const told = await tutor.say(`/reply N-${need!.ref} Ciao Fatima, vieni giovedì alle 10.`);
      expect(told[0]!.text).toBe(`${it_('staff.replySent', { need: `N-${need!.ref}` })}\n${it_('staff.replyWaiting')}`);
      const before = stack.emulator.messagesTo(MOTHER).length;
      await stack.flush();
      const waiting = stack.emulator.messagesTo(MOTHER).slice(before);
      expect(waiting).toHaveLength(1);
      expect(waiting[0]).toMatchObject({ contentSid: sid, body: 'آپ کی ٹیوٹر Giulia کا پیغام آیا ہے۔ پڑھنے کے لیے جواب دیں۔' });
      const held = await t.sql.query<{ status: string }>(`select status from public.outbox where kind = 'tutor_reply'`);
      expect(held).toEqual([{ status: 'held' }]);

      // she answers: the reply goes at once, as free text, before the answer to what she wrote
      await stack.emulator.userSends(MOTHER, { body: 'جی' });
      await stack.flush();
      const after = stack.emulator.messagesTo(MOTHER).slice(before + 1).map((m) => m.body);
      expect(after[0]).toBe(rtlParagraphs(ur('needs.fromTutor', { tutor: 'Giulia', words: 'Ciao Fatima, vieni giovedì alle 10.' })));
      expect(await t.sql.query(`select status from public.outbox where kind = 'tutor_reply'`)).toEqual([{ status: 'sent' }]);
    } finally {
      await stack.close();
    }
  });

  it('drops the "a message is waiting" notice when no template exists and she writes first: she gets the message itself, once', async () => {
    t = await pgliteDb();
    const stack = await whatsappStack(t, '2026-11-23T10:00:00Z');
    try {
      const fam = await familyWithChild(t, { providerId: MOTHER, channel: 'whatsapp', language: 'ur', birth: '2026-01-10', lastInboundAt: '2026-11-20T09:00:00Z' });
      await tutorFor(t, fam.family_id, '2001');
      await t.sql.query(`insert into public.needs (family_id, kind, category, source, status, created_at, updated_at) values ($1, 'need', 'health', 'menu', 'open', $2, $2)`, [fam.family_id, stack.clock.now().toISOString()]);
      const [need] = await t.sql.query<{ ref: number }>(`select ref::int as ref from public.needs`);
      await person(stack.core, { id: '2001' }).say(`/reply N-${need!.ref} Ti chiamo oggi.`);
      await stack.flush();
      expect(stack.emulator.messagesTo(MOTHER)).toHaveLength(0);
      await stack.emulator.userSends(MOTHER, { body: 'ok' });
      await stack.flush();
      const bodies = stack.emulator.messagesTo(MOTHER).map((m) => m.body);
      expect(bodies[0]).toBe(rtlParagraphs(ur('needs.fromTutor', { tutor: 'Giulia', words: 'Ti chiamo oggi.' })));
      expect(bodies.filter((b) => b === ur('needs.tutorWaiting', { tutor: 'Giulia' }))).toHaveLength(0);
      expect(await t.sql.query(`select kind, status from public.outbox where kind in ('tutor_waiting', 'tutor_reply') order by id`)).toEqual([
        { kind: 'tutor_waiting', status: 'cancelled' }, { kind: 'tutor_reply', status: 'sent' },
      ]);
    } finally {
      await stack.close();
    }
  });
});
