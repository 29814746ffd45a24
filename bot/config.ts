import { join } from 'node:path';
import { z } from 'zod';

/** Raised when the environment is wrong; its message is the one line shown to the person starting the bot. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optional = (s: z.ZodString) => z.preprocess((v) => (v === '' ? undefined : v), s.optional());
const httpUrl = z
  .string()
  .url('must be a URL like https://example.org')
  .refine((v) => /^https?:\/\//.test(v), 'must start with http:// or https://')
  .transform((v) => v.replace(/\/+$/, ''));

/** A whole number with a default, in a range; 0 as the least means "off" and says so. Messages name the unit. */
const wholeNumber = (fallback: number, min: number, max: number, unit?: string) => {
  const range = `from ${min === 0 ? '0 (off)' : min} to ${max}`;
  return z.preprocess(
    (v) => (v === undefined || v === '' ? String(fallback) : v),
    z.string().regex(/^\d+$/, `must be a whole number ${unit ? `of ${unit} ` : ''}${range}`).transform(Number).pipe(z.number().int().min(min, `must be ${range}`).max(max, `must be ${range}`)),
  );
};

const schema = z.object({
  PORT: wholeNumber(3000, 1, 65535),
  PUBLIC_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional()),
  DATA_DIR: z.preprocess((v) => (v === undefined || v === '' ? '.data' : v), z.string()),
  // a folder on this machine's disk: not a URL, no line breaks or NUL
  SPOOL_DIR: optional(z.string().regex(/^(?![a-z][a-z0-9+.-]*:\/\/)[^\n\r\0]+$/i, 'must be a folder path on a persistent disk, e.g. /var/lib/family-bot/spool')),
  SUPABASE_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional()),
  SUPABASE_SERVICE_ROLE_KEY: optional(z.string().min(20, 'looks too short to be a service-role key')),
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')),
  DATABASE_POOL_SIZE: wholeNumber(10, 1, 200, 'connections'),
  TELEGRAM_BOT_TOKEN: optional(z.string().regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'must look like 123456789:AA… (the token BotFather gave)')),
  TELEGRAM_WEBHOOK_SECRET: optional(z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1–256 characters of A–Z, a–z, 0–9, _ and -')),
  TELEGRAM_API_ROOT: z.preprocess((v) => (v === undefined || v === '' ? 'https://api.telegram.org' : v), httpUrl),
  TWILIO_ACCOUNT_SID: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must be AC followed by 32 hexadecimal characters')),
  TWILIO_AUTH_TOKEN: optional(z.string().min(16, 'looks too short to be an auth token')),
  TWILIO_WHATSAPP_FROM: optional(z.string().regex(/^whatsapp:\+[1-9]\d{6,14}$/, 'must be whatsapp:+ followed by the number in E.164, e.g. whatsapp:+393331234567')),
  TWILIO_API_BASE: z.preprocess((v) => (v === undefined || v === '' ? 'https://api.twilio.com' : v), httpUrl),
  LOG_LEVEL: z.preprocess((v) => (v === undefined || v === '' ? 'info' : v), z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })),
  REMINDER_DAYS_BEFORE: wholeNumber(7, 1, 30, 'days'),
  TRANSLATE_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional()),
  TRANSLATE_API_KEY: optional(z.string().min(1)),
  TRANSCRIBE_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional()),
  TRANSCRIBE_API_KEY: optional(z.string().min(1)),
  TRANSCRIBE_MODEL: z.preprocess((v) => (v === undefined || v === '' ? 'whisper-1' : v), z.string().regex(/^[\w./:-]{1,100}$/, 'must be a model name like whisper-1')),
  TRANSCRIBE_TIMEOUT_MS: wholeNumber(8000, 500, 60000, 'milliseconds'),
  METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  METRICS_PORT: wholeNumber(9464, 0, 65535),
  CHECKIN_MONTHS: wholeNumber(3, 0, 12, 'months'),
});

export type ChannelMode = 'off' | 'real' | 'emulated';

