import { describe, expect, it } from 'vitest';
import { parseDateAnswer } from '../../bot/core/dates';

const birth = { today: '2026-11-23', kind: 'birth' as const };
const due = { today: '2026-11-23', kind: 'due' as const };

describe('birth dates as people type them', () => {
  it.each([
    ['12/03/2026', '2026-03-12'],
    ['12-3-26', '2026-03-12'],
    ['12.03.2026', '2026-03-12'],
    ['2026-03-12', '2026-03-12'],
    ['1/1/2021', '2021-01-01'],
    [' 12 / 3 / 2026 ', '2026-03-12'],
    ['12 3 2026', '2026-03-12'],
    ['12 marzo 2026', '2026-03-12'],
    ['12 March 2026', '2026-03-12'],
    ['March 12, 2026', '2026-03-12'],
    ['12 de marzo de 2026', '2026-03-12'],
    ['12 mars 2026', '2026-03-12'],
    ['12 martie 2026', '2026-03-12'],
    ['12 березня 2026', '2026-03-12'],
    ['12 mars 2026 ', '2026-03-12'],
    ['12 Marso 2026', '2026-03-12'],
    ['١٢/٠٣/٢٠٢٦', '2026-03-12'],
    ['12 مارس 2026', '2026-03-12'],
    ['۱۲ مارچ ۲۰۲۶', '2026-03-12'],
    ['১২ মার্চ ২০২৬', '2026-03-12'],
    ['2026年3月12日', '2026-03-12'],
    ['29/02/2024', '2024-02-29'],
    ['23/11/2026', '2026-11-23'],
  ])('accepts %s as %s', (text, iso) => {
    expect(parseDateAnswer(text, birth)).toEqual({ ok: true, date: iso });
  });

  it.each([
    ['yesterday', 'not_a_date'],
    ['12', 'not_a_date'],
    ['12/2026', 'not_a_date'],
    ['31/02/2026', 'impossible'],
    ['29/02/2025', 'impossible'],
    ['12/13/2026', 'impossible'],
    ['24/11/2026', 'future'],
    ['01/01/2027', 'future'],
    ['22/11/2020', 'too_old'],
    ['12/03/1990', 'too_old'],
  ])('rejects %s (%s)', (text, reason) => {
    expect(parseDateAnswer(text, birth)).toEqual({ ok: false, reason });
  });
});

describe('expected due dates', () => {
  it('accepts today up to ten months ahead, and nothing in the past', () => {
    expect(parseDateAnswer('15/04/2027', due)).toEqual({ ok: true, date: '2027-04-15' });
    expect(parseDateAnswer('22/11/2026', due)).toEqual({ ok: false, reason: 'past' });
    expect(parseDateAnswer('15/12/2027', due)).toEqual({ ok: false, reason: 'too_far' });
  });
});
