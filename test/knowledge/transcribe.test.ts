import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { serveFetch, type ServedHandler } from '../../bot/http/node-adapter';
import { createLogger } from '../../bot/logger';
import type { MediaSource } from '../../bot/channels/media-source';
import { openAiTranscriber } from '../../bot/knowledge/transcribe';

const VOICE = new Uint8Array(Buffer.from('OggS fake opus voice note'));
const source: MediaSource = {
  probe: async () => ({}),
  open: async () => ({ body: new Response(VOICE).body!, contentType: 'audio/ogg', size: VOICE.length }),
};
const note = { kind: 'voice', ref: 'file-1', channel: 'telegram' as const, contentType: 'audio/ogg' };

/** An OpenAI-compatible /v1/audio/transcriptions: what it received, and how it answers. */
async function whisper(answer: (form: FormData) => Promise<Response>) {
  const seen: { auth: string | null; form: FormData }[] = [];
  const served = await serveFetch(async (req) => {
    if (new URL(req.url).pathname !== '/v1/audio/transcriptions' || req.method !== 'POST') return new Response('no', { status: 404 });
    const form = await req.formData();
    seen.push({ auth: req.headers.get('authorization'), form });
    return answer(form);
  });
  return { served, seen };
}

describe('voice notes transcribed through an OpenAI-compatible endpoint', () => {
  let server: ServedHandler | undefined;
  afterEach(async () => server?.close());
  const logs: string[] = [];
  const logger = createLogger('debug', new Writable({ write(c, _e, done) { logs.push(String(c)); done(); } }));

  it('sends the audio with her language as the hint and returns the words', async () => {
    const w = await whisper(async () => Response.json({ text: ' Bonjour, mon fils a de la fièvre. ' }));
    server = w.served;
    const t = openAiTranscriber({ url: server.url, apiKey: 'sk-local', model: 'whisper-1', timeoutMs: 2000, source, logger });
    expect(await t.transcribe(note, 'fr')).toBe('Bonjour, mon fils a de la fièvre.');
    const { auth, form } = w.seen[0]!;
    expect(auth).toBe('Bearer sk-local');
    expect(form.get('language')).toBe('fr');
    expect(form.get('model')).toBe('whisper-1');
    const file = form.get('file') as File;
    expect(file.name).toBe('voice.ogg');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(Buffer.from(VOICE));
    // her words are never logged
    expect(logs.join('')).not.toContain('fièvre');
  });

  it.each([
    { what: 'the server fails', answer: async () => new Response('model not loaded', { status: 503 }), timeoutMs: 2000 },
    { what: 'the answer is not JSON', answer: async () => new Response('<html>', { status: 200 }), timeoutMs: 2000 },
    { what: 'the server is slower than the time-out', answer: async () => { await new Promise((r) => setTimeout(r, 1500)); return Response.json({ text: 'late' }); }, timeoutMs: 300 },
  ])('gives no transcript, without throwing and without waiting past the time-out, when $what', async ({ answer, timeoutMs }) => {
    const w = await whisper(answer);
    server = w.served;
    const t = openAiTranscriber({ url: server.url, model: 'whisper-1', timeoutMs, source, logger });
    const started = Date.now();
    expect(await t.transcribe(note, 'ar')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(timeoutMs + 500);
  });

  it('is not asked about photos, or about files larger than the API takes', async () => {
    const w = await whisper(async () => Response.json({ text: 'x' }));
    server = w.served;
    const t = openAiTranscriber({ url: server.url, model: 'whisper-1', timeoutMs: 2000, source, logger, maxBytes: 10 });
    expect(await t.transcribe({ ...note, kind: 'photo' }, 'fr')).toBeUndefined();
    expect(await t.transcribe({ ...note, size: 11 }, 'fr')).toBeUndefined();
    expect(w.seen).toEqual([]);
  });
});
