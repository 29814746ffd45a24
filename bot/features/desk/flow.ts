import { createHash, randomBytes } from 'node:crypto';
import { call, type FlowContext, type StaffProfile, type Turn } from '../../core/context';
import { staffDone } from '../../core/staff-ui';

/** Links a coordinator may ask for in an hour: enough to sign in on a phone and a desktop, and to retry. */
export const DESK_LINKS_PER_HOUR = 5;
export const DESK_LINK_MINUTES = 10;

/** What the database keeps of a secret: its SHA-256, so a copy of the database opens nothing. */
export const secretHash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** /desk: a one-time link to the desk, 10 minutes, single use; the link's hash is stored with the reply. */
export async function deskLink(ctx: FlowContext, _staff: StaffProfile): Promise<Turn> {
  const { t } = ctx;
  if (!ctx.deps.deskUrl) return staffDone(ctx, t('desk.off'));
  const recent = await call<number>(ctx.deps.db, 'staff_desk_links_recent', { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() });
  if (recent >= DESK_LINKS_PER_HOUR) return staffDone(ctx, t('desk.tooMany', { count: DESK_LINKS_PER_HOUR }));
  const secret = randomBytes(32).toString('base64url');
  const turn = staffDone(ctx, t('desk.link', { url: `${ctx.deps.deskUrl}/l/${secret}`, count: DESK_LINK_MINUTES }));
  return { ...turn, effects: [{ op: 'desk.link', token_hash: secretHash(secret) }] };
}
