/**
 * WhatsApp message templates on the desk: for each kind of message that may reach a family outside WhatsApp's
 * 24-hour window, and each language, the approved Twilio Content template (HX…) it goes as, set or cleared in a form.
 * Without one such a message is held until she writes again (bot/channels/whatsapp.ts). Every change is audited.
 */
import { LANGUAGES, isLanguage, type Language } from '../../bot/i18n';
import { call } from '../../bot/db/rpc';
import { csrfField, esc } from './html';
import type { DeskContext, DeskPage } from './page';

/** A stored template as desk_templates() returns it. */
export interface DeskTemplate {
  kind: string;
  language: string;
  content_sid: string;
  variables: string[];
  updated_at: string;
}

/**
 * The kinds that go to a family on a schedule, so may find her window closed, with the payload fields a new
 * template's {{1}}, {{2}}, … take by default (what the job puts in the payload for them). tutor_waiting sets
 * its own {{1}} (the tutor's name), so it needs none.
 */
export const TEMPLATE_KINDS: Record<string, string[]> = {
  reminder: ['child', 'date'],
  call_notice: ['title', 'date'],
  broadcast: ['notice'],
  tutor_waiting: [],
};

/** Twilio's Content SIDs: HX and 32 lowercase hex digits. */
export const CONTENT_SID = /^HX[0-9a-f]{32}$/;
const FIELD = /^[a-z_]{1,40}$/;
const KIND = /^[a-z_]{2,40}$/;

export type TemplateProblem = { field: 'content_sid' | 'variables'; key: 'sidMissing' | 'sidFormat' | 'variableFormat'; values?: Record<string, string> };

/** The form's two fields checked: a Content SID and the payload fields feeding its variables (comma or space separated). */
export function checkTemplate(sid: string, variables: string): { problems: TemplateProblem[]; sid: string; variables: string[] } {
  const problems: TemplateProblem[] = [];
  const s = sid.trim();
  if (!s) problems.push({ field: 'content_sid', key: 'sidMissing' });
  else if (!CONTENT_SID.test(s)) problems.push({ field: 'content_sid', key: 'sidFormat' });
  const list = variables.split(/[\s,]+/).map((v) => v.trim()).filter(Boolean);
  const bad = list.filter((v) => !FIELD.test(v));
  if (bad.length) problems.push({ field: 'variables', key: 'variableFormat', values: { fields: bad.join(', ') } });
  return { problems, sid: s, variables: list };
}

const loadTemplates = (ctx: DeskContext) => call<DeskTemplate[]>(ctx.db, 'desk_templates', { p_staff_id: ctx.staff.id });
/** The kinds shown: the scheduled ones, and any other a template is stored for (so it can be cleared). */
const kindsOf = (stored: DeskTemplate[]) => [...new Set([...Object.keys(TEMPLATE_KINDS), ...stored.map((t) => t.kind)])];
const languageName = (ctx: DeskContext, lng: string) => {
  const name = new Intl.DisplayNames([ctx.lang], { type: 'language' }).of(lng) ?? lng;
  return name.charAt(0).toLocaleUpperCase(ctx.lang) + name.slice(1);
};
/** A kind's name as text (the kind itself for one the desk has no words for): escape it where it meets HTML. */
const kindName = (ctx: DeskContext, kind: string) => {
  const key = `templates.kind.${kind}.name`;
  const name = ctx.t(key);
  return name === key ? kind : name;
};
/** The kind and language of /desk/templates/<kind>/<language>. */
const PATH = /^\/desk\/templates\/([a-z_]{2,40})\/([a-z]{2,3})\/?$/;

function doneNotice(ctx: DeskContext, kinds: string[]): string {
  for (const what of ['set', 'cleared'] as const) {
    const m = /^([a-z_]{2,40})\.([a-z]{2,3})$/.exec(ctx.url.searchParams.get(what) ?? '');
    if (m && kinds.includes(m[1]!) && isLanguage(m[2])) {
      return `<p class="done" role="status">${ctx.t(`templates.done.${what}`, { kind: kindName(ctx, m[1]!), language: languageName(ctx, m[2]) })}</p>`;
    }
  }
  return '';
}

