import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pgliteDb, type TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';

const NOW = '2026-11-23T10:00:00Z';
const TEXTS = { too_large: 'too big for her', unsupported: 'wrong kind for her', unreachable: 'could not get it' };
const NOTES = { too_large: 'note: too big', unsupported: 'note: wrong kind', unreachable: 'note: not fetched' };

/** A file from her to her tutor, being sent: an outbox row with what she reads if it fails for good. */
async function fileOnItsWay(t: TestDb) {
  const fam = await familyWithChild(t, { providerId: '+393330000001', channel: 'whatsapp', language: 'fr', birth: '2026-05-01' });
  const tutor = await tutorFor(t, fam.family_id, '2001');
  const [need] = await t.sql.query<{ id: string }>(`insert into public.needs (ref, family_id, kind, category, urgency, source, language, created_at, updated_at)
    values (public.need_ref_next(), $1, 'need', 'other', 'normal', 'text', 'fr', $2, $2) returning id`, [fam.family_id, NOW]);
  const payload = { text: 'N-1 · Altro · F-1', media: { id: '6f1c0f4e-7a43-4a55-9d0e-1b9a2c3d4e5f', kind: 'voice', channel: 'whatsapp', ref: 'https://api.twilio.com/x' },
    failure: { contact_id: fam.contact_id, texts: TEXTS, need_id: need!.id, notes: NOTES } };
  const [row] = await t.sql.query<{ id: string }>(`insert into public.outbox (idempotency_key, contact_id, channel, kind, payload, status, claimed_by, lease_until, attempts)
    values ('k1', $1, 'telegram', 'media', $2, 'sending', 'w1', $3::timestamptz + interval '1 minute', 1) returning id`, [tutor, payload, NOW]);
  return { fam, tutor, need: need!.id, row: Number(row!.id) };
}

const told = (t: TestDb) => t.sql.query<{ text: string; contact_id: string }>(`select payload ->> 'text' as text, contact_id from public.outbox where kind = 'media_failed'`);
const notes = (t: TestDb) => t.sql.query<{ body: string }>(`select body from public.need_messages where author = 'note'`);

describe('a file that cannot be delivered', () => {
  let t: TestDb;
  beforeEach(async () => { t = await pgliteDb(); });
  afterEach(() => t.close());

  it.each([
    ['media too_large: 17825792 bytes', 'too_large'],
    ['media unsupported: application/zip', 'unsupported'],
    ['gave up after 12 attempts: media unreachable: download 503', 'unreachable'],
  ] as const)('is told to its sender in her words and noted on the request (%s)', async (error, problem) => {
    const f = await fileOnItsWay(t);
    await t.sql.query(`select public.outbox_record($1, 'w1', 'permanent', null, $2, null, $3)`, [f.row, error, NOW]);
    expect(await told(t)).toEqual([{ text: TEXTS[problem], contact_id: f.fam.contact_id }]);
    expect(await notes(t)).toEqual([{ body: NOTES[problem] }]);
  });

  it('is not told twice when the outcome is recorded again', async () => {
    const f = await fileOnItsWay(t);
    await t.sql.query(`select public.outbox_record($1, 'w1', 'permanent', null, 'media too_large', null, $2)`, [f.row, NOW]);
    await t.sql.query(`select public.outbox_media_failed(o, 'media too_large', $2) from public.outbox o where id = $1`, [f.row, NOW]);
    expect(await told(t)).toHaveLength(1);
  });

  it("a file Twilio could not fetch from our link is tried again with a new one; one WhatsApp refuses is told", async () => {
    const f = await fileOnItsWay(t);
    await t.sql.query(`select public.outbox_record($1, 'w1', 'sent', 'MM${'a'.repeat(32)}', null, null, $2)`, [f.row, NOW]);
    await t.sql.query(`select public.outbox_delivery_update($1, 'failed', '63019', $2)`, [`MM${'a'.repeat(32)}`, NOW]);
    const [retry] = await t.sql.query<{ status: string; not_before: string }>(`select status, not_before::text from public.outbox where id = $1`, [f.row]);
    expect(retry!.status).toBe('pending');
    expect(await told(t)).toEqual([]);
    // sent again, and this time WhatsApp says the file is too large
    await t.sql.query(`update public.outbox set status = 'sent', provider_message_id = $2 where id = $1`, [f.row, `MM${'b'.repeat(32)}`]);
    await t.sql.query(`select public.outbox_delivery_update($1, 'failed', '11751', $2)`, [`MM${'b'.repeat(32)}`, NOW]);
    expect(await told(t)).toEqual([{ text: TEXTS.too_large, contact_id: f.fam.contact_id }]);
  });
});

describe('a media link', () => {
  let t: TestDb;
  beforeEach(async () => { t = await pgliteDb(); });
  afterEach(() => t.close());

  it('opens once, only for the file its row carries', async () => {
    const f = await fileOnItsWay(t);
    const open = (media: string, nonce: string) => t.sql.query<{ f: unknown }>(`select public.media_open($1, $2, $3, $4) as f`, [f.row, media, nonce, NOW]).then((r) => r[0]!.f);
    expect(await open('6f1c0f4e-7a43-4a55-9d0e-1b9a2c3d4e5f', 'n1')).toMatchObject({ channel: 'whatsapp', ref: 'https://api.twilio.com/x', kind: 'voice' });
    expect(await open('6f1c0f4e-7a43-4a55-9d0e-1b9a2c3d4e5f', 'n1')).toBeNull();
    expect(await open('00000000-0000-0000-0000-000000000000', 'n2')).toBeNull();
  });
});
