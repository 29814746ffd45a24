import type { ChannelLimits } from '../channels/types';

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Paces one channel's sends in this process: a sliding one-second window overall, and a minimum gap per chat.
 * Time comes from `now()` so tests can drive it; waiting uses `sleep`.
 */
/** Our clock and the provider's differ by the request's flight time: keep a margin so a window never looks full to them. */
const WINDOW_MS = 1050;

export class RateLimiter {
  private readonly recent: number[] = [];
  private readonly lastByChat = new Map<string, number>();

  constructor(
    private readonly limits: ChannelLimits,
    private readonly now: () => number,
    private readonly sleep: Sleep = realSleep,
  ) {}

  /** Resolves when one more message to `chat` may go. */
  async take(chat: string): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.recent.length && this.recent[0]! <= t - WINDOW_MS) this.recent.shift();
      let wait = 0;
      if (this.recent.length >= this.limits.perSecond) wait = this.recent[0]! + WINDOW_MS - t;
      if (this.limits.perChatPerSecond > 0) {
        const last = this.lastByChat.get(chat);
        if (last !== undefined) wait = Math.max(wait, last + WINDOW_MS / this.limits.perChatPerSecond - t);
      }
      if (wait <= 0) {
        this.recent.push(t);
        if (this.limits.perChatPerSecond > 0) this.lastByChat.set(chat, t);
        if (this.lastByChat.size > 50_000) this.forgetOldChats(t);
        return;
      }
      await this.sleep(Math.ceil(wait));
    }
  }

  private forgetOldChats(t: number) {
    for (const [chat, at] of this.lastByChat) if (at < t - 2 * WINDOW_MS) this.lastByChat.delete(chat);
  }
}
