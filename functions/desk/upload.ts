/**
 * A CSV uploaded on the desk, the same way in every area that takes one (calls, knowledge base, ...): the file read
 * with the size and UTF-8 checks, and the form with the file's problem or its bad lines, each as `line: reason`, beside
 * the file field. Nothing is imported when any line is bad: the area checks every row before it writes.
 */
import { csrfField, esc } from './html';
import type { DeskContext } from './page';

/** The largest CSV the desk takes: a programme's calls, services or calendar fit in a few kilobytes. */
export const MAX_UPLOAD_BYTES = 1024 * 1024;

/** The keys of the words an area's upload says; each area keeps its own (the calls' predate this module). */
export interface UploadWords {
  title: string;
  intro: string;
  file: string;
  submit: string;
  failed: string;
  line: string;
  noFile: string;
  tooBig: string;
  notUtf8: string;
}

/** The words of the areas that came after the calls: one subtree, `upload`, in locales/desk. */
export const UPLOAD_WORDS: UploadWords = {
  title: 'upload.title',
  intro: 'upload.intro',
  file: 'upload.file',
  submit: 'upload.submit',
  failed: 'upload.failed',
  line: 'upload.line',
  noFile: 'upload.noFile',
  tooBig: 'upload.tooBig',
  notUtf8: 'upload.notUtf8',
};

/** What went wrong with an upload: the file itself (message, already HTML-safe) or its lines (each reason HTML). */
export interface UploadOutcome {
  message?: string;
  lines?: { line: number; reason: string }[];
}

/** The file's text, or why it is refused (with the status to answer). */
export async function readUpload(ctx: DeskContext, form: FormData, words: UploadWords): Promise<{ text: string } | { message: string; status: number }> {
  const file = form.get('file');
  if (!(file instanceof File) || file.size === 0) return { message: ctx.t(words.noFile), status: 422 };
  if (file.size > MAX_UPLOAD_BYTES) return { message: ctx.t(words.tooBig, { size: (file.size / MAX_UPLOAD_BYTES).toFixed(1) }), status: 413 };
  const text = await file.text();
  // a spreadsheet's "CSV" in Windows-1252 decodes with replacement characters: refused, not imported garbled
  if (text.includes('\uFFFD')) return { message: ctx.t(words.notUtf8), status: 422 };
  return { text };
}

export interface UploadForm {
  /** the section's heading id, e.g. calls-import */
  id: string;
  /** where the form posts */
  action: string;
  words: UploadWords;
  /** values for the intro (e.g. the columns) */
  intro?: Record<string, unknown>;
  /** HTML between the intro and the form (e.g. a download link) */
  extra?: string;
  outcome?: UploadOutcome;
}

/** The upload's section: the form, and beside the file field what was wrong with the last file. */
export function uploadSection(ctx: DeskContext, f: UploadForm): string {
  const { t } = ctx;
  const outcome = f.outcome ?? {};
  const failed = outcome.message !== undefined || !!outcome.lines?.length;
  const lines = (outcome.lines ?? []).map((e) => `<li><strong>${t(f.words.line, { line: e.line })}</strong>: ${e.reason}</li>`).join('\n');
  const report = outcome.message !== undefined
    ? `<p class="field-error" id="import-error">${outcome.message}</p>`
    : lines ? `<div class="field-error" id="import-error"><p>${t(f.words.failed)}</p><ul class="lines">\n${lines}\n</ul></div>` : '';
  return `<section aria-labelledby="${f.id}" class="import">
<h2 id="${f.id}">${t(f.words.title)}</h2>
<p>${t(f.words.intro, f.intro ?? {})}</p>
${f.extra ?? ''}<form method="post" action="${esc(f.action)}" enctype="multipart/form-data" class="form">
${csrfField(ctx.csrf)}
<div class="field">
<label for="import-file">${t(f.words.file)}</label>
<input type="file" id="import-file" name="file" accept=".csv,text/csv" required${failed ? ' aria-invalid="true" aria-describedby="import-error"' : ''}>
${report}
</div>
<p><button type="submit" class="primary">${t(f.words.submit)}</button></p>
</form>
</section>`;
}
