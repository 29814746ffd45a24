/**
 * The local playground: one static page (no build step) for chatting with the bot as mothers, tutors and
 * coordinators on the emulated Telegram and WhatsApp. The page talks only to the emulators' control APIs
 * on the same origin; its settings arrive in a JSON block, and a per-response nonce admits its inline
 * script and style under a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface PlaygroundOptions {
  /** e.g. `/_emulator/telegram/_control` */
  telegramControlBase: string;
  /** e.g. `/_emulator/twilio/_control` */
  twilioControlBase: string;
  botToken: string;
  /** The bot's WhatsApp sender, shown to the person (`whatsapp:+14155238886`). */
  whatsappSender: string;
}

const csp = (nonce: string) =>
  [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data: blob:", // blob: the page shows what the person sent from its own copy
    "media-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

/** JSON that is safe inside a `<script>` element: no `</script>` or `<!--` can be formed. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function playgroundHandler(opts: PlaygroundOptions): (req: Request) => Promise<Response> {
  const template = readFileSync(new URL('./playground.html', import.meta.url), 'utf8');
  const [before, after] = template.split('__CONFIG__');
  if (after === undefined) throw new Error('playground.html lacks its __CONFIG__ placeholder');
  const config = scriptJson({
    telegramControlBase: opts.telegramControlBase.replace(/\/$/, ''),
    twilioControlBase: opts.twilioControlBase.replace(/\/$/, ''),
    botToken: opts.botToken,
    whatsappSender: opts.whatsappSender,
  });

  return async (req) => {
    const { pathname } = new URL(req.url);
    if (pathname !== '/' && pathname !== '/index.html') return new Response('not found\n', { status: 404 });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return new Response('method not allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    const nonce = randomBytes(16).toString('base64');
    // The nonce goes in by split/join (never String.replace, which would read `$` patterns in the config).
    const html = [before!, after].map((part) => part.split('__NONCE__').join(nonce)).join(config);
    return new Response(req.method === 'HEAD' ? null : html, {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': csp(nonce),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    });
  };
}
