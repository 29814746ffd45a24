import { webhookCallback } from 'grammy';
import type { TelegramChannel } from '../bot/channels/telegram';
import type { FetchHandler } from '../bot/http/node-adapter';

/** POST /telegram/webhook: grammY checks the secret header in constant time (401 and nothing processed otherwise). */
export function telegramWebhookHandler(channel: TelegramChannel, secretToken: string): FetchHandler {
  const callback = webhookCallback(channel.bot, 'std/http', { secretToken, onTimeout: 'throw', timeoutMilliseconds: 9_000 });
  return (req) => callback(req);
}
