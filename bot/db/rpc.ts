import type { Db } from './client';

/** What supabase-js hands back for a failed call (a PostgrestError, or its shape for a network failure). */
interface FailedCall {
  message: string;
  code?: string;
  details?: string | null;
  hint?: string | null;
}

/**
 * A failed RPC. `code` is the SQLSTATE the function raised (`22023`, `P0002`, …) or PostgREST's own
 * (`PGRST202`: no such function or arguments); callers branch on it, never on the message.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly fn: string;
  /** the database's own message, without the function's name in front */
  readonly reason: string;
  readonly code: string;
  /** the HTTP status PostgREST answered with; absent when the request never got an answer */
  readonly status?: number;
  readonly details: string | null;
  readonly hint: string | null;

  constructor(fn: string, failed: FailedCall, status?: number) {
    super(`${fn} failed: ${failed.message}`, { cause: failed });
    this.fn = fn;
    this.reason = failed.message;
    this.code = failed.code ?? '';
    // supabase-js reports 0 when fetch itself failed
    if (status) this.status = status;
    this.details = failed.details ?? null;
    this.hint = failed.hint ?? null;
  }
}

export type Attempt<T> = { data: T } | { error: RpcError };

/** Calls `fn` and hands back its data or the error, for the few callers that answer an error themselves. */
export async function attempt<T>(db: Db, fn: string, args?: Record<string, unknown>): Promise<Attempt<T>> {
  const { data, error, status } = await db.rpc(fn, args);
  return error ? { error: new RpcError(fn, error, status) } : { data: data as T };
}

/** Calls `fn` and returns its data; throws RpcError on any error (in a message's turn: unhandled, so the provider redelivers). */
export async function call<T>(db: Db, fn: string, args?: Record<string, unknown>): Promise<T> {
  const result = await attempt<T>(db, fn, args);
  if ('error' in result) throw result.error;
  return result.data;
}