export interface Config {
  port: number;
  publicUrl: string;
  dataDir: string;
  /** the WhatsApp spool's folder: webhooks the database could not take yet (functions/whatsapp-spool.ts) */
  spoolDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** the first reminder goes this many days before the due day */
  reminderDaysBefore: number;
  /** a LibreTranslate-compatible API; off when unset */
  translate: { url: string; apiKey?: string } | null;
  /** an OpenAI-compatible speech-to-text API (POST /v1/audio/transcriptions); off when unset */
  transcribe: { url: string; apiKey?: string; model: string; timeoutMs: number } | null;
  /** months between two check-ins; 0 = off */
  checkinMonths: number;
  /** GET /metrics: on the public port behind `Authorization: Bearer <token>` when a token is set, else on 127.0.0.1:port (0 = off) */
  metrics: { token?: string; port: number };
  database:
    | { kind: 'supabase'; url: string; serviceRoleKey: string }
    /** poolSize: connections this process opens (DATABASE_POOL_SIZE); every process opens its own */
    | { kind: 'postgres'; url: string; poolSize: number }
    | { kind: 'embedded'; dataDir: string };
  telegram: { mode: ChannelMode; token?: string; webhookSecret?: string; apiRoot: string };
  whatsapp: { mode: ChannelMode; accountSid?: string; authToken?: string; from?: string; apiBase: string };
  /** No channel has credentials: both are emulated and the playground is served. */
  local: boolean;
}

/** Validates the environment once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const got = env[variable];
    const shown = got === undefined || /KEY|TOKEN|SECRET|DATABASE_URL/.test(variable) ? '' : ` (got "${got}")`;
    throw new ConfigError(variable, `${issue.message}${shown}`);
  }
  const e = parsed.data;
  const together = (names: string[]) => {
    const set = names.filter((n) => e[n as keyof typeof e] !== undefined);
    if (set.length > 0 && set.length < names.length) {
      const missing = names.find((n) => e[n as keyof typeof e] === undefined)!;
      throw new ConfigError(missing, `is required when ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set`);
    }
    return set.length === names.length;
  };
  const supabase = together(['SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY']);
  const twilio = together(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_WHATSAPP_FROM']);
  if (e.TELEGRAM_WEBHOOK_SECRET && !e.TELEGRAM_BOT_TOKEN) {
    throw new ConfigError('TELEGRAM_BOT_TOKEN', 'is required when TELEGRAM_WEBHOOK_SECRET is set');
  }
  if (supabase && e.DATABASE_URL) {
    throw new ConfigError('DATABASE_URL', 'cannot be used together with SUPABASE_URL: choose one database');
  }
  const telegramReal = e.TELEGRAM_BOT_TOKEN !== undefined;
  const local = !telegramReal && !twilio;
  return {
    port: e.PORT,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    dataDir: e.DATA_DIR,
    spoolDir: e.SPOOL_DIR ?? join(e.DATA_DIR, 'spool'),
    logLevel: e.LOG_LEVEL,
    reminderDaysBefore: e.REMINDER_DAYS_BEFORE,
    translate: e.TRANSLATE_URL ? { url: e.TRANSLATE_URL, apiKey: e.TRANSLATE_API_KEY } : null,
    transcribe: e.TRANSCRIBE_URL ? { url: e.TRANSCRIBE_URL, apiKey: e.TRANSCRIBE_API_KEY, model: e.TRANSCRIBE_MODEL, timeoutMs: e.TRANSCRIBE_TIMEOUT_MS } : null,
    checkinMonths: e.CHECKIN_MONTHS,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT },
    database: supabase
      ? { kind: 'supabase', url: e.SUPABASE_URL!, serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY! }
      : e.DATABASE_URL
        ? { kind: 'postgres', url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE }
        : { kind: 'embedded', dataDir: e.DATA_DIR },
    telegram: {
      mode: telegramReal ? 'real' : local ? 'emulated' : 'off',
      token: e.TELEGRAM_BOT_TOKEN,
      webhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
      apiRoot: e.TELEGRAM_API_ROOT,
    },
    whatsapp: {
      mode: twilio ? 'real' : local ? 'emulated' : 'off',
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      from: e.TWILIO_WHATSAPP_FROM,
      apiBase: e.TWILIO_API_BASE,
    },
    local,
  };
}
