import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../bot/import/csv';
import { parseFamiliesCsv, type ImportReference } from '../../../bot/features/staff/import';

const REF: ImportReference = {
  districts: [{ code: 'milano-7', name: 'Municipio 7 – Baggio, De Angeli, San Siro' }, { code: 'milano-2', name: 'Municipio 2' }],
  staff: [{ id: 'tutor-uuid', ref: 3, email: 'giulia.bianchi@example.org' }],
};
const TODAY = '2026-11-23';
const HEADER = 'phone,telegram_id,language,district,tutor_email,child_name,child_birth_date,consent';

describe('CSV records', () => {
  it('reads quotes, escaped quotes, line breaks inside quotes, CRLF, a BOM and semicolons', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['two\nlines', 'z'] },
    ]);
    expect(parseCsv('a;b\n1;2')).toEqual([{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['1', '2'] }]);
  });
});

describe('the caseload file', () => {
  it('groups rows of the same phone into one family with its children', () => {
    const out = parseFamiliesCsv([
      HEADER,
      '+393331234567,,ar,milano-7,giulia.bianchi@example.org,Amir,2025-03-12,yes',
      '+39 333 123 4567,,ar,milano-7,giulia.bianchi@example.org,Lina,2026-09-01,yes',
      ',123456789,bn,,,Rafi,2024-01-31,',
    ].join('\n'), REF, TODAY);
    expect(out.errors).toEqual([]);
    expect(out.families).toEqual([
      { channel: 'whatsapp', provider_id: '+393331234567', language: 'ar', district_code: 'milano-7', tutor_id: 'tutor-uuid', consent: true, children: [{ name: 'Amir', birth_date: '2025-03-12' }, { name: 'Lina', birth_date: '2026-09-01' }], lines: [2, 3] },
      { channel: 'telegram', provider_id: '123456789', language: 'bn', district_code: null, tutor_id: null, consent: false, children: [{ name: 'Rafi', birth_date: '2024-01-31' }], lines: [4] },
    ]);
  });

  it('accepts a district by its name and a tutor by code', () => {
    const out = parseFamiliesCsv('phone,language,district,tutor_code,child_name,child_birth_date,consent\n+393331234567,it,municipio 2,T-3,Eva,2026-01-01,yes', REF, TODAY);
    expect(out.errors).toEqual([]);
    expect(out.families[0]).toMatchObject({ district_code: 'milano-2', tutor_id: 'tutor-uuid' });
  });

  it.each([
    ['3331234567,,ar,milano-7,,Amir,2025-03-12,yes', 'phone "3331234567" is not in E.164 form, like +393331234567'],
    [',,ar,milano-7,,Amir,2025-03-12,yes', 'phone or telegram_id is required'],
    ['+393331234567,12345,ar,,,Amir,2025-03-12,yes', 'give phone or telegram_id, not both'],
    ['+393331234567,,arabic,,,Amir,2025-03-12,yes', 'language "arabic" is not one of'],
    ['+393331234567,,ar,milano-10,,Amir,2025-03-12,yes', 'district "milano-10" is not a known district code or name'],
    ['+393331234567,,ar,,nobody@example.org,Amir,2025-03-12,yes', 'no active staff member has the email "nobody@example.org"'],
    ['+393331234567,,ar,,,,2025-03-12,yes', 'child_name is required'],
    ['+393331234567,,ar,,,Amir,12/03/2025,yes', 'child_birth_date "12/03/2025" must be YYYY-MM-DD'],
    ['+393331234567,,ar,,,Amir,2025-02-30,yes', 'child_birth_date 2025-02-30 does not exist'],
    ['+393331234567,,ar,,,Amir,2027-01-01,yes', 'child_birth_date 2027-01-01 is in the future'],
    ['+393331234567,,ar,,,Amir,2019-01-01,yes', 'child_birth_date 2019-01-01 is more than 6 years ago'],
    ['+393331234567,,ar,,,Amir,2025-03-12,maybe', 'consent "maybe" must be yes or empty'],
  ])('refuses "%s" with its line and reason', (row, reason) => {
    const out = parseFamiliesCsv(`${HEADER}\n+393330000000,,it,,,Ok,2026-01-01,yes\n${row}`, REF, TODAY);
    expect(out.errors).toEqual([{ line: 3, reason: expect.stringContaining(reason) }]);
    expect(out.families).toHaveLength(1);
  });

  it('refuses a second row of the same family that disagrees with the first', () => {
    const out = parseFamiliesCsv(`${HEADER}\n+393331234567,,ar,milano-7,,Amir,2025-03-12,yes\n+393331234567,,fr,milano-7,,Lina,2026-01-01,yes`, REF, TODAY);
    expect(out.errors).toEqual([{ line: 3, reason: 'same family as line 2 but a different language' }]);
  });

  it('names unknown and missing columns on line 1', () => {
    expect(parseFamiliesCsv('mobile,language,child_name\n', REF, TODAY).errors).toEqual([
      { line: 1, reason: expect.stringContaining('unknown column(s): mobile') },
      { line: 1, reason: 'missing column child_birth_date' },
      { line: 1, reason: 'missing column phone or telegram_id' },
    ]);
  });
});
