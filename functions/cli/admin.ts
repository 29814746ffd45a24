import { randomBytes } from 'node:crypto';
import { systemClock } from '../../bot/clock';
import { attempt, call } from '../../bot/db/rpc';
import { hashKey } from '../api-broadcasts';
import { codeExpiry, newCode } from '../../bot/core/codes';
import { runCommand, UsageError } from './common';

/**
 * `npm run admin -- create-coordinator --name "Marco Rossi" [--email m.rossi@comune.milano.it]`: the first
 * coordinator's invitation. She or he sends the printed code to the bot; later invitations are made in chat.
 * `api-key --coordinator T-n` prints a new API key for POST /api/broadcasts (shown once, only its hash is kept);
 * `revoke-api-keys --coordinator T-n` revokes all of hers.
 */
const USAGE = [
  'usage: npm run admin -- create-coordinator --name "<full name>" [--email <address>]',
  '       npm run admin -- api-key --coordinator T-<n>',
  '       npm run admin -- revoke-api-keys --coordinator T-<n>',
].join('\n');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

await runCommand(async ({ door }) => {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'api-key' || command === 'revoke-api-keys') {
    const m = /^T-?(\d{1,9})$/i.exec(option(args, '--coordinator') ?? '');
    if (!m) throw new UsageError(`--coordinator T-<n> is required (the coordinator's reference, as /tutors shows it)\n${USAGE}`);
    const now = systemClock.now().toISOString();
    if (command === 'revoke-api-keys') {
      const revoked = await call<unknown>(door.supabase, 'api_key_revoke', { p_staff_ref: Number(m[1]), p_now: now });
      console.log(JSON.stringify({ coordinator: `T-${m[1]}`, revoked, via: door.mode }, null, 2));
      return;
    }
    const key = `fbk_${randomBytes(24).toString('base64url')}`;
    const created = await attempt<{ name: string }>(door.supabase, 'api_key_create', { p_staff_ref: Number(m[1]), p_key_hash: hashKey(key), p_now: now });
    // a usage mistake (exit code 2) either way, as before
    if ('error' in created) throw new UsageError(created.error.code === 'P0002' ? `T-${m[1]} is not an active coordinator` : created.error.message);
    console.log(JSON.stringify({ coordinator: `T-${m[1]}`, name: created.data.name, key, how: 'send it as "Authorization: Bearer <key>"; it is shown only now', via: door.mode }, null, 2));
    return;
  }
  if (command !== 'create-coordinator') throw new UsageError(USAGE);
  const name = option(args, '--name')?.trim();
  const email = option(args, '--email')?.trim().toLowerCase();
  if (!name || name.length > 120) throw new UsageError(`--name is required (up to 120 characters)\n${USAGE}`);
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new UsageError(`--email "${email}" is not an email address`);

  const now = systemClock.now();
  const code = newCode();
  const expires = codeExpiry(now, 'staff');
  await call(door.supabase, 'admin_invite', { p_role: 'coordinator', p_full_name: name, p_email: email ?? null, p_code: code, p_expires_at: expires.toISOString(), p_now: now.toISOString() });
  console.log(JSON.stringify({
    role: 'coordinator',
    name,
    code,
    expires_at: expires.toISOString(),
    how: `send ${code} to the bot as a message (WhatsApp) or /start ${code} (Telegram), from the coordinator's own phone`,
    via: door.mode,
  }, null, 2));
});
