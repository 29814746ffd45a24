import type { TFunction } from 'i18next';
import type { DeskLanguage } from './i18n';

/** Text into HTML: the five characters that can end a text node or an attribute. */
export const esc = (s: string | number): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Data for the page's script, in a block the browser never runs; `<` escaped so no value can close the tag. */
export const jsonBlock = (id: string, value: unknown): string =>
  `<script type="application/json" id="${esc(id)}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;

/** No inline script or style anywhere: scripts, styles and images come from this server only; forms post here only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Every desk answer carries these: nothing cached (personal figures), no framing, and a referrer only to this site (a
 * link's secret never leaves it; "no-referrer" would also make the browser send `Origin: null` on our own forms).
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
};

export function htmlResponse(html: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...headers } });
}

/** The hidden field every desk form carries. */
export const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

/**
 * A form field's hint and errors, tied to it for screen readers: the attributes for the input (aria-describedby,
 * aria-invalid) and the two paragraphs to draw under it. `hint` and `errors` are HTML already escaped.
 */
export function fieldAids(id: string, hint: string, errors: readonly string[]): { attrs: string; hint: string; error: string } {
  const ids = [hint && `${id}-hint`, errors.length && `${id}-error`].filter(Boolean).join(' ');
  return {
    attrs: `${ids ? ` aria-describedby="${ids}"` : ''}${errors.length ? ' aria-invalid="true"' : ''}`,
    hint: hint ? `<p class="hint" id="${id}-hint">${hint}</p>` : '',
    error: errors.length ? `<p class="field-error" id="${id}-error">${errors.join(' ')}</p>` : '',
  };
}

export interface NavItem {
  href: string;
  label: string;
  current?: boolean;
}

export interface PageParts {
  lang: DeskLanguage;
  title: string;
  /** the page's main content, already escaped */
  body: string;
  /** signed in: the menu, the language switch and the sign-out form (with its CSRF token) */
  session?: { who: string; csrf: string; nav: NavItem[]; path: string };
  /** extra scripts from /desk/assets, after the content */
  scripts?: string[];
}

/** The desk's one page shell: a skip link, a header with the menu, the content, and the scripts. */
export function htmlPage(t: TFunction, p: PageParts): string {
  const s = p.session;
  const other: DeskLanguage = p.lang === 'it' ? 'en' : 'it';
  const header = s
    ? `<header class="top">
  <p class="brand">${esc(t('layout.brand'))}</p>
  <nav aria-label="${esc(t('layout.menu'))}"><ul>${s.nav.map((n) => `<li><a href="${esc(n.href)}"${n.current ? ' aria-current="page"' : ''}>${esc(n.label)}</a></li>`).join('')}</ul></nav>
  <div class="who">
    <span>${esc(s.who)}</span>
    <a href="${esc(`${s.path}?lang=${other}`)}" lang="${other}" hreflang="${other}">${esc(t('layout.switchLanguage'))}</a>
    <form method="post" action="/desk/logout"><input type="hidden" name="csrf" value="${esc(s.csrf)}"><button type="submit">${esc(t('layout.signOut'))}</button></form>
  </div>
</header>`
    : `<header class="top"><p class="brand">${esc(t('layout.brand'))}</p></header>`;
  return `<!doctype html>
<html lang="${p.lang}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(p.title)} · ${esc(t('layout.brand'))}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/desk/assets/desk.css">
</head>
<body>
<a class="skip" href="#main">${esc(t('layout.skip'))}</a>
${header}
<main id="main" tabindex="-1">
<h1>${esc(p.title)}</h1>
${p.body}
</main>
${(p.scripts ?? []).map((src) => `<script src="/desk/assets/${esc(src)}" defer></script>`).join('\n')}
</body>
</html>
`;
}
