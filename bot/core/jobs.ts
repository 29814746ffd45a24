import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Translator } from '../i18n';
import type { Logger } from '../logger';

export interface JobDeps {
  db: Db;
  logger: Logger;
  config: Config;
  i18n: Translator;
  /** deletes a file at Twilio after an erasure (WhatsApp on); absent, such deletions wait */
  eraseMedia?: (target: string) => Promise<void>;
}

export type JobSummary = Record<string, unknown>;

/** A scheduled job: run by node-cron in the server and by `npm run job -- <name>` with an explicit clock. */
export interface Job {
  name: string;
  /** cron expression, Europe/Rome wall clock */
  schedule: string;
  description: string;
  /** the period one run covers; two runs for the same slot, from any process, do the work once */
  slot(now: Date): string;
  run(deps: JobDeps, now: Date): Promise<JobSummary>;
}
