import { describe, expect, it } from 'vitest';
import { parseCallsCsv } from '../../../bot/features/calls/import';

const DISTRICTS = ['milano-1', 'milano-8'];
const HEADER = 'code,kind,title_it,opens_on,closes_on,districts,child_min_months,child_max_months,age_on,isee_max,residence,permit,documents,apply_how,apply_url,source,checked_on,unverified';

describe('a CSV of calls', () => {
  it('reads a good row: lists, dates, amounts, flags', () => {
    const { rows, errors } = parseCallsCsv([
      HEADER,
      'SAP-M8-2027,sap,Avviso SAP Municipio 8,2027-02-01,2027-03-05,milano-8|milano-1,,,,"16.000 €",lombardy,sap,id_document permit isee,online_spid|sicet,https://www.serviziabitativi.servizirl.it,Regione Lombardia,2027-01-20,no',
      'bonus-2027,bonus_nido,Bonus nido 2027,,,,0,36,,,,,spid|isee_minors,inps,,INPS,2027-01-10,yes',
    ].join('\n'), DISTRICTS);
    expect(errors).toEqual([]);
    expect(rows[0]).toEqual({
      code: 'sap-m8-2027', kind: 'sap', title_it: 'Avviso SAP Municipio 8', opens_on: '2027-02-01', closes_on: '2027-03-05', districts: ['milano-8', 'milano-1'],
      child_min_months: null, child_max_months: null, age_on: null, isee_max: 16000, residence: 'lombardy', permit: 'sap',
      documents: ['id_document', 'permit', 'isee'], apply_how: ['online_spid', 'sicet'], apply_url: 'https://www.serviziabitativi.servizirl.it',
      source: 'Regione Lombardia', checked_on: '2027-01-20', unverified: false,
    });
    expect(rows[1]).toMatchObject({ opens_on: null, closes_on: null, districts: [], child_min_months: 0, child_max_months: 36, unverified: true });
  });

  it.each([
    ['an unknown kind', 'x-2027,housing,Titolo,,,,,,,,,,,,,Fonte,2027-01-01,', 'kind "housing" must be one of'],
    ['a closing date before the opening', 'x-2027,sap,Titolo,2027-03-01,2027-02-01,,,,,,,,,,,Fonte,2027-01-01,', 'opens_on 2027-03-01 is after closes_on 2027-02-01'],
    ['a date that does not exist', 'x-2027,sap,Titolo,2027-02-30,,,,,,,,,,,,Fonte,2027-01-01,', 'opens_on "2027-02-30" must be a date YYYY-MM-DD'],
    ['an unknown district', 'x-2027,sap,Titolo,,,milano-99,,,,,,,,,,Fonte,2027-01-01,', 'unknown district(s) milano-99'],
    ['an unknown document', 'x-2027,sap,Titolo,,,,,,,,,,passport,,,Fonte,2027-01-01,', 'unknown document(s) passport'],
    ['an age range upside down', 'x-2027,nido,Titolo,,,,36,3,,,,,,,,Fonte,2027-01-01,', 'child_min_months 36 must be below child_max_months 3'],
    ['a link that is not https', 'x-2027,sap,Titolo,,,,,,,,,,,,http://example.org,Fonte,2027-01-01,', 'apply_url "http://example.org" must start with https://'],
    ['no source', 'x-2027,sap,Titolo,,,,,,,,,,,,,,2027-01-01,', 'source is required'],
    ['no date checked', 'x-2027,sap,Titolo,,,,,,,,,,,,,Fonte,,', 'checked_on is required'],
  ])('refuses %s with its line and reason', (_what, row, reason) => {
    const { rows, errors } = parseCallsCsv([HEADER, 'ok-2027,dote,Dote casa,,,,,,,,,,,tutor,,Comune,2027-01-01,', row].join('\n'), DISTRICTS);
    expect(rows.map((r) => r.code)).toEqual(['ok-2027']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(3);
    expect(errors[0]!.reason).toContain(reason);
  });

  it('refuses the same code twice, and an unknown column', () => {
    const twice = parseCallsCsv([HEADER, 'a-2027,dote,Dote,,,,,,,,,,,,,F,2027-01-01,', 'a-2027,dote,Dote,,,,,,,,,,,,,F,2027-01-01,'].join('\n'), DISTRICTS);
    expect(twice.errors).toEqual([{ line: 3, reason: 'code a-2027 is already on line 2' }]);
    const column = parseCallsCsv('code,kind,title_it,deadline,source,checked_on\n', DISTRICTS);
    expect(column.errors[0]).toMatchObject({ line: 1, reason: expect.stringContaining('unknown column(s): deadline') });
  });
});
