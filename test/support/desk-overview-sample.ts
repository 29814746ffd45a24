/**
 * A programme of realistic size for the desk's overview: ~50 districts and tutors, thirteen languages, twelve weeks,
 * every need area and call kind, a dozen broadcasts. Deterministic (a seeded generator), with some cells under five
 * so "<5" appears where a real programme would have it.
 */
import { publicFigures, type ProgrammeReport } from '../../bot/features/programme/report';
import type { DeskBroadcast, DeskOverview } from '../../functions/desk/overview';

/** mulberry32: the same numbers on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LANGUAGES = ['it', 'ar', 'bn', 'en', 'es', 'fr', 'ro', 'si', 'sq', 'tl', 'uk', 'ur', 'zh'];
const AREAS = ['health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other'];
const KINDS = ['nido', 'primavera', 'bonus_nido', 'nidi_gratis', 'sap', 'sat', 'rent_support', 'arrears', 'dote'];

export interface SampleOptions {
  districts?: number;
  tutors?: number;
  weeks?: number;
  broadcasts?: number;
  /** extra districts with exact family and child counts (e.g. a hostile name, or one with three families) */
  extraDistricts?: Record<string, { families: number; children: number }>;
  seed?: number;
}

/** The exact figures, as programme_report answers them. */
export function sampleReport(o: SampleOptions = {}): ProgrammeReport {
  const rnd = random(o.seed ?? 23);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const weeks = Array.from({ length: o.weeks ?? 12 }, (_, i) => new Date(Date.UTC(2026, 8, 7 + 7 * i)).toISOString().slice(0, 10));
  const famDistrict: Record<string, number> = {};
  const kidDistrict: Record<string, number> = {};
  for (let i = 1; i <= (o.districts ?? 48); i++) {
    const f = i % 11 === 0 ? int(1, 4) : int(20, 400);
    famDistrict[`district-${String(i).padStart(2, '0')}`] = f;
    kidDistrict[`district-${String(i).padStart(2, '0')}`] = f === 0 ? 0 : Math.round(f * (1.1 + rnd() * 0.6));
  }
  famDistrict['-'] = 12;
  kidDistrict['-'] = 15;
  for (const [name, v] of Object.entries(o.extraDistricts ?? {})) {
    famDistrict[name] = v.families;
    kidDistrict[name] = v.children;
  }
  const totalFamilies = Object.values(famDistrict).reduce((a, b) => a + b, 0);
  const totalChildren = Object.values(kidDistrict).reduce((a, b) => a + b, 0);
  const split = (total: number, keys: string[], small: number[] = []) => {
    const out: Record<string, number> = {};
    let left = total;
    keys.forEach((k, i) => {
      const n = i === keys.length - 1 ? left : small.includes(i) ? int(1, 4) : Math.min(left, Math.floor((left / (keys.length - i)) * (0.5 + rnd())));
      out[k] = Math.max(0, n);
      left -= out[k]!;
    });
    return out;
  };
  const tutors = [...Array.from({ length: o.tutors ?? 50 }, (_, i) => `T-${i + 1}`), 'queue'];
  const timed = (total: number, urgent?: number) => {
    const taken = Math.round(total * 0.85);
    const resolved = Math.round(total * 0.6);
    return {
      total, taken, resolved, ...(urgent === undefined ? {} : { urgent }),
      median_take_hours: taken >= 1 ? Math.round(rnd() * 700) / 10 + 2 : null,
      median_resolve_hours: resolved >= 1 ? Math.round(rnd() * 3000) / 10 + 24 : null,
    };
  };
  const byArea = Object.fromEntries(AREAS.map((a, i) => [a, timed(i === 2 ? 3 : int(15, 220), i === 2 ? 2 : int(0, 20))]));
  const needTotal = Object.values(byArea).reduce((s, v) => s + v.total, 0);
  const urgentTotal = Object.values(byArea).reduce((s, v) => s + (v.urgent ?? 0), 0);
  return {
    period: { from: weeks[0]!, to: new Date(Date.parse(weeks.at(-1)!) + 6 * 86_400_000).toISOString().slice(0, 10) },
    families: { total: totalFamilies, new: Math.round(totalFamilies / 9), by_language: split(totalFamilies, LANGUAGES, [9, 11]), by_district: famDistrict, by_tutor: split(totalFamilies, tutors, [7, 31]), by_channel: split(totalFamilies, ['telegram', 'whatsapp']) },
    children: { total: totalChildren, new: Math.round(totalChildren / 8), by_language: split(totalChildren, LANGUAGES, [11]), by_district: kidDistrict, by_tutor: split(totalChildren, tutors, [31]), by_channel: split(totalChildren, ['telegram', 'whatsapp']) },
    reminders: {
      sent: 0, done: 0, mandatory_overdue: 137, children_mandatory_overdue: 88,
      weekly: weeks.map((week, i) => ({ week, sent: i === 0 ? 3 : int(200, 900), done: i === 0 ? 2 : int(60, 500) })),
    },
    needs: {
      total: needTotal,
      by_area: byArea,
      by_urgency: { urgent: timed(urgentTotal), normal: timed(needTotal - urgentTotal) },
      weekly: weeks.map((week, w) => {
        const areas = Object.fromEntries(AREAS.map((a, i) => [a, i === 2 ? int(0, 1) : int(1, 30)]));
        const opened = Object.values(areas).reduce((x, y) => x + y, 0);
        // the second week: too few needs taken in charge or resolved for a median
        const taken = w === 1 ? 4 : Math.round(opened * 0.8);
        const resolved = w === 1 ? 3 : Math.round(opened * 0.5);
        return { week, areas, taken, resolved, median_take_hours: Math.round(rnd() * 400) / 10 + 1, median_resolve_hours: Math.round(rnd() * 2400) / 10 + 24 };
      }),
    },
    questions: { answered: 1480, helped: 905, forwarded: 312 },
    calls: { following: 640, applied: 212, by_kind: Object.fromEntries(KINDS.map((k, i) => [k, { following: i === 5 ? 4 : int(10, 200), applied: i === 5 ? 1 : int(0, 80) }])) },
    broadcasts: { total: o.broadcasts ?? 12, recipients: 0, queued: 0, sent: 0, delivered: 0, read: 0, failed: 0, held: 0, cancelled: 0, waiting: 0, skipped: 0, fallback: 0 },
  };
}

