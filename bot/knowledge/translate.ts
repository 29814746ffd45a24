import type { Logger } from '../logger';

/** Machine translation between her language and her tutor's. Never throws: undefined means "no translation". */
export interface TranslationProvider {
  readonly name: string;
  translate(text: string, from: string, to: string): Promise<string | undefined>;
}

export interface LibreTranslateOptions {
  url: string;
  apiKey?: string;
  logger: Logger;
  /** a translation that takes longer is skipped: the message goes untranslated rather than late */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * A LibreTranslate-compatible API: POST <url>/translate with {q, source, target, format, api_key},
 * answer {translatedText}. Any failure (network, 4xx/5xx, timeout, a malformed answer) is logged without
 * the text and returns undefined, so the message still goes, untranslated.
 */
export function libreTranslate(opts: LibreTranslateOptions): TranslationProvider {
  const doFetch = opts.fetch ?? fetch;
  return {
    name: 'libretranslate',
    async translate(text, from, to) {
      if (!text.trim() || from === to) return undefined;
      try {
        const res = await doFetch(`${opts.url}/translate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ q: text, source: from, target: to, format: 'text', ...(opts.apiKey ? { api_key: opts.apiKey } : {}) }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 4_000),
        });
        if (!res.ok) {
          opts.logger.warn({ status: res.status, from, to }, 'translation refused');
          return undefined;
        }
        const body = (await res.json()) as { translatedText?: unknown };
        if (typeof body.translatedText !== 'string' || !body.translatedText.trim()) {
          opts.logger.warn({ from, to }, 'translation answer without text');
          return undefined;
        }
        return body.translatedText;
      } catch (err) {
        opts.logger.warn({ from, to, err: (err as Error).name }, 'translation failed');
        return undefined;
      }
    },
  };
}