async function listPage(ctx: DeskContext): Promise<Response> {
  const { t } = ctx;
  const stored = await loadTemplates(ctx);
  const kinds = kindsOf(stored);
  const sections = kinds.map((kind) => {
    const id = `kind-${kind}`;
    const missing = LANGUAGES.filter((l) => !stored.some((s) => s.kind === kind && s.language === l)).length;
    const rows = LANGUAGES.map((lng) => {
      const s = stored.find((x) => x.kind === kind && x.language === lng);
      return `<tr>
<th scope="row">${esc(languageName(ctx, lng))} <span class="code">(${lng})</span></th>
<td>${s ? `<code>${esc(s.content_sid)}</code>` : t('templates.none')}</td>
<td>${s ? (s.variables.length ? s.variables.map((v, i) => `<code>{{${i + 1}}}</code> ${esc(v)}`).join(', ') : t('templates.noVariables')) : ''}</td>
<td><a href="/desk/templates/${esc(kind)}/${lng}">${t(s ? 'templates.edit' : 'templates.add')}<span class="vh"> ${esc(kindName(ctx, kind))}, ${esc(languageName(ctx, lng))}</span></a></td>
</tr>`;
    }).join('\n');
    const cols = (['language', 'sid', 'variables', 'edit'] as const).map((k) => `<th scope="col">${t(`templates.column.${k}`)}</th>`).join('');
    const about = t(`templates.kind.${kind}.about`);
    return `<section aria-labelledby="${id}">
<h2 id="${id}">${esc(kindName(ctx, kind))} <span class="code">(${esc(kind)})</span></h2>
${about === `templates.kind.${kind}.about` ? '' : `<p>${about}</p>`}
<p class="note">${t('templates.missing', { count: missing })}</p>
<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows}
</tbody></table></div></section>`;
  }).join('\n');
  return ctx.render(t('templates.title'), `${doneNotice(ctx, kinds)}
<p>${t('templates.intro')}</p>
${sections}`);
}

interface FormState {
  kind: string;
  language: Language;
  stored?: DeskTemplate;
  values: { content_sid: string; variables: string };
  problems: TemplateProblem[];
}

