import { systemClock } from '../../bot/clock';
import { codeExpiry, newCode } from '../../bot/flows/codes';
import { runCommand, UsageError } from './common';

/**
 * `npm run admin -- create-coordinator --name "Marco Rossi" [--email m.rossi@comune.milano.it]`: the first
 * coordinator's invitation. She or he sends the printed code to the bot; later invitations are made in chat.
 */
const USAGE = 'usage: npm run admin -- create-coordinator --name "<full name>" [--email <address>]';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

await runCommand(async ({ door }) => {
  const [command, ...args] = process.argv.slice(2);
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
