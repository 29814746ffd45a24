/** `npm run bench -- media`: files relayed between the channels, through the emulators. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMediaSource } from '../../bot/channels/media-source';
import { mediaSigner } from '../../bot/channels/media-token';
import { systemClock } from '../../bot/clock';
import { serveFetch } from '../../bot/http/node-adapter';
import { oggVoiceBytes } from '../../bot/local/telegram-emulator';
import { createLogger } from '../../bot/logger';
import { mediaHandler } from '../../functions/media';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { loadConfig } from '../../bot/config';
import { openDataDoor } from '../../bot/db/client';
import type { TestDb } from '../support/door';
import { familyWithChild, tutorFor } from '../support/families';
import { TOKEN, twoChannelStack, until } from '../support/two-channel-stack';

/** The embedded database in a fresh folder, shaped as the tests' database. */
async function embedded(): Promise<TestDb> {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-media-'));
  const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
  return { db: door.supabase, sql: door.executor!, close: async () => { await door.close(); await rm(dataDir, { recursive: true, force: true }); } };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const MOTHER = '+33612345678';
const TUTOR = { id: 2001, firstName: 'Giulia', languageCode: 'it' };

/** Her message on WhatsApp → her tutor's Telegram chat, n times: a text (the baseline) and a voice note, with and without transcription. */
async function relayTimes(n: number, transcribe: boolean): Promise<{ text: number[]; voice: number[] }> {
  const whisper = transcribe ? await serveFetch(async (req) => { await req.formData(); return Response.json({ text: 'Mon fils tousse depuis hier' }); }) : undefined;
  const t = await embedded();
  const s = await twoChannelStack(t, { env: whisper ? { TRANSCRIBE_URL: whisper.url } : {} });
  try {
    const fam = await familyWithChild(t, { providerId: MOTHER, channel: 'whatsapp', language: 'fr', birth: '2026-05-10' });
    await tutorFor(t, fam.family_id, String(TUTOR.id));
    s.telegram.userSends(TOKEN, TUTOR, '/needs');
    await s.telegram.waitForMessages(TOKEN, TUTOR.id, 1, 10_000);
    const chat = () => s.telegram.chat(TOKEN, TUTOR.id);
    const text: number[] = [];
    const voice: number[] = [];
    for (let i = 0; i < n; i++) {
      // each opens a request of its own: her words (a photo of a letter with a line) and her voice
      // a fresh second for her tutor's chat (Telegram: about one message a second per chat)
      await new Promise((r) => setTimeout(r, 1100));
      const before = chat().filter((m) => m.voice).length;
      let t0 = performance.now();
      await s.twilio.userSends(MOTHER, { media: [{ contentType: 'audio/ogg', bytes: oggVoiceBytes() }] });
      await until(() => chat().filter((m) => m.voice).length > before, 20_000);
      voice.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 1100));
      const alerts = chat().filter((m) => m.text?.includes('F-')).length;
      t0 = performance.now();
      await s.twilio.userSends(MOTHER, { body: `la crèche, question ${i}` });
      await until(() => chat().filter((m) => m.text?.includes('F-')).length > alerts, 20_000);
      text.push(performance.now() - t0);
    }
    return { text: text.sort((a, b) => a - b), voice: voice.sort((a, b) => a - b) };
  } finally {
    await s.close();
    await t.close();
    await whisper?.close();
  }
}

/**
 * What the media route holds while it relays a file: a Twilio-like origin generates it on the fly, our route
 * streams it to a reader that pauses at each megabyte. The most bytes the origin had handed over that the reader
 * had not yet received is an upper bound on what the relay held (loopback socket buffers included); a relay that
 * buffered the file would reach the file's size.
 */
async function relayMemory(sizeMb: number): Promise<{ peakMb: number; seconds: number }> {
  const size = sizeMb * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  const origin = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(size) });
    const more = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const t = await embedded();
  const [row] = await t.sql.query<{ id: string }>(`with f as (insert into public.families (district_code) values ('milano-5') returning id),
      c as (insert into public.contacts (channel, provider_id, language, consent, family_id) select 'whatsapp', '+39333', 'it', 'given', f.id from f returning id)
    insert into public.outbox (idempotency_key, contact_id, channel, kind, payload, status) select 'm', c.id, 'whatsapp', 'media', $1, 'sent' from c returning id`,
  [{ text: '', media: { id: 'm1', kind: 'document', channel: 'whatsapp', ref: `${base}/2010-04-01/Accounts/AC/Messages/MM/Media/ME` } }]);
  const signer = mediaSigner('bench-secret-0123456789');
  const source = createMediaSource({ twilio: { accountSid: `AC${'1'.repeat(32)}`, authToken: 'x'.repeat(32), apiBase: base } });
  const server = await serveFetch(mediaHandler({ db: t.db, clock: systemClock, logger: createLogger('silent'), signer, source }));
  try {
    let peak = 0;
    const t0 = performance.now();
    const res = await fetch(`${server.url}/media/${signer.sign({ outboxId: Number(row!.id), mediaId: 'm1', expiresAt: Date.now() + 60_000 })}`);
    let got = 0;
    let nextMb = 1024 * 1024;
    for await (const part of res.body! as NodeWebStream<Uint8Array>) {
      got += part.length;
      if (got >= nextMb) {
        nextMb += 1024 * 1024;
        await new Promise((r) => setTimeout(r, 50));
        peak = Math.max(peak, sent - got);
      }
    }
    if (got !== size) throw new Error(`relayed ${got} of ${size} bytes`);
    return { peakMb: peak / 1024 / 1024, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await server.close();
    origin.close();
    await t.close();
  }
}

export async function benchMedia(n = Number(process.env.BENCH_MEDIA ?? 30)) {
  for (const transcribe of [false, true]) {
    const { text, voice } = await relayTimes(n, transcribe);
    const p = (xs: number[], q: number) => quantile(xs, q).toFixed(0);
    console.log(`media: WhatsApp voice note → Telegram tutor${transcribe ? ', transcription on (local stub)' : ''}: p50 ${p(voice, 0.5)} ms, p99 ${p(voice, 0.99)} ms; her text alert in the same run p50 ${p(text, 0.5)} ms, p99 ${p(text, 0.99)} ms (voice/text p50 ×${(quantile(voice, 0.5) / quantile(text, 0.5)).toFixed(2)}, n=${n})`);
  }
  for (const mb of [15, 45]) {
    const mem = await relayMemory(mb);
    console.log(`media: relaying a ${mb} MB file through /media/<token>: at most ${mem.peakMb.toFixed(1)} MB in flight between the origin and a reader pausing 50 ms at each MB, ${mem.seconds.toFixed(2)} s (origin, route and reader all in this process)`);
  }
}
