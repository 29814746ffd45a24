import { ConfigError, loadConfig, type Config } from '../../bot/config';
import { openDataDoor, type DataDoor } from '../../bot/db/client';
import { createLogger, type Logger } from '../../bot/logger';

/** Shell commands fail with one line on stderr and exit code 2 for a usage mistake, 1 for anything else. */
export class UsageError extends Error {}

export interface CommandContext {
  config: Config;
  logger: Logger;
  door: DataDoor;
}

/** Runs a one-shot command with the data door open (directly, or through the running server). */
export async function runCommand(body: (ctx: CommandContext) => Promise<void>): Promise<void> {
  let door: DataDoor | undefined;
  try {
    const config = loadConfig(process.env);
    // logs go to stderr so that stdout carries only the command's result
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr as never);
    door = await openDataDoor(config, { viaServer: true, logger });
    await body({ config, logger, door });
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof UsageError ? err.message : `Error: ${(err as Error).message}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  } finally {
    await door?.close();
  }
}
