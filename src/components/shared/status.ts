// The status line every element shows instead of its results: progress, an error, or a pointer to the
// error its model source already shows (one full message per model on a page).
import { html, nothing, type TemplateResult } from 'lit';
import type { Progress } from '../../progress.js';
import { timeLeft } from '../../text/duration.js';

/** A progress bar and what is being done (e.g. "Loading", "Equalizing"), with `extra` (a cancel button) after it. */
export function progressStatus(
  progress: Progress | undefined,
  doing: string,
  label: string,
  extra: unknown = nothing,
): TemplateResult {
  const percent = Math.round((progress?.fraction ?? 0) * 100);
  return html`<div part="status" class="status" role="status">
    <progress part="progress" max="100" value=${percent} aria-label=${label}>${percent}%</progress>
    <span
      >${doing}… ${percent}%${progress?.text ? ` — ${progress.text}` : nothing}${
        progress?.eta === undefined ? nothing : ` (${timeLeft(progress.eta)})`
      }</span
    >
    ${extra}
  </div>`;
}

/** An error message, announced at once. */
export function errorAlert(message: string, part = 'status error'): TemplateResult {
  return html`<div part=${part} class="status error" role="alert">${message}</div>`;
}

/**
 * For an element bound to a `<model-source>` whose model failed to load: the source shows the error;
 * this says where to read it, politely (a page of bound elements would otherwise announce it many times).
 */
export function sourceErrorReference(sourceId: string): TemplateResult {
  return html`<div part="status error" class="status error reference" role="status">
    The model failed to load — see the model source (#${sourceId}) for why.
  </div>`;
}
