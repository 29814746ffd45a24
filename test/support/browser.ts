import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { it } from 'vitest';

/** Debian's Chromium (`.ci/run` installs it). */
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/**
 * Without Chromium a browser test says so and skips on a newcomer's machine; under CI=true it fails instead, so a
 * missing browser can never pass as a skip.
 */
export function chromiumOrSkip(what: string): void {
  it.runIf(!haveChromium)(`has Chromium for ${what}`, ({ skip }) => {
    const missing = `Chromium is not installed at ${CHROMIUM}: install it with \`apt-get install chromium\` to run ${what}`;
    if (process.env.CI) throw new Error(missing);
    skip(missing);
  });
}

/** Headless, with nothing that reaches for the network: this machine's closed network refuses it, many times over. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
