import { describe, expect, it } from 'vitest';
import { normalizeText, tokenize } from '../../bot/safety/normalize';

describe('text as the danger matcher compares it', () => {
  it.each([
    ['Perché MI PICCHIA', 'perche mi picchia'],
    ['përdhunim', 'perdhunim'],
    ['mă bate', 'ma bate'],
    ['أنا خائفة', 'انا خايفه'],
    ['مجھے مارتا ہے', 'مجهے مارتا هے'],
    ['ප්‍රචණ්ඩත්වය', 'ප්රචණ්ඩත්වය'],
    ['٣ أطفال', '3 اطفال'],
    ['৩টা বাচ্চা', '3টা বাচ্চা'],
    ['aiutooooo', 'aiuto'],
    ["m’a frappée", 'm a frappee'],
    ['мене б’є', 'мене бє'],
  ])('"%s" is read as "%s"', (text, expected) => {
    expect(normalizeText(text)).toBe(expected);
  });

  it.each([
    ['他打我电话', ['他', '打', '我', '电', '话']],
    ['вiн б\'є мене', ['він', 'бє', 'мене']],
    ['ok 他打我', ['ok', '他', '打', '我']],
    ['howa bi 2tlni!!', ['howa', 'bi', '2tlni']],
  ])('"%s" is cut into %j', (text, expected) => {
    expect(tokenize(normalizeText(text))).toEqual(expected);
  });
});
