import { afterEach, describe, expect, it } from 'vitest';
import { mediaSigner } from '../../bot/channels/media-token';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTranslator } from '../../bot/i18n';
import { oggVoiceBytes, type SentMessage } from '../../bot/local/telegram-emulator';
import { loadConfig } from '../../bot/config';
import { createLogger } from '../../bot/logger';
import { mediaPurge } from '../../functions/jobs/media-purge';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';
import { TOKEN, twoChannelStack, until, WA, type TwoChannelStack } from '../support/two-channel-stack';

const MOTHER = '+33612345678';
const TUTOR = { id: 2001, firstName: 'Giulia', languageCode: 'it' };
const it_ = createTranslator().t('it');
const fr = createTranslator().t('fr');
const MB = 1024 * 1024;

/** A tiny valid PNG (1×1), and a PDF-looking file of any size. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const pdf = (size: number) => { const b = Buffer.alloc(size, 0x20); b.write('%PDF-1.4\n'); return new Uint8Array(b); };

describe('files travel between a mother and her tutor, across channels', () => {
  let t: TestDb;
  let s: TwoChannelStack;
  afterEach(async () => {
    await s?.close();
    await t?.close();
  });

  async function setUp(env?: Record<string, string>) {
    t = await pgliteDb();
    s = await twoChannelStack(t, { env });
    const fam = await familyWithChild(t, { providerId: MOTHER, channel: 'whatsapp', language: 'fr', birth: '2026-05-10', name: 'Ines' });
    await tutorFor(t, fam.family_id, String(TUTOR.id));
    // the tutor's chat with the bot exists once she has written to it
    s.telegram.userSends(TOKEN, TUTOR, '/needs');
    await s.telegram.waitForMessages(TOKEN, TUTOR.id, 1, 10_000);
    return fam;
  }
  const tutorChat = () => s.telegram.chat(TOKEN, TUTOR.id);
  const toMother = () => s.twilio.messagesTo(MOTHER);
  /** She sends a photo of a letter with a word: a request opens, and her tutor has it. */
  const openRequest = async () => {
    await s.twilio.userSends(MOTHER, { body: 'la lettre de la mairie', media: [{ contentType: 'image/png', bytes: PNG }] });
    return until(() => tutorChat().find((m) => m.photo));
  };
  const needRef = async () => Number((await t.sql.query<{ ref: string }>('select ref::text as ref from public.needs'))[0]!.ref);

  it("a WhatsApp mother's voice note reaches her Telegram tutor as a voice message, under the request's line", async () => {
    await setUp();
    const voice = oggVoiceBytes();
    await s.twilio.userSends(MOTHER, { media: [{ contentType: 'audio/ogg', bytes: voice }] });
    const got = await until(() => tutorChat().find((m) => m.voice));
    const ref = await needRef();
    expect(got.caption).toBe(`N-${ref} · ${it_('needs.category.other')} · F-${(await t.sql.query<{ ref: string }>('select ref::text as ref from public.families'))[0]!.ref}`);
    expect(Buffer.from(s.telegram.file(TOKEN, got.voice!.file_id)!.bytes)).toEqual(Buffer.from(voice));
    // the alert before it says a voice message follows
    expect(tutorChat().some((m) => m.text?.includes(it_('staff.needMediaFollows', { kind: it_('staff.mediaKind.voice') })))).toBe(true);
    // and she is told her tutor can listen to it
    await until(() => toMother().some((m) => m.body.includes(fr('media.voice'))));
  });

  it.each([
    { what: 'on', delayMs: 0, status: 200, timeout: '4000', heard: true },
    { what: 'failing', delayMs: 0, status: 500, timeout: '4000', heard: false },
    { what: 'slower than its time-out', delayMs: 3000, status: 200, timeout: '500', heard: false },
  ])('with transcription $what, the voice note arrives, with her words only when they came in time', async ({ delayMs, status, timeout, heard }) => {
    const whisper = await serveFetch(async (req) => {
      const form = await req.formData();
      await new Promise((r) => setTimeout(r, delayMs));
      return status === 200 ? Response.json({ text: `Mon fils tousse (${String(form.get('language'))})` }) : new Response('down', { status });
    });
    try {
      await setUp({ TRANSCRIBE_URL: whisper.url, TRANSCRIBE_TIMEOUT_MS: timeout });
      const started = Date.now();
      await s.twilio.userSends(MOTHER, { media: [{ contentType: 'audio/ogg', bytes: oggVoiceBytes() }] });
      await until(() => tutorChat().find((m) => m.voice));
      const alert = tutorChat().find((m) => m.text?.includes(it_('staff.needMediaFollows', { kind: it_('staff.mediaKind.voice') })))!;
      expect(alert.text!.includes('Mon fils tousse (fr)')).toBe(heard);
      if (delayMs) expect(Date.now() - started).toBeLessThan(delayMs);
    } finally {
      await whisper.close();
    }
  });

  it("a Telegram tutor's voice reply reaches the WhatsApp mother through the media link, once", async () => {
    await setUp();
    await openRequest();
    const ref = await needRef();
    s.telegram.userSends(TOKEN, TUTOR, `/reply N-${ref}`);
    await until(() => tutorChat().at(-1)?.text?.startsWith(it_('staff.replyPrompt', { need: `N-${ref}`, family: 'F' }).slice(0, 20)));
    const voice = oggVoiceBytes();
    s.telegram.userSendsMedia(TOKEN, TUTOR, { kind: 'voice', bytes: voice, mimeType: 'audio/ogg', duration: 4 });
    const sent = await until(() => toMother().find((m) => m.media.length > 0 && m.status !== 'queued'));
    expect(sent.status).not.toBe('failed');
    expect(sent.media[0]!.contentType).toMatch(/^audio\/ogg/);
    expect(Buffer.from(s.twilio.mediaContent(sent.media[0]!.sid)!)).toEqual(Buffer.from(voice));
    expect(sent.body).toBe(fr('needs.fromTutorFile', { tutor: 'Giulia' }));
    // Twilio fetched our own link, never a provider URL
    expect(sent.mediaUrls[0]).toMatch(new RegExp(`^${s.url}/media/[\\w-]+\\.[\\w-]+$`));
    // that link opened once: a second fetch is refused
    expect((await fetch(sent.mediaUrls[0]!)).status).toBe(404);
    // the thread keeps the tutor's file
    const [reply] = await t.sql.query<{ n: number }>(`select jsonb_array_length(media)::int as n from public.need_messages where author = 'staff'`);
    expect(reply!.n).toBe(1);
  });

  it('a photo from her and a PDF from her tutor both arrive as themselves', async () => {
    await setUp();
    const photo = await openRequest();
    const largest = photo.photo!.at(-1)!;
    expect(Buffer.from(s.telegram.file(TOKEN, largest.file_id)!.bytes)).toEqual(PNG);
    const ref = await needRef();
    s.telegram.userSends(TOKEN, TUTOR, `/reply N-${ref}`);
    await until(() => tutorChat().at(-1)?.text?.startsWith(it_('staff.replyPrompt', { need: `N-${ref}`, family: 'F' }).slice(0, 20)));
    const form = pdf(200 * 1024);
    s.telegram.userSendsMedia(TOKEN, TUTOR, { kind: 'document', bytes: form, mimeType: 'application/pdf', fileName: 'modulo-nido.pdf', caption: 'Ecco il modulo compilato' });
    const sent = await until(() => toMother().find((m) => m.media.length > 0 && m.status !== 'queued'));
    expect(sent.media[0]).toMatchObject({ contentType: 'application/pdf', size: form.length });
    expect(Buffer.from(s.twilio.mediaContent(sent.media[0]!.sid)!)).toEqual(Buffer.from(form));
    // her tutor's words came too
    await until(() => toMother().some((m) => m.body.includes('Ecco il modulo compilato')));
  });

  it.each([
    { what: 'a 17 MB file', bytes: () => pdf(17 * MB), mimeType: 'application/pdf', fileName: 'scan.pdf', says: (t_: typeof it_) => t_('media.failed.too_large', { kind: t_('media.kind.document'), limit: 16 }), note: 'staff.mediaNote.too_large' },
    { what: 'an unsupported type', bytes: () => new Uint8Array(Buffer.from('PK\x03\x04 zip')), mimeType: 'application/zip', fileName: 'docs.zip', says: (t_: typeof it_) => t_('media.failed.unsupported', { kind: t_('media.kind.document') }), note: 'staff.mediaNote.unsupported' },
  ])('$what from the tutor gets a clear answer, and the request keeps a note', async ({ bytes, mimeType, fileName, says, note }) => {
    await setUp();
    await openRequest();
    const ref = await needRef();
    s.telegram.userSends(TOKEN, TUTOR, `/reply N-${ref}`);
    await until(() => tutorChat().at(-1)?.text?.startsWith(it_('staff.replyPrompt', { need: `N-${ref}`, family: 'F' }).slice(0, 20)));
    s.telegram.userSendsMedia(TOKEN, TUTOR, { kind: 'document', bytes: bytes(), mimeType, fileName });
    await until(() => tutorChat().some((m) => m.text?.includes(says(it_))));
    const notes = await t.sql.query<{ body: string }>(`select body from public.need_messages where author = 'note'`);
    expect(notes.map((n) => n.body)).toEqual([it_(note, { kind: it_('media.kind.document'), limit: 16 })]);
    // nothing was queued for her: no file, no half-message
    await new Promise((r) => setTimeout(r, 300));
    expect(toMother().filter((m) => m.media.length > 0 || m.status === 'failed')).toEqual([]);
  });

  it("the reverse: a Telegram mother's voice note reaches her WhatsApp tutor through the media link", async () => {
    t = await pgliteDb();
    s = await twoChannelStack(t);
    const mother = { id: 7001, firstName: 'Amina', languageCode: 'ar' };
    const fam = await familyWithChild(t, { providerId: String(mother.id), channel: 'telegram', language: 'ar', birth: '2026-05-10' });
    const TUTOR_WA = '+393401112233';
    await t.sql.query(`with st as (insert into public.staff (role, full_name) values ('tutor', 'Marta Verdi') returning id),
        a as (insert into public.family_assignments (family_id, tutor_id, assigned_at) select $1, st.id, '2026-11-23T08:00:00Z' from st)
      insert into public.contacts (channel, provider_id, language, language_confirmed, consent, staff_id, last_inbound_at)
      select 'whatsapp', $2, 'it', true, 'given', st.id, '2026-11-23T08:30:00Z' from st`, [fam.family_id, TUTOR_WA]);
    // the tutor wrote to the bot today: WhatsApp's 24-hour window is open
    await s.twilio.userSends(TUTOR_WA, { body: 'menu' });
    await until(() => s.twilio.messagesTo(TUTOR_WA).length > 0);
    const voice = oggVoiceBytes();
    s.telegram.userSendsMedia(TOKEN, mother, { kind: 'voice', bytes: voice, mimeType: 'audio/ogg', duration: 5 });
    const got = await until(() => s.twilio.messagesTo(TUTOR_WA).find((m) => m.media.length > 0 && m.status !== 'queued'));
    expect(got.status).not.toBe('failed');
    expect(Buffer.from(s.twilio.mediaContent(got.media[0]!.sid)!)).toEqual(Buffer.from(voice));
    expect(got.body).toMatch(/^N-\d+ · .+ · F-\d+$/);
    expect(got.mediaUrls[0]).toMatch(new RegExp(`^${s.url}/media/`));
  });

  it('a request handed to a colleague takes her last files with it', async () => {
    await setUp();
    const [colleague] = await t.sql.query<{ ref: string }>(`with st as (insert into public.staff (role, full_name) values ('tutor', 'Paola Neri') returning id, ref)
      , c as (insert into public.contacts (channel, provider_id, language, language_confirmed, consent, staff_id) select 'telegram', '2002', 'it', true, 'given', st.id from st)
      select ref::text from st`);
    const other = { id: 2002, firstName: 'Paola', languageCode: 'it' };
    s.telegram.userSends(TOKEN, other, '/needs');
    await s.telegram.waitForMessages(TOKEN, other.id, 1, 10_000);
    const photo = await openRequest();
    const ref = await needRef();
    s.telegram.userSends(TOKEN, TUTOR, `/hand N-${ref} T-${colleague!.ref}`);
    const handed = await until(() => s.telegram.chat(TOKEN, other.id).find((m) => m.photo));
    expect(handed.caption).toMatch(new RegExp(`^N-${ref} · `));
    expect(Buffer.from(s.telegram.file(TOKEN, handed.photo!.at(-1)!.file_id)!.bytes)).toEqual(Buffer.from(s.telegram.file(TOKEN, photo.photo!.at(-1)!.file_id)!.bytes));
    expect(s.telegram.chat(TOKEN, other.id).some((m) => m.text?.includes(it_('staff.handedBy', { name: 'Giulia Bianchi' })))).toBe(true);
  });

  it('the media link: only a valid, unexpired, unaltered token for its own row streams, and no secret is ever shown or logged', async () => {
    await setUp();
    await openRequest();
    const ref = await needRef();
    s.telegram.userSends(TOKEN, TUTOR, `/reply N-${ref}`);
    await until(() => tutorChat().at(-1)?.text?.startsWith(it_('staff.replyPrompt', { need: `N-${ref}`, family: 'F' }).slice(0, 20)));
    const voice = oggVoiceBytes();
    s.telegram.userSendsMedia(TOKEN, TUTOR, { kind: 'voice', bytes: voice, mimeType: 'audio/ogg', duration: 2 });
    await until(() => toMother().find((m) => m.media.length > 0 && m.status !== 'queued'));
    const [row] = await t.sql.query<{ id: string; media_id: string }>(`select id::text, payload -> 'media' ->> 'id' as media_id from public.outbox where kind = 'media' and channel = 'whatsapp'`);
    const [other] = await t.sql.query<{ id: string }>(`select id::text from public.outbox where kind <> 'media' and status = 'sent' limit 1`);
    const signer = mediaSigner(WA.authToken);
    const now = s.clock.now().getTime();
    const link = (token: string) => fetch(`${s.url}/media/${token}`);
    const valid = signer.sign({ outboxId: Number(row!.id), mediaId: row!.media_id, expiresAt: now + 60_000 });

    const first = await link(valid);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer())).toEqual(Buffer.from(voice));
    expect((await link(valid)).status).toBe(404);

    const refused = [
      ['expired', signer.sign({ outboxId: Number(row!.id), mediaId: row!.media_id, expiresAt: now - 1 })],
      ['altered', (() => { const f = signer.sign({ outboxId: Number(row!.id), mediaId: row!.media_id, expiresAt: now + 60_000 }); return f.slice(0, -2) + (f.endsWith('AA') ? 'BB' : 'AA'); })()],
      ['another row', signer.sign({ outboxId: Number(other!.id), mediaId: row!.media_id, expiresAt: now + 60_000 })],
      ['another secret', mediaSigner('not-the-auth-token-0000000000').sign({ outboxId: Number(row!.id), mediaId: row!.media_id, expiresAt: now + 60_000 })],
      ['garbage', 'abc.def'],
    ] as const;
    for (const [, token] of refused) expect((await link(token)).status).toBe(404);
    // a token that was valid expires with the clock, minutes later
    const later = signer.sign({ outboxId: Number(row!.id), mediaId: row!.media_id, expiresAt: now + 5 * 60_000 });
    s.clock.advance(6 * 60_000);
    expect((await link(later)).status).toBe(404);

    const shown = JSON.stringify([tutorChat(), toMother(), s.logs]);
    for (const secret of [TOKEN, WA.authToken, '/file/bot', Buffer.from(`${WA.accountSid}:${WA.authToken}`).toString('base64')]) expect(shown).not.toContain(secret);
  });

  it('erasing her deletes the references and asks Twilio to delete the media of her messages', async () => {
    const fam = await setUp();
    await openRequest();
    const ref = await needRef();
    s.telegram.userSends(TOKEN, TUTOR, `/reply N-${ref}`);
    await until(() => tutorChat().at(-1)?.text?.startsWith(it_('staff.replyPrompt', { need: `N-${ref}`, family: 'F' }).slice(0, 20)));
    s.telegram.userSendsMedia(TOKEN, TUTOR, { kind: 'document', bytes: pdf(1024), mimeType: 'application/pdf', fileName: 'a.pdf' });
    const toHer = await until(() => toMother().find((m) => m.media.length > 0 && m.status !== 'queued'));
    const [inbound] = await t.sql.query<{ ref: string }>('select ref from public.media_refs');
    const herMedia = /\/Media\/(ME\w+)/.exec(inbound!.ref)![1]!;
    expect(s.twilio.mediaContent(herMedia)).toBeDefined();

    // her erasure, as the privacy flow applies it
    await t.sql.query('select public.privacy_erase($1, $2, $3)', [fam.contact_id, fam.family_id, s.clock.now().toISOString()]);
    // her references are gone (the tutor's own file stays hers to keep; its copy at Twilio, sent to her, goes below)
    expect(await t.sql.query('select 1 from public.media_refs where contact_id = $1', [fam.contact_id])).toEqual([]);
    expect(await t.sql.query(`select 1 from public.need_messages`)).toEqual([]);
    const config = loadConfig({});
    const summary = await mediaPurge.run({ db: t.db, logger: createLogger('silent'), config, i18n: createTranslator(), eraseMedia: (target) => s.runtime.whatsapp!.eraseMedia(target) }, s.clock.now());
    expect(summary).toEqual({ deleted: 2, failed: 0 });
    expect(s.twilio.mediaContent(herMedia)).toBeUndefined();
    expect(s.twilio.mediaContent(toHer.media[0]!.sid)).toBeUndefined();
    expect(await t.sql.query('select target, attempts, error from public.media_purge')).toEqual([]);
  });
});

export type { SentMessage };
