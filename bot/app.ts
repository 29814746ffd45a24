/**
 * The bot, composed: the features in their order, the router drawn from them, and the conversation core that
 * stores what the router decides. Entry points (webhooks, the playground, the CLI) call handleInbound.
 */
import { FEATURES } from './features';
import { createRouter } from './router';
import { handleWith, type CoreDeps, type Handled } from './core/conversation';
import type { InboundMetrics } from './core/context';
import type { Inbound } from './core/types';
import type { Clock } from './clock';
import type { Config } from './config';
import type { Db } from './db/client';
import type { Translator } from './i18n';
import type { Logger } from './logger';
import { KnowledgeBase } from './knowledge/knowledge';
import { libreTranslate } from './knowledge/translate';
import type { Transcriber } from './knowledge/transcribe';
import { dangerMatcher, type DangerMatcher } from './safety/matcher';

export const router = createRouter(FEATURES);

/** Every staff command, in the order /help lists them, and those a role may use. */
export const STAFF_COMMANDS = router.commands;
export const commandsFor = router.commandsFor;

/**
 * One message in, whatever the entry point (either webhook, long polling, the playground, a replayed spool):
 * counted and timed here, where a duplicate is known and every path passes, when deps.metrics is set.
 */
export async function handleInbound(deps: CoreDeps, inbound: Inbound): Promise<Handled> {
  const metrics = deps.metrics;
  if (!metrics) return handleWith(router.decide, deps, inbound);
  // a duration, not a date: a monotonic timer rather than the injected clock (which tests stop)
  const t0 = performance.now();
  try {
    const handled = await handleWith(router.decide, deps, inbound);
    metrics.onInbound(inbound.channel, handled.duplicate ? 'duplicate' : 'handled', (performance.now() - t0) / 1000);
    return handled;
  } catch (err) {
    metrics.onInbound(inbound.channel, 'failed', (performance.now() - t0) / 1000);
    throw err;
  }
}

export interface CoreParts {
  config: Pick<Config, 'translate' | 'publicUrl'>;
  logger: Logger;
  clock: Clock;
  db: Db;
  i18n: Translator;
  /** filled in by the channels as they start (the bot's username, the WhatsApp number) */
  links: NonNullable<CoreDeps['links']>;
  /** the danger lexicons, read before the server listens; read here when absent */
  safety?: DangerMatcher;
  /** voice notes' words for staff, when TRANSCRIBE_URL is set */
  transcribe?: Transcriber;
  /** inbound counted and timed (functions/metrics.ts) */
  metrics?: InboundMetrics;
}

/** The core's dependencies, built once at start: the knowledge base, the danger matcher, machine translation when configured. */
export function composeCore(parts: CoreParts): { core: CoreDeps; handle: (inbound: Inbound) => Promise<Handled> } {
  const { config, logger, clock, db, i18n, links } = parts;
  const core: CoreDeps = {
    db, i18n, clock, logger, links,
    knowledge: new KnowledgeBase(db, clock),
    deskUrl: `${config.publicUrl.replace(/\/+$/, '')}/desk`,
    safety: parts.safety ?? dangerMatcher(),
    ...(config.translate ? { translate: libreTranslate({ ...config.translate, logger }) } : {}),
    ...(parts.transcribe ? { transcribe: parts.transcribe } : {}),
    ...(parts.metrics ? { metrics: parts.metrics } : {}),
  };
  return { core, handle: (inbound) => handleInbound(core, inbound) };
}
