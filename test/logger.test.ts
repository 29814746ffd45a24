import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskId } from '../bot/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('never prints message bodies or phone numbers, top-level or nested', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream as never);
    log.info({ text: 'my husband hits me', phone: '+393331234567', inbound: { From: 'whatsapp:+393331234567', Body: 'aiuto' }, chatId: 424242 }, 'inbound');
    const out = lines.join('');
    expect(out).toContain('inbound');
    for (const secret of ['hits me', '+393331234567', 'aiuto', '424242']) expect(out).not.toContain(secret);
  });

  it('masks ids to their last digits', () => {
    expect(maskId('+393331234567')).toBe('***567');
    expect(maskId(12)).toBe('***');
  });
});
