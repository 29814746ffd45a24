import { createHash } from 'node:crypto';
import { z } from 'zod';
import { audienceSchema, draftTranslations, previewBroadcast, textsSchema, type Audience, type BroadcastFailure, type BroadcastReport, type Texts } from '../bot/features/broadcasts/service';
import { sendTime } from '../bot/care/reminders';
import type { Clock } from '../bot/clock';
import type { Db } from '../bot/db/client';
import { call, RpcError } from '../bot/db/rpc';
import type { Language, Translator } from '../bot/i18n';
import type { Logger } from '../bot/logger';
import type { TranslationProvider } from '../bot/knowledge/translate';
import { parseInstant } from '../bot/time';
import { periodOf, publicFigures, renderReport, type ProgrammeReport } from '../bot/features/programme/report';

export interface ApiDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  i18n: Translator;
  translate?: TranslationProvider;
}

const MAX_BODY = 64 * 1024;

const createSchema = z
  .object({
    audience: audienceSchema.default({}),
    texts: textsSchema,
    /** ISO-8601; omitted = now. Outside 09:00–19:00 Rome it moves to the next 09:00. */
    send_at: z.string().optional(),
    /** true: answer the recipients and the text each language will read, create nothing */
    preview: z.boolean().optional(),
    /** with preview: machine drafts for the audience's languages that have no text, for approval */
    draft_translations: z.boolean().optional(),
  })
  .strict();

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers: { 'cache-control': 'no-store', ...headers } });
const problem = (status: number, error: string, details?: unknown) => json(status, { error, ...(details ? { details } : {}) }, status === 401 ? { 'www-authenticate': 'Bearer realm="broadcasts"' } : {});

/**
 * The coordinators' HTTP door: POST /api/broadcasts (preview or create), GET /api/broadcasts/B-n (report),
 * GET /api/broadcasts/B-n/failures, POST /api/broadcasts/B-n/cancel, GET /api/report. Every call needs
 * `Authorization: Bearer <key>` of an active coordinator (npm run admin -- api-key); anything else is 401.
 */