function formPage(ctx: DeskContext, s: FormState, status = 200): Response {
  const { t } = ctx;
  const field = (name: 'content_sid' | 'variables', extra: string) => {
    const errors = s.problems.filter((p) => p.field === name).map((p) => t(`templates.problem.${p.key}`, p.values));
    const id = `f-${name}`;
    const ids = [`${id}-hint`, errors.length && `${id}-error`].filter(Boolean).join(' ');
    return `<div class="field">
<label for="${id}">${t(`templates.field.${name}.label`)}</label>
<p class="hint" id="${id}-hint">${t(`templates.field.${name}.hint`)}</p>
<input type="text" id="${id}" name="${name}" value="${esc(s.values[name])}" aria-describedby="${ids}"${errors.length ? ' aria-invalid="true"' : ''}${extra}>
${errors.length ? `<p class="field-error" id="${id}-error">${errors.join(' ')}</p>` : ''}</div>`;
  };
  const summary = s.problems.length
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
<h2 id="error-summary-title">${t('templates.form.summary')}</h2>
<ul>${s.problems.map((p) => `<li><a href="#f-${p.field}">${t(`templates.field.${p.field}.label`)}</a>: ${t(`templates.problem.${p.key}`, p.values)}</li>`).join('')}</ul>
</div>`
    : '';
  const action = `/desk/templates/${esc(s.kind)}/${s.language}`;
  const current = s.stored
    ? `<p>${t('templates.form.current')} <code>${esc(s.stored.content_sid)}</code></p>`
    : `<p class="warning">${t('templates.form.noneYet')}</p>`;
  const clear = s.stored
    ? `<section aria-labelledby="clear-title">
<h2 id="clear-title">${t('templates.clear.title')}</h2>
<form method="post" action="${action}" class="form">
${csrfField(ctx.csrf)}
<input type="hidden" name="op" value="clear">
<p>${t('templates.clear.text')}</p>
<p><button type="submit">${t('templates.clear.submit')}</button></p>
</form>
</section>`
    : '';
  const body = `${summary}${current}
<form method="post" action="${action}" class="form" novalidate>
${csrfField(ctx.csrf)}
<input type="hidden" name="op" value="set">
${field('content_sid', ' maxlength="34" autocapitalize="none" spellcheck="false" autocomplete="off"')}
${field('variables', ' autocapitalize="none" spellcheck="false" autocomplete="off"')}
<p class="actions"><button type="submit" class="primary">${t('templates.form.save')}</button> <a href="/desk/templates">${t('templates.form.back')}</a></p>
</form>
${clear}`;
  return ctx.render(t('templates.form.title', { kind: kindName(ctx, s.kind), language: languageName(ctx, s.language) }), body, { status });
}

/** The kind and language the path names, if the desk offers it, with the template stored for them. */
async function target(ctx: DeskContext): Promise<Omit<FormState, 'values' | 'problems'> | undefined> {
  const m = PATH.exec(ctx.url.pathname);
  if (!m || !KIND.test(m[1]!) || !isLanguage(m[2])) return undefined;
  const stored = await loadTemplates(ctx);
  if (!kindsOf(stored).includes(m[1]!)) return undefined;
  return { kind: m[1]!, language: m[2], stored: stored.find((s) => s.kind === m[1] && s.language === m[2]) };
}

const notFound = (ctx: DeskContext) => ctx.render(ctx.t('templates.title'), `<p>${ctx.t('templates.notFound')}</p><p><a href="/desk/templates">${ctx.t('templates.form.back')}</a></p>`, { status: 404 });
const text = (form: FormData, name: string) => { const v = form.get(name); return typeof v === 'string' ? v : ''; };

export const templatePages: DeskPage[] = [
  {
    path: '/desk/templates',
    nav: { label: 'templates.menu', order: 60, href: '/desk/templates' },
    get: (ctx) => listPage(ctx),
  },
  {
    path: PATH,
    async get(ctx) {
      const at = await target(ctx);
      if (!at) return notFound(ctx);
      const values = { content_sid: at.stored?.content_sid ?? '', variables: (at.stored?.variables ?? TEMPLATE_KINDS[at.kind] ?? []).join(', ') };
      return formPage(ctx, { ...at, values, problems: [] });
    },
    async post(ctx, form) {
      const at = await target(ctx);
      if (!at) return notFound(ctx);
      const where = `${at.kind}.${at.language}`;
      if (text(form, 'op') === 'clear') {
        // nothing stored: nothing to clear, and nothing to audit
        if (at.stored) {
          await call(ctx.db, 'desk_template_set', { p_staff_id: ctx.staff.id, p_kind: at.kind, p_language: at.language, p_content_sid: null, p_variables: [], p_now: ctx.now.toISOString() });
          ctx.logger.info({ desk: 'templates', op: 'cleared', kind: at.kind, language: at.language }, 'desk template cleared');
        }
        return ctx.redirect(`/desk/templates?cleared=${where}#kind-${at.kind}`);
      }
      const values = { content_sid: text(form, 'content_sid'), variables: text(form, 'variables') };
      const checked = checkTemplate(values.content_sid, values.variables);
      if (checked.problems.length) return formPage(ctx, { ...at, values, problems: checked.problems }, 422);
      await call(ctx.db, 'desk_template_set', {
        p_staff_id: ctx.staff.id, p_kind: at.kind, p_language: at.language, p_content_sid: checked.sid, p_variables: checked.variables, p_now: ctx.now.toISOString(),
      });
      ctx.logger.info({ desk: 'templates', op: 'set', kind: at.kind, language: at.language }, 'desk template set');
      return ctx.redirect(`/desk/templates?set=${where}#kind-${at.kind}`);
    },
  },
];
