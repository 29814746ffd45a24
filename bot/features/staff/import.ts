import { parseDateAnswer } from '../../core/dates';
import { isLanguage, type Language } from '../../i18n';
import { parseCsv, type RowError } from '../../import/csv';

export const FAMILY_COLUMNS = ['phone', 'telegram_id', 'language', 'district', 'tutor_email', 'tutor_code', 'child_name', 'child_birth_date', 'consent'] as const;

/** What the file is checked against: the districts and the active staff, from import_reference(). */
export interface ImportReference {
  districts: { code: string; name: string }[];
  staff: { id: string; ref: number; email: string | null }[];
}

/** One family, as import_families() takes it. */
export interface ImportFamily {
  channel: 'whatsapp' | 'telegram';
  provider_id: string;
  language: Language;
  district_code: string | null;
  tutor_id: string | null;
  consent: boolean;
  children: { name: string; birth_date: string }[];
  /** the file lines it came from, for messages */
  lines: number[];
}

export type { RowError } from '../../import/csv';

export interface ParsedFamilies {
  rows: number;
  families: ImportFamily[];
  errors: RowError[];
}

const YES = new Set(['yes', 'y', 'si', 'sì', 'true', '1']);
const NO = new Set(['no', 'n', 'false', '0', '']);

/**
 * Checks every row of a caseload file (one row per child; rows with the same phone or Telegram id are one
 * family) and groups the good ones. Bad rows are reported with their line and reason, never guessed at.
 */
export function parseFamiliesCsv(text: string, ref: ImportReference, today: string): ParsedFamilies {
  const records = parseCsv(text);
  const errors: RowError[] = [];
  if (records.length === 0) return { rows: 0, families: [], errors: [{ line: 1, reason: 'the file is empty' }] };
  const header = records[0]!.fields.map((h) => h.trim().toLowerCase());
  const unknown = header.filter((h) => !(FAMILY_COLUMNS as readonly string[]).includes(h));
  if (unknown.length) errors.push({ line: 1, reason: `unknown column(s): ${unknown.join(', ')}; expected ${FAMILY_COLUMNS.join(', ')}` });
  for (const needed of ['language', 'child_name', 'child_birth_date'] as const) {
    if (!header.includes(needed)) errors.push({ line: 1, reason: `missing column ${needed}` });
  }
  if (!header.includes('phone') && !header.includes('telegram_id')) errors.push({ line: 1, reason: 'missing column phone or telegram_id' });
  if (errors.length) return { rows: records.length - 1, families: [], errors };

  const districtByKey = new Map<string, string>();
  for (const d of ref.districts) {
    districtByKey.set(d.code.toLowerCase(), d.code);
    districtByKey.set(d.name.toLowerCase(), d.code);
  }
  const families = new Map<string, ImportFamily>();

  for (const { line, fields } of records.slice(1)) {
    const get = (col: (typeof FAMILY_COLUMNS)[number]) => {
      const i = header.indexOf(col);
      return i < 0 ? '' : (fields[i] ?? '').trim();
    };
    const problems: string[] = [];
    if (fields.length > header.length) problems.push(`${fields.length} fields but the header has ${header.length}`);

    const phone = get('phone').replace(/^whatsapp:/i, '').replace(/[\s().-]/g, '');
    const telegramId = get('telegram_id');
    let channel: ImportFamily['channel'] | undefined;
    let providerId = '';
    if (phone && telegramId) problems.push('give phone or telegram_id, not both');
    else if (phone) {
      if (/^\+[1-9]\d{7,14}$/.test(phone)) { channel = 'whatsapp'; providerId = phone; }
      else problems.push(`phone "${get('phone')}" is not in E.164 form, like +393331234567`);
    } else if (telegramId) {
      if (/^[1-9]\d{0,14}$/.test(telegramId)) { channel = 'telegram'; providerId = telegramId; }
      else problems.push(`telegram_id "${telegramId}" is not a Telegram user id (digits only)`);
    } else problems.push('phone or telegram_id is required');

    const language = get('language').toLowerCase();
    if (!isLanguage(language)) problems.push(`language "${get('language')}" is not one of it, ar, tl, zh, es, si, ro, uk, sq, bn, en, fr, ur`);

    const districtRaw = get('district');
    const district = districtRaw ? districtByKey.get(districtRaw.toLowerCase()) : null;
    if (district === undefined) problems.push(`district "${districtRaw}" is not a known district code or name`);

    const email = get('tutor_email').toLowerCase();
    const code = get('tutor_code');
    let tutorId: string | null = null;
    if (email && code) problems.push('give tutor_email or tutor_code, not both');
    else if (email) {
      tutorId = ref.staff.find((s) => s.email === email)?.id ?? null;
      if (!tutorId) problems.push(`no active staff member has the email "${email}"`);
    } else if (code) {
      const n = /^T-?(\d+)$/i.exec(code)?.[1];
      tutorId = ref.staff.find((s) => String(s.ref) === n)?.id ?? null;
      if (!tutorId) problems.push(`tutor_code "${code}" is not an active staff member (like T-3)`);
    }

    const childName = get('child_name').replace(/\s+/g, ' ');
    if (!childName) problems.push('child_name is required');
    else if (childName.length > 60) problems.push('child_name is longer than 60 characters');

    const birthRaw = get('child_birth_date');
    let birth = '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(birthRaw)) problems.push(`child_birth_date "${birthRaw}" must be YYYY-MM-DD`);
    else {
      const parsed = parseDateAnswer(birthRaw, { today, kind: 'birth' });
      if (parsed.ok) birth = parsed.date;
      else problems.push(`child_birth_date ${birthRaw} ${{ not_a_date: 'is not a date', impossible: 'does not exist', future: 'is in the future', too_old: 'is more than 6 years ago', past: 'has passed', too_far: 'is too far' }[parsed.reason]}`);
    }

    const consentRaw = get('consent').toLowerCase();
    if (!YES.has(consentRaw) && !NO.has(consentRaw)) problems.push(`consent "${get('consent')}" must be yes or empty`);
    const consent = YES.has(consentRaw);

    if (problems.length) {
      errors.push({ line, reason: problems.join('; ') });
      continue;
    }
    const key = `${channel}:${providerId}`;
    const family = families.get(key);
    if (!family) {
      families.set(key, { channel: channel!, provider_id: providerId, language: language as Language, district_code: district ?? null, tutor_id: tutorId, consent, children: [{ name: childName, birth_date: birth }], lines: [line] });
      continue;
    }
    const first = family.lines[0];
    const differs = [
      family.language !== language && 'language',
      family.district_code !== (district ?? null) && 'district',
      family.tutor_id !== tutorId && 'tutor',
      family.consent !== consent && 'consent',
    ].filter(Boolean);
    if (differs.length) {
      errors.push({ line, reason: `same family as line ${first} but a different ${differs.join(', ')}` });
      continue;
    }
    family.lines.push(line);
    if (!family.children.some((c) => c.name.toLowerCase() === childName.toLowerCase() && c.birth_date === birth)) family.children.push({ name: childName, birth_date: birth });
  }
  return { rows: records.length - 1, families: [...families.values()], errors };
}
