/**
 * Speech to text for a voice note, through an OpenAI-compatible API (`POST <url>/v1/audio/transcriptions`,
 * multipart: file, model, language, response_format=json → {text}), the API self-hosted Whisper servers speak.
 * Optional and never in the way: off, slow past its time-out, or failing, the voice note goes without words.
 */
import type { Logger } from '../logger';
import type { MediaSource } from '../channels/media-source';

/** What a transcriber needs of a file: its kind, where it is, and what is known of it. */
export interface VoiceNote {
  kind: string;
  ref: string;
  channel?: 'telegram' | 'whatsapp';
  contentType?: string;
  size?: number;
}

export interface Transcriber {
  /** Her words, or undefined for "no transcript"; never throws. */
  transcribe(media: VoiceNote, language: string): Promise<string | undefined>;
}

export interface TranscriberOptions {
  url: string;
  apiKey?: string;
  model: string;
  /** download and transcription together; past this the note goes without a transcript */
  timeoutMs: number;
  source: MediaSource;
  logger: Logger;
  /** the OpenAI API's own file limit */
  maxBytes?: number;
}

const EXTENSION: Record<string, string> = { 'audio/ogg': 'ogg', 'audio/mpeg': 'mp3', 'audio/mp4': 'm4a', 'audio/aac': 'aac', 'audio/amr': 'amr', 'audio/webm': 'webm', 'audio/wav': 'wav', 'audio/x-wav': 'wav' };

export function openAiTranscriber(opts: TranscriberOptions): Transcriber {
  const endpoint = `${opts.url.replace(/\/v1$/, '')}/v1/audio/transcriptions`;
  const maxBytes = opts.maxBytes ?? 25 * 1024 * 1024;
  return {
    async transcribe(media, language) {
      if (media.kind !== 'voice' || !media.channel || (media.size ?? 0) > maxBytes) return undefined;
      const started = Date.now();
      const signal = AbortSignal.timeout(opts.timeoutMs);
      try {
        const opened = await opts.source.open({ channel: media.channel, ref: media.ref }, signal);
        // the audio lives only in this request's memory, for as long as the transcription takes
        const audio = await new Response(opened.body).arrayBuffer();
        if (audio.byteLength > maxBytes) return undefined;
        const type = (opened.contentType ?? media.contentType ?? 'audio/ogg').split(';')[0]!.trim();
        const form = new FormData();
        form.append('file', new Blob([audio], { type }), `voice.${EXTENSION[type] ?? 'ogg'}`);
        form.append('model', opts.model);
        form.append('language', language);
        form.append('response_format', 'json');
        const res = await fetch(endpoint, { method: 'POST', body: form, headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}, signal });
        if (!res.ok) {
          await res.body?.cancel();
          opts.logger.warn({ status: res.status, language }, 'transcription refused');
          return undefined;
        }
        const body = (await res.json()) as { text?: unknown };
        const text = typeof body.text === 'string' ? body.text.trim() : '';
        opts.logger.debug({ language, ms: Date.now() - started, chars: text.length }, 'voice note transcribed');
        return text || undefined;
      } catch (err) {
        opts.logger.warn({ language, error: (err as Error).name, ms: Date.now() - started }, 'transcription skipped');
        return undefined;
      }
    },
  };
}