/** A broadcast as the desk shows it (counts already through the "<5" rule). */
function sampleBroadcasts(n: number, seed = 5): DeskBroadcast[] {
  const rnd = random(seed);
  const cell = (x: number) => (x > 0 && x < 5 ? ('<5' as const) : x);
  return Array.from({ length: n }, (_, i) => {
    const queued = 200 + Math.floor(rnd() * 3000);
    const sent = Math.round(queued * 0.93);
    const delivered = Math.round(sent * 0.8);
    return {
      ref: 40 - i,
      released_at: new Date(Date.UTC(2026, 10, 28 - i * 6, 8, 30)).toISOString(),
      status: i === 0 ? 'sending' : i === 3 ? 'cancelled' : 'done',
      counts: { queued: cell(queued), sent: cell(sent), delivered: cell(delivered), read: cell(Math.round(delivered * 0.6)), failed: cell(i % 4 === 1 ? 3 : queued - sent), held: cell(i % 3 === 0 ? 0 : 2), skipped: cell(i % 2 ? 17 : 1) },
    };
  });
}

/** The overview's data as the route hands it over: the report through publicFigures, the broadcasts' funnels. */
export function sampleOverview(o: SampleOptions = {}): DeskOverview {
  return { report: publicFigures(sampleReport(o)), broadcasts: sampleBroadcasts(o.broadcasts ?? 12) };
}
