import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys that may carry a message body, a phone number or a chat id: never printed, whatever the level. */
export const REDACTED_KEYS = ['text', 'body', 'Body', 'phone', 'from', 'From', 'to', 'To', 'WaId', 'ProfileName', 'providerId', 'chatId', 'caption', 'name'];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
    },
    destination,
  );
}

/** A short, stable handle for a person in logs: enough to correlate lines, useless to identify her. */
export function maskId(id: string | number): string {
  const s = String(id);
  return s.length <= 4 ? '***' : `***${s.slice(-3)}`;
}