export function apiHandler(deps: ApiDeps) {
  const rpc = <T>(fn: string, args: Record<string, unknown>) => call<T>(deps.db, fn, args);

  return async (req: Request): Promise<Response> => {
    const now = deps.clock.now();
    const auth = /^Bearer\s+(\S{20,200})$/i.exec(req.headers.get('authorization') ?? '');
    const staff = auth ? await rpc<{ id: string; ref: number } | null>('api_key_staff', { p_key_hash: hashKey(auth[1]!), p_now: now.toISOString() }) : null;
    if (!staff) return problem(401, 'a valid coordinator API key is required (Authorization: Bearer <key>)');

    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, '');
    try {
      if (path === '/api/report' && req.method === 'GET') {
        const period = periodOf(url.searchParams.get('from') ?? undefined, url.searchParams.get('to') ?? undefined, now);
        if ('error' in period) return problem(400, period.error);
        const format = url.searchParams.get('format') ?? 'json';
        if (!['json', 'csv', 'md'].includes(format)) return problem(400, 'format must be json, csv or md');
        // small cells as "<5" in every format, the JSON too
        const report = publicFigures(await rpc<ProgrammeReport>('programme_report', { p_from: period.from, p_to: period.to, p_now: now.toISOString() }));
        if (format === 'json') return json(200, report);
        return new Response(renderReport(report, format as 'csv' | 'md'), { status: 200, headers: { 'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'text/markdown; charset=utf-8' } });
      }
      if (path === '/api/broadcasts' && req.method === 'POST') return await create(req, staff.id, now);
      if (path === '/api/broadcasts' && req.method === 'GET') return json(200, await rpc('broadcasts_list', { p_staff_id: staff.id, p_limit: 50 }));
      const m = /^\/api\/broadcasts\/B-?(\d{1,9})(\/failures|\/cancel)?$/i.exec(path);
      if (m) {
        const ref = Number(m[1]);
        if (!m[2] && req.method === 'GET') {
          const report = await rpc<BroadcastReport | null>('broadcast_report', { p_staff_id: staff.id, p_ref: ref, p_now: now.toISOString() });
          return report ? json(200, report) : problem(404, `no broadcast B-${ref}`);
        }
        if (m[2] === '/failures' && req.method === 'GET') {
          const failures = await rpc<BroadcastFailure[] | null>('broadcast_failures', { p_staff_id: staff.id, p_ref: ref, p_limit: 10_000 });
          return failures ? json(200, failures) : problem(404, `no broadcast B-${ref}`);
        }
        if (m[2] === '/cancel' && req.method === 'POST') {
          const out = await rpc<{ status: string } | null>('broadcast_cancel', { p_staff_id: staff.id, p_ref: ref, p_now: now.toISOString() });
          return out ? json(200, out) : problem(404, `no broadcast B-${ref}`);
        }
        return problem(405, 'method not allowed');
      }
      return problem(404, 'no such API route');
    } catch (err) {
      if (err instanceof RpcError && err.code === '42501') return problem(403, 'only an active coordinator may do this');
      if (err instanceof RpcError && err.code === '22023') return problem(400, err.reason);
      throw err;
    }
  };

  async function create(req: Request, staffId: string, now: Date): Promise<Response> {
    if (!(req.headers.get('content-type') ?? '').includes('application/json')) return problem(415, 'send JSON (content-type: application/json)');
    const raw = await req.text();
    if (raw.length > MAX_BODY) return problem(413, `the body is larger than ${MAX_BODY} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return problem(400, 'the body is not valid JSON');
    }
    const parsed = createSchema.safeParse(body);
    if (!parsed.success) return problem(400, 'invalid broadcast', parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    const { audience, send_at, preview, draft_translations } = parsed.data;
    const texts = parsed.data.texts as Texts;
    let at = now;
    if (send_at !== undefined) {
      const when = parseInstant(send_at);
      if (!when) return problem(400, 'send_at must be an ISO-8601 date-time, e.g. 2026-12-01T10:00:00+01:00');
      if (when.getTime() > now.getTime() + 90 * 86_400_000) return problem(400, 'send_at is more than 90 days away');
      at = when.getTime() < now.getTime() ? now : when;
    }
    const sendAt = sendTime(at);
    const { reads, ...counts } = await previewBroadcast(deps.db, deps.i18n, staffId, audience, texts, sendAt);
    if (preview) {
      const languages = Object.keys(counts.languages) as Language[];
      const drafts = draft_translations && deps.translate ? await draftTranslations(deps.translate, texts.it!, languages.filter((l) => !texts[l])) : {};
      return json(200, {
        ...counts,
        send_at: sendAt.toISOString(),
        reads,
        ...(draft_translations ? { drafts, translation: deps.translate ? deps.translate.name : null } : {}),
      });
    }
    const idem = req.headers.get('idempotency-key');
    if (idem !== null && !/^[\w.:-]{8,100}$/.test(idem)) return problem(400, 'Idempotency-Key must be 8–100 characters of letters, digits, . : _ -');
    const created = await rpc<{ ref: number; status: string; send_at: string; created: boolean }>('broadcast_create', {
      p_staff_id: staffId,
      p_source: 'api',
      p_source_key: idem ? `api:${staffId}:${idem}` : null,
      p_audience: audience satisfies Audience,
      p_texts: texts,
      p_send_at: sendAt.toISOString(),
      p_now: now.toISOString(),
    });
    deps.logger.info({ broadcast: created.ref, recipients: counts.recipients, source: 'api' }, created.created ? 'broadcast scheduled' : 'broadcast already scheduled');
    return json(created.created ? 201 : 200, { ...created, ref: `B-${created.ref}`, recipients: counts.recipients, skipped: counts.skipped, languages: counts.languages });
  }
}
