/** What every staff answer looks like: pages of a list, the answer with a Menu button, refs typed as F-12 or T-3. */
import type { Choice, Reply } from './types';
import type { FlowContext, StaffProfile, Turn } from './context';
import { chunkText } from './format';

export type StaffRole = StaffProfile['role'];

/** Lists longer than this are shown a page at a time: a WhatsApp numbered list stays short to read and under its 1600 characters. */
export const PAGE_SIZE = 8;

/** One page of a list (pages count from 1), and whether more follow. */
export function pageOf<T>(items: T[], page: number, size = PAGE_SIZE): { items: T[]; more: boolean } {
  const start = (Math.max(1, page) - 1) * size;
  return { items: items.slice(start, start + size), more: items.length > start + size };
}

export const pageArg = (arg: string | undefined) => (arg && /^p?\d{1,4}$/i.test(arg) ? Math.max(1, Number(arg.replace(/^p/i, ''))) : 1);

/**
 * What staff read after an action or a lookup: the answer itself (in parts when long), the next actions as
 * buttons, and a Menu button instead of the whole menu again.
 */
export function staffDone(ctx: FlowContext, text: string, next: Choice[] = []): Turn {
  const choices = [...next, { id: 'staff:menu', label: ctx.t('staff.menuButton') }];
  const parts = chunkText(text);
  const replies: Reply[] = parts.map((part, i) => (i === parts.length - 1 ? { text: part, choices } : { text: part }));
  return { replies, conversation: { step: 'staff', offered: choices } };
}

export const parseRef = (arg: string | undefined, prefix: 'F' | 'T') => {
  const m = new RegExp(`^${prefix}-?(\\d{1,9})$`, 'i').exec(arg?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
};
