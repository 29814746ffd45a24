import { systemClock } from '../bot/clock';
import { ConfigError, loadConfig } from '../bot/config';
import { announceServer, openDataDoor } from '../bot/db/client';
import { SquashedHistoryError } from '../bot/db/migrate';
import { LOCAL_MAX_BODY_BYTES, serveFetch, type ServedHandler } from '../bot/http/node-adapter';
import { createLogger } from '../bot/logger';
import { dangerMatcher } from '../bot/safety/matcher';
import { createTranslator } from '../bot/i18n';
import { libreTranslate } from '../bot/knowledge/translate';
import { loadLocalModules, startChannels, type ChannelRoutes } from './channels';
import { JOBS, scheduleJobs } from './jobs';
import { createMetrics, serveMetrics } from './metrics';
import { createApp } from './server';

/** A port that cannot be listened on: said in one line, as a configuration error when it is taken, and the process ends. */
function cannotListen(variable: string, port: number, err: unknown, hint = ''): never {
  const code = (err as NodeJS.ErrnoException).code;
  console.error(code === 'EADDRINUSE' ? `Configuration error: ${variable} ${port} is already in use${hint}` : `Cannot listen on ${variable} ${port}: ${(err as Error).message}`);
  process.exit(1);
}

/** `npm start`: validate the configuration, open the database, serve, schedule the jobs, stop cleanly. */
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const clock = systemClock;
  const startedAt = clock.now();

  // a signal during start-up waits for the database to open, then closes it cleanly
  let stopRequested: string | null = null;
  let stop = async (signal: string) => void (stopRequested = signal);
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  let door;
  try {
    door = await openDataDoor(config, { logger });
  } catch (err) {
    // a database built before the history was squashed: one line saying what to do, not a stack trace
    if (err instanceof SquashedHistoryError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const i18n = createTranslator();
  // read before listening: a lexicon a reviewer broke stops the start with its file and key, not her first message
  const safety = dangerMatcher();
  // dev-only code, in local mode only, loaded before listening so the channels are up as soon as it answers
  const local = config.local ? await loadLocalModules() : undefined;
  const routes: ChannelRoutes = { mounts: [] };
  const translate = config.translate ? libreTranslate({ ...config.translate, logger }) : undefined;
  // the spool comes with the WhatsApp channel, after the server listens: read when scraped
  const metrics = createMetrics({ db: door.supabase, logger, spoolDepth: () => routes.spool?.depth() ?? 0 });
  const app = createApp({ config, logger, clock, door, startedAt, channels: routes, i18n, translate, metrics });
  let served;
  try {
    // local mode's emulators take file uploads (Telegram's 50 MB); the public webhooks stay small
    served = await serveFetch(app, { port: config.port, host: '::', ...(config.local ? { maxBodyBytes: LOCAL_MAX_BODY_BYTES } : {}) });
  } catch (err) {
    await door.close();
    cannotListen('PORT', config.port, err);
  }
  // no METRICS_TOKEN: metrics only on this machine, on a port of their own
  let metricsServer: ServedHandler | undefined;
  if (!config.metrics.token && config.metrics.port) {
    try {
      metricsServer = await serveMetrics(metrics, config.metrics.port);
    } catch (err) {
      await served.close();
      await door.close();
      cannotListen('METRICS_PORT', config.metrics.port, err, ' (choose another, or 0 for no metrics listener)');
    }
  }
  if (config.database.kind === 'embedded' && door.mode === 'embedded') await announceServer(config.database.dataDir, served.port);
  const channels = await startChannels({ config, logger, clock, db: door.supabase, i18n, port: served.port, routes, safety, local, metrics });
  const whatsapp = channels.whatsapp;
  const scheduler = scheduleJobs({ db: door.supabase, logger, config, i18n, ...(whatsapp ? { eraseMedia: (target: string) => whatsapp.eraseMedia(target) } : {}) }, clock, JOBS, metrics.jobs);

  logger.info(
    { port: served.port, database: door.mode, schemaVersion: door.schemaVersion, telegram: config.telegram.mode, whatsapp: config.whatsapp.mode, metrics: metricsServer ? `${metricsServer.url}/metrics` : config.metrics.token ? 'GET /metrics with the bearer token' : 'off', ms: clock.now().getTime() - startedAt.getTime() },
    config.local ? `listening on ${config.publicUrl}: open it in a browser to chat with the bot (both channels emulated)` : `listening on ${config.publicUrl}`,
  );

  let stopping = false;
  stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await scheduler.stop();
    await channels.stop();
    await served.close();
    await metricsServer?.close();
    await door.close();
    logger.info('stopped');
    process.exit(0);
  };
  if (stopRequested) await stop(stopRequested);
}

await main();
