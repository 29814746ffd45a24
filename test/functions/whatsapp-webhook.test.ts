import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTranslator } from '../../bot/i18n';
import { pgliteDb, type TestDb } from '../support/door';
import { WA, whatsappStack } from '../support/whatsapp-stack';

const i18n = createTranslator();
const MOTHER = '+393331234567';

describe('WhatsApp through Twilio, both directions', () => {
  let t: TestDb;
  let s: Awaited<ReturnType<typeof whatsappStack>>;
  beforeEach(async () => {
    t = await pgliteDb();
    s = await whatsappStack(t);
  });
  afterEach(async () => {
    await s.close();
    await t.close();
  });

  const count = async (table: string) => ((await t.sql.query<{ n: number }>(`select count(*)::int as n from public.${table}`))[0]!.n);

  it('greets her with numbered languages, maps "2" or a label back, and records delivery and reading', async () => {
    const sent = await s.emulator.userSends(MOTHER, { body: 'Ciao' });
    expect(sent.status).toBe(200);
    await s.flush();
    const greeting = s.emulator.messagesTo(MOTHER);
    expect(greeting.map((m) => m.body)[0]).toBe(i18n.t('it')('greeting.welcome'));
    expect(greeting[1]!.body).toContain('1. Italiano');
    expect(greeting[1]!.body).toContain(i18n.t('it')('common.replyWithNumber'));

    await s.emulator.userSends(MOTHER, { body: 'English' });
    await s.flush();
    expect(s.emulator.messagesTo(MOTHER)[2]!.body).toBe(i18n.t('en')('greeting.languageSet'));

    s.emulator.markRead(MOTHER);
    await s.emulator.settle();
    const rows = await t.sql.query<{ delivery_status: string }>(`select delivery_status from public.outbox order by id`);
    expect(rows.length).toBeGreaterThan(4);
    expect(rows.every((r) => r.delivery_status === 'read')).toBe(true);
  });

  it('takes a quick-reply payload as the choice', async () => {
    await s.emulator.userSends(MOTHER, { body: 'hello' });
    await s.emulator.userSends(MOTHER, { buttonPayload: 'lang:fr', buttonText: 'Français' });
    await s.flush();
    expect(s.emulator.messagesTo(MOTHER)[2]!.body).toBe(i18n.t('fr')('greeting.languageSet'));
  });

  it('keeps nothing she sends before consent, then a photo, a voice note and a document as references for the tutor', async () => {
    await s.emulator.userSends(MOTHER, { media: [{ contentType: 'image/jpeg' }] });
    await s.flush();
    expect(s.emulator.messagesTo(MOTHER).map((m) => m.body)[0]).toBe(i18n.t('it')('media.notYet'));
    expect(await count('media_refs')).toBe(0);
    await s.emulator.userSends(MOTHER, { body: 'Italiano' });
    await s.emulator.userSends(MOTHER, { body: '1' });
    await s.flush();
    const before = s.emulator.messagesTo(MOTHER).length;

    await s.emulator.userSends(MOTHER, { media: [{ contentType: 'image/jpeg' }] });
    await s.emulator.userSends(MOTHER, { media: [{ contentType: 'audio/ogg' }] });
    await s.emulator.userSends(MOTHER, { media: [{ contentType: 'application/pdf' }] });
    await s.flush();
    const refs = await t.sql.query<{ kind: string; ref: string }>('select kind, ref from public.media_refs order by received_at, kind');
    expect(refs.map((r) => r.kind).sort()).toEqual(['document', 'photo', 'voice']);
    expect(refs.every((r) => r.ref.includes('/Media/ME'))).toBe(true);
    // no tutor yet: the programme's team sees them, in one request the first file opened
    const said = s.emulator.messagesTo(MOTHER).slice(before).map((m) => m.body);
    expect(said.filter((b) => b.startsWith('Grazie'))).toEqual(['photo', 'voice', 'document'].map((k) => i18n.t('it')(`media.${k}`, { context: 'team' })));
    expect(await t.sql.query(`select jsonb_array_length(m.media)::int as files from public.needs n join public.need_messages m on m.need_id = n.id order by m.seq`)).toEqual([{ files: 1 }, { files: 1 }, { files: 1 }]);
    expect(await count('needs')).toBe(1);
  });

  it('refuses a forged post (bad signature, other URL, other token) with 403 and stores nothing', async () => {
    const params = { MessageSid: `SM${'f'.repeat(32)}`, AccountSid: WA.accountSid, From: `whatsapp:${MOTHER}`, To: WA.from, Body: 'hi', NumMedia: '0' };
    const noSig = await fetch(`${s.server.url}/whatsapp/webhook`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
    expect(noSig.status).toBe(403);
    expect((await s.signedPost('/whatsapp/webhook', params, 'https://elsewhere.example/whatsapp/webhook')).status).toBe(403);
    expect((await s.signedPost('/whatsapp/webhook', params, undefined, 'not-the-auth-token-0123456789')).status).toBe(403);
    expect((await s.signedPost('/whatsapp/status', { MessageSid: 'SMx', MessageStatus: 'failed', ErrorCode: '21610' }, 'https://elsewhere.example/whatsapp/status')).status).toBe(403);
    expect([await count('inbound_log'), await count('contacts'), await count('outbox')]).toEqual([0, 0, 0]);
  });

  it('processes the same MessageSid once', async () => {
    const params = { MessageSid: `SM${'e'.repeat(32)}`, AccountSid: WA.accountSid, From: `whatsapp:${MOTHER}`, To: WA.from, Body: 'hi', NumMedia: '0' };
    expect((await s.signedPost('/whatsapp/webhook', params)).status).toBe(200);
    expect((await s.signedPost('/whatsapp/webhook', params)).status).toBe(200);
    expect([await count('inbound_log'), await count('outbox')]).toEqual([1, 2]);
  });

  it('holds a business message outside the 24-hour window and sends it the moment she writes', async () => {
    await s.emulator.userSends(MOTHER, { body: 'Ciao' });
    await s.flush();
    s.clock.advance(25 * 3600_000);
    const [contact] = await t.sql.query<{ id: string }>('select id from public.contacts');
    await t.db.rpc('outbox_enqueue', { p_contact_id: contact!.id, p_idempotency_key: 'notice:1', p_kind: 'notice', p_priority: 5, p_payload: { text: 'The consultorio is open on Saturday.' }, p_not_before: s.clock.now().toISOString() });
    await s.flush();
    expect((await t.db.rpc('outbox_counts')).data).toMatchObject({ held: 1 });
    expect(s.emulator.messagesTo(MOTHER)).toHaveLength(2);

    await s.emulator.userSends(MOTHER, { body: 'Italiano' });
    await s.flush();
    const bodies = s.emulator.messagesTo(MOTHER).map((m) => [m.body, m.status]);
    expect(bodies).toContainEqual(['The consultorio is open on Saturday.', 'delivered']);
    expect((await t.db.rpc('outbox_counts')).data).toMatchObject({ held: 0, failed: 0 });
  });
});
