import cron from 'node-cron';
import type { Clock } from '../../bot/clock';
import { call } from '../../bot/db/rpc';
import { PROGRAMME_TZ } from '../../bot/time';
import { housekeeping } from './housekeeping';
import { mediaPurge } from './media-purge';
import { reminders } from '../../bot/features/care/job';
import { calls } from '../../bot/features/calls/job';
import { broadcasts } from '../../bot/features/broadcasts/job';
import { escalations, needsDigest } from '../../bot/features/needs/job';
import { checkins } from '../../bot/features/checkin/job';
import type { Job, JobDeps, JobSummary } from '../../bot/core/jobs';
import type { JobMetrics } from '../metrics';

export type { Job, JobDeps, JobSummary };

/** Every scheduled job, in one visible list. */
export const JOBS: readonly Job[] = [broadcasts, reminders, calls, escalations, needsDigest, checkins, housekeeping, mediaPurge];

export const findJob = (name: string) => JOBS.find((j) => j.name === name);

export type JobOutcome = { job: string; slot: string; ran: true; summary: JobSummary } | { job: string; slot: string; ran: false; reason: string };

/** Runs a job for the slot `now` falls in, unless another run (this process or another) already has it. */
export async function runJob(job: Job, deps: JobDeps, now: Date): Promise<JobOutcome> {
  const slot = job.slot(now);
  const claimed = await call<boolean | null>(deps.db, 'job_run_claim', { p_job: job.name, p_slot: slot, p_now: now.toISOString() });
  if (claimed !== true) return { job: job.name, slot, ran: false, reason: 'this slot already ran' };
  const summary = await job.run(deps, now);
  await call(deps.db, 'job_run_finish', { p_job: job.name, p_slot: slot, p_now: now.toISOString(), p_summary: summary });
  return { job: job.name, slot, ran: true, summary };
}

export interface Scheduler {
  stop(): Promise<void>;
}

/** What cron runs at each tick: the job for this slot, logged, and timed by outcome when metrics are on. Never throws. */
export async function runScheduled(job: Job, deps: JobDeps, clock: Clock, metrics?: JobMetrics): Promise<void> {
  // a duration, not a date: a monotonic timer rather than the injected clock
  const t0 = performance.now();
  try {
    const outcome = await runJob(job, deps, clock.now());
    metrics?.onJob(job.name, outcome.ran ? 'ran' : 'skipped', (performance.now() - t0) / 1000);
    deps.logger.info({ job: job.name, slot: outcome.slot, ran: outcome.ran }, 'job finished');
  } catch (err) {
    metrics?.onJob(job.name, 'failed', (performance.now() - t0) / 1000);
    deps.logger.error({ job: job.name, err: (err as Error).message }, 'job failed');
  }
}

/** Schedules every job under node-cron in Europe/Rome; a run never overlaps the previous one. */
export function scheduleJobs(deps: JobDeps, clock: Clock, jobs: readonly Job[] = JOBS, metrics?: JobMetrics): Scheduler {
  const tasks = jobs.map((job) =>
    cron.schedule(job.schedule, () => runScheduled(job, deps, clock, metrics), { timezone: PROGRAMME_TZ, name: job.name, noOverlap: true }),
  );
  return {
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
    },
  };
}
