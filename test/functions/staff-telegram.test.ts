import { afterEach, describe, expect, it } from 'vitest';
import { createTranslator } from '../../bot/i18n';
import { makeStaff } from '../support/chat';
import { familyWithChild } from '../support/families';
import { telegramStack, TOKEN, type Stack } from '../support/telegram-stack';

const it_ = createTranslator().t('it');
const MARCO = { id: 5001, firstName: 'Marco', languageCode: 'it' };
const GIULIA = { id: 5002, firstName: 'Giulia', languageCode: 'it' };

const buttons = (m: { reply_markup?: { inline_keyboard: { text: string; callback_data?: string }[][] } }) =>
  (m.reply_markup?.inline_keyboard.flat() ?? []).map((b) => ({ text: b.text, data: b.callback_data }));

describe('staff on Telegram through grammY and the emulator', () => {
  let s: Stack;
  afterEach(() => s?.close());

  it('a coordinator assigns a waiting family from /queue by tapping buttons; the tutor takes its request from her notice', async () => {
    s = await telegramStack('webhook');
    await makeStaff(s.t, 'coordinator', 'Marco Rossi', String(MARCO.id));
    await makeStaff(s.t, 'tutor', 'Giulia Bianchi', String(GIULIA.id));
    const fam = await familyWithChild(s.t, { providerId: '+393331234567', channel: 'whatsapp', birth: '2026-01-10' });
    const [need] = await s.t.sql.query<{ ref: number }>(`insert into public.needs (family_id, category, source, status) values ($1, 'documents', 'menu', 'open') returning ref::int as ref`, [fam.family_id]);
    const [giulia] = await s.t.sql.query<{ ref: number }>(`select ref::int as ref from public.staff where full_name = 'Giulia Bianchi'`);
    const [family, tutor, n] = [`F-${fam.ref}`, `T-${giulia!.ref}`, `N-${need!.ref}`];
    s.emulator.userSends(TOKEN, GIULIA, '/start');
    await s.emulator.waitForMessages(TOKEN, GIULIA.id, 1, 10_000);

    s.emulator.userSends(TOKEN, MARCO, '/queue');
    const [queue] = await s.emulator.waitForMessages(TOKEN, MARCO.id, 1, 10_000);
    expect(queue!.text!.split('\n')[0]).toBe(it_('staff.queueHeader', { count: 1 }));
    expect(buttons(queue!)).toEqual([
      { text: it_('staff.assignButton', { family }), data: `staff:assign:${family}` },
      { text: it_('staff.menuButton'), data: 'staff:menu' },
    ]);

    s.emulator.userPresses(TOKEN, MARCO.id, queue!.message_id, `staff:assign:${family}`);
    const pick = (await s.emulator.waitForMessages(TOKEN, MARCO.id, 2, 10_000))[1]!;
    expect(pick.text).toBe(it_('staff.assignPick', { family }));
    expect(buttons(pick)[0]).toEqual({ text: it_('staff.tutorChoice', { tutor, name: 'Giulia Bianchi', families: 0 }), data: `staff:assign:${family}:${tutor}` });

    s.emulator.userPresses(TOKEN, MARCO.id, pick.message_id, `staff:assign:${family}:${tutor}`);
    const done = (await s.emulator.waitForMessages(TOKEN, MARCO.id, 3, 10_000))[2]!;
    expect(done.text).toBe([it_('staff.assigned', { family, name: 'Giulia Bianchi' }), it_('staff.needsMoved', { needs: 1 })].join('\n'));
    // a short confirmation: the next useful step and Menu, not the eight-button staff menu
    expect(buttons(done).map((b) => b.data)).toEqual(['staff:queue', 'staff:menu']);

    const notice = (await s.emulator.waitForMessages(TOKEN, GIULIA.id, 2, 10_000))[1]!;
    expect(notice.text).toContain(n);
    expect(buttons(notice).map((b) => b.data)).toEqual([`need:take:${need!.ref}`, `need:reply:${need!.ref}`]);
    s.emulator.userPresses(TOKEN, GIULIA.id, notice.message_id, `need:take:${need!.ref}`);
    const taken = (await s.emulator.waitForMessages(TOKEN, GIULIA.id, 3, 10_000))[2]!;
    expect(taken.text).toBe(it_('staff.needTaken', { need: n }));
    expect(await s.t.sql.query(`select n.status, s.full_name from public.needs n join public.staff s on s.id = n.taken_by`)).toEqual([{ status: 'in_charge', full_name: 'Giulia Bianchi' }]);
  });
});
