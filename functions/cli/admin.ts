import { randomBytes } from 'node:crypto';
import { systemClock } from '../../bot/clock';
import { hashKey } from '../api-broadcasts';
import { codeExpiry, newCode } from '../../bot/flows/codes';
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
      const { data, error } = await door.supabase.rpc('api_key_revoke', { p_staff_ref: Number(m[1]), p_now: now });
      if (error) throw new Error(`api_key_revoke failed: ${error.message}`);
      console.log(JSON.stringify({ coordinator: `T-${m[1]}`, revoked: data, via: door.mode }, null, 2));
      return;
    }
    const key = `fbk_${randomBytes(24).toString('base64url')}`;
    const { data, error } = await door.supabase.rpc('api_key_create', { p_staff_ref: Number(m[1]), p_key_hash: hashKey(key), p_now: now });
    if (error) throw new UsageError(error.code === 'P0002' ? `T-${m[1]} is not an active coordinator` : `api_key_create failed: ${error.message}`);
    console.log(JSON.stringify({ coordinator: `T-${m[1]}`, name: (data as { name: string }).name, key, how: 'send it as "Authorization: Bearer <key>"; it is shown only now', via: door.mode }, null, 2));
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
  const { error } = await door.supabase.rpc('admin_invite', { p_role: 'coordinator', p_full_name: name, p_email: email ?? null, p_code: code, p_expires_at: expires.toISOString(), p_now: now.toISOString() });
  if (error) throw new Error(`admin_invite failed: ${error.message}`);
  console.log(JSON.stringify({
    role: 'coordinator',
    name,
    code,
    expires_at: expires.toISOString(),
    how: `send ${code} to the bot as a message (WhatsApp) or /start ${code} (Telegram), from the coordinator's own phone`,
    via: door.mode,
  }, null, 2));
});
