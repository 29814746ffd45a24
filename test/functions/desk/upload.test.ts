import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UPLOAD_WORDS } from '../../../functions/desk/upload';

describe('the upload words on the desk', () => {
  const words = (lang: 'it' | 'en') => (JSON.parse(readFileSync(`locales/desk/${lang}.json`, 'utf8')) as Record<string, Record<string, unknown>>).upload!;
  const keys = (o: Record<string, unknown>, at = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${at}${k}.`) : [`${at}${k}`]));

  it('has the same messages in Italian and English, every one the upload form says among them', () => {
    expect(keys(words('en')).sort()).toEqual(keys(words('it')).sort());
    for (const key of Object.values(UPLOAD_WORDS)) expect(keys(words('it'))).toContain(key.replace(/^upload\./, ''));
    for (const area of ['knowledge', 'services', 'calendar']) expect(keys(words('it'))).toEqual(expect.arrayContaining([area, `done.${area}`, 'noRows']));
  });
});
