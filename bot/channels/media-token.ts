/**
 * Links to one file for one recipient: `PUBLIC_URL/media/<token>`, where the token names an outbox row and the
 * file it carries, expires in minutes, and is signed (HMAC-SHA256). The database lets each token stream once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface MediaGrant {
  /** the outbox row that carries the file to its recipient */
  outboxId: number;
  mediaId: string;
  /** expiry, ms since epoch */
  expiresAt: number;
  /** unique per token, so the database can let it stream once */
  nonce: string;
}

export const MEDIA_LINK_TTL_MS = 10 * 60 * 1000;

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function mediaSigner(secret: string) {
  const key = createHmac('sha256', secret).update('media-link/v1').digest();
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  return {
    sign(grant: Omit<MediaGrant, 'nonce'>): string {
      const body = b64(JSON.stringify([grant.outboxId, grant.mediaId, Math.floor(grant.expiresAt / 1000), randomBytes(9).toString('base64url')]));
      return `${body}.${b64(mac(body))}`;
    },
    /** The grant, or undefined for anything altered, malformed or expired. */
    verify(token: string, nowMs: number): MediaGrant | undefined {
      const [body, sig, extra] = token.split('.');
      if (!body || !sig || extra !== undefined || token.length > 512) return undefined;
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const [outboxId, mediaId, expires, nonce] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as [number, string, number, string];
        if (!Number.isSafeInteger(outboxId) || typeof mediaId !== 'string' || typeof nonce !== 'string' || !Number.isFinite(expires)) return undefined;
        if (expires * 1000 <= nowMs) return undefined;
        return { outboxId, mediaId, expiresAt: expires * 1000, nonce };
      } catch {
        return undefined;
      }
    },
  };
}
export type MediaSigner = ReturnType<typeof mediaSigner>;
