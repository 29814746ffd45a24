import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../bot/config';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SID = 'AC' + 'a'.repeat(32);

describe('configuration', () => {
  it('runs on the embedded defaults with no variables at all, both channels emulated', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, publicUrl: 'http://localhost:3000', dataDir: '.data', logLevel: 'info', local: true });
    expect(c.database).toEqual({ kind: 'embedded', dataDir: '.data' });
    expect([c.telegram.mode, c.whatsapp.mode]).toEqual(['emulated', 'emulated']);
    expect(c.telegram.apiRoot).toBe('https://api.telegram.org');
    expect(c.whatsapp.apiBase).toBe('https://api.twilio.com');
  });

  it('turns a channel on only when its credentials are set, and the other one off', () => {
    const c = loadConfig({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: 's3cret', PUBLIC_URL: 'https://bot.example.org/', TELEGRAM_API_ROOT: 'http://127.0.0.1:9/' });
    expect([c.telegram.mode, c.whatsapp.mode, c.local]).toEqual(['real', 'off', false]);
    expect(c.publicUrl).toBe('https://bot.example.org');
    expect(c.telegram.apiRoot).toBe('http://127.0.0.1:9');
    const w = loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: 'x'.repeat(32), TWILIO_WHATSAPP_FROM: 'whatsapp:+14155238886' });
    expect([w.telegram.mode, w.whatsapp.mode]).toEqual(['off', 'real']);
  });

  it('keeps the WhatsApp spool under DATA_DIR unless SPOOL_DIR says where', () => {
    expect(loadConfig({}).spoolDir).toBe(join('.data', 'spool'));
    expect(loadConfig({ DATA_DIR: '/srv/bot' }).spoolDir).toBe(join('/srv/bot', 'spool'));
    expect(loadConfig({ DATA_DIR: '/srv/bot', SPOOL_DIR: '/var/lib/family-bot/spool' }).spoolDir).toBe('/var/lib/family-bot/spool');
  });

  it('chooses Supabase or a Postgres connection string when given', () => {
    expect(loadConfig({ SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k'.repeat(40) }).database.kind).toBe('supabase');
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@localhost/db' }).database.kind).toBe('postgres');
  });

  it.each([
    [{ PORT: 'abc' }, 'Configuration error: PORT must be a whole number from 1 to 65535 (got "abc")'],
    [{ PORT: '70000' }, 'Configuration error: PORT must be from 1 to 65535 (got "70000")'],
    [{ PUBLIC_URL: 'bot.example.org' }, 'Configuration error: PUBLIC_URL must be a URL like https://example.org (got "bot.example.org")'],
    [{ LOG_LEVEL: 'loud' }, 'Configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ TELEGRAM_BOT_TOKEN: 'nonsense' }, 'Configuration error: TELEGRAM_BOT_TOKEN must look like 123456789:AA… (the token BotFather gave)'],
    [{ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: 'has spaces' }, 'Configuration error: TELEGRAM_WEBHOOK_SECRET must be 1–256 characters of A–Z, a–z, 0–9, _ and -'],
    [{ TELEGRAM_WEBHOOK_SECRET: 'abc' }, 'Configuration error: TELEGRAM_BOT_TOKEN is required when TELEGRAM_WEBHOOK_SECRET is set'],
    [{ TWILIO_ACCOUNT_SID: SID }, 'Configuration error: TWILIO_AUTH_TOKEN is required when TWILIO_ACCOUNT_SID is set'],
    [{ TWILIO_ACCOUNT_SID: 'SK123' }, 'Configuration error: TWILIO_ACCOUNT_SID must be AC followed by 32 hexadecimal characters (got "SK123")'],
    [{ TWILIO_WHATSAPP_FROM: '+393331234567' }, 'Configuration error: TWILIO_WHATSAPP_FROM must be whatsapp:+ followed by the number in E.164, e.g. whatsapp:+393331234567 (got "+393331234567")'],
    [{ SUPABASE_URL: 'https://abc.supabase.co' }, 'Configuration error: SUPABASE_SERVICE_ROLE_KEY is required when SUPABASE_URL is set'],
    [{ SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'k'.repeat(40), DATABASE_URL: 'postgres://x/y' }, 'Configuration error: DATABASE_URL cannot be used together with SUPABASE_URL: choose one database'],
    [{ DATABASE_URL: 'mysql://x' }, 'Configuration error: DATABASE_URL must be a postgres:// connection string'],
    [{ REMINDER_DAYS_BEFORE: 'week' }, 'Configuration error: REMINDER_DAYS_BEFORE must be a whole number of days from 1 to 30 (got "week")'],
    [{ REMINDER_DAYS_BEFORE: '45' }, 'Configuration error: REMINDER_DAYS_BEFORE must be from 1 to 30 (got "45")'],
    [{ TRANSLATE_URL: 'translate.local' }, 'Configuration error: TRANSLATE_URL must be a URL like https://example.org (got "translate.local")'],
    [{ CHECKIN_MONTHS: '13' }, 'Configuration error: CHECKIN_MONTHS must be from 0 (off) to 12 (got "13")'],
    [{ CHECKIN_MONTHS: 'often' }, 'Configuration error: CHECKIN_MONTHS must be a whole number of months from 0 (off) to 12 (got "often")'],
    [{ SPOOL_DIR: 's3://bucket/spool' }, 'Configuration error: SPOOL_DIR must be a folder path on a persistent disk, e.g. /var/lib/family-bot/spool (got "s3://bucket/spool")'],
    [{ METRICS_TOKEN: 'short-token' }, 'Configuration error: METRICS_TOKEN must be at least 16 characters'],
    [{ METRICS_PORT: '70000' }, 'Configuration error: METRICS_PORT must be from 0 (off) to 65535 (got "70000")'],
    [{ METRICS_PORT: 'metrics' }, 'Configuration error: METRICS_PORT must be a whole number from 0 (off) to 65535 (got "metrics")'],
  ])('rejects %o with one clear line', (env, message) => {
    let thrown: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe(message);
    expect((thrown as Error).message).not.toContain('\n');
  });

  it('serves metrics on 127.0.0.1:9464 by default, on another port or none, or on the public port with a token', () => {
    expect(loadConfig({}).metrics).toEqual({ token: undefined, port: 9464 });
    expect(loadConfig({ METRICS_PORT: '0' }).metrics.port).toBe(0);
    expect(loadConfig({ METRICS_PORT: '9100' }).metrics.port).toBe(9100);
    expect(loadConfig({ METRICS_TOKEN: 'a-long-enough-token' }).metrics.token).toBe('a-long-enough-token');
  });

  it('never echoes a secret back in the error', () => {
    expect(() => loadConfig({ TWILIO_AUTH_TOKEN: 'short' })).toThrow(/^Configuration error: TWILIO_AUTH_TOKEN looks too short to be an auth token$/);
  });
});
