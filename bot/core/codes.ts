import { randomInt } from 'node:crypto';
import { addDays } from 'date-fns';
import type { ChannelLinks } from './context';

/** No 0/O, 1/I: codes are read aloud and copied from paper. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const CODE_DAYS = { family: 30, relink: 7, staff: 7 } as const;

/** 8 characters with at least one letter and one digit, so an ordinary word is never taken for a code. */
export function newCode(): string {
  for (;;) {
    const code = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    if (/\d/.test(code) && /[A-Z]/.test(code)) return code;
  }
}

export const codeExpiry = (now: Date, purpose: keyof typeof CODE_DAYS) => addDays(now, CODE_DAYS[purpose]);

/** The links a family opens to start with her code already typed. */
export function codeLinks(links: ChannelLinks | undefined, code: string): { telegram?: string; whatsapp?: string } {
  return {
    telegram: links?.telegramUsername ? `https://t.me/${links.telegramUsername}?start=${code}` : undefined,
    whatsapp: links?.whatsappNumber ? `https://wa.me/${links.whatsappNumber.replace(/\D/g, '')}?text=${code}` : undefined,
  };
}
