// Tokens and pieces every kit element shares: public --wl-* custom properties read once into private
// --_* ones, light and dark defaults (prefers-color-scheme), status line, buttons and inputs.
import { css } from 'lit';

export const themeStyles = css`
  :host {
    --_color: var(--wl-color, #1f2328);
    --_background: var(--wl-background, Canvas);
    --_muted-color: var(--wl-muted-color, #57606a);
    --_border-color: var(--wl-border-color, #d0d7de);
    --_accent-color: var(--wl-accent-color, #0969da);
    --_selected-background: var(--wl-selected-background, #ddf4ff);
    --_range-color: var(--wl-range-color, #3f6fc6);
    --_mean-color: var(--wl-mean-color, #1d2b44);
    --_outlier-color: var(--wl-outlier-color, #c8341e);
    --_fence-color: var(--wl-fence-color, #9a6700);
    --_dead-color: var(--wl-dead-color, #8c959f);
    --_bar-color: var(--wl-bar-color, #3f6fc6);
    --_error-color: var(--wl-error-color, #b42318);
    --_radius: var(--wl-radius, 6px);
    --_font: var(--wl-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --plot-background: var(--_background);
    display: block;
    box-sizing: border-box;
    min-width: 0;
    color: var(--_color);
    /* The page's own background shows through; controls and sticky headers use the system Canvas colour. */
    background: var(--wl-background, transparent);
    font: 14px/1.4 var(--_font);
    color-scheme: light;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_color: var(--wl-color, #e6edf3);
      --_muted-color: var(--wl-muted-color, #9ea7b3);
      --_border-color: var(--wl-border-color, #3d444d);
      --_accent-color: var(--wl-accent-color, #4493f8);
      --_selected-background: var(--wl-selected-background, #1f3a5f);
      --_range-color: var(--wl-range-color, #79a6f2);
      --_mean-color: var(--wl-mean-color, #f0f6fc);
      --_outlier-color: var(--wl-outlier-color, #ff7b63);
      --_fence-color: var(--wl-fence-color, #e3b341);
      --_dead-color: var(--wl-dead-color, #6e7681);
      --_bar-color: var(--wl-bar-color, #79a6f2);
      --_error-color: var(--wl-error-color, #ff8f80);
      color-scheme: dark;
    }
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  .status {
    display: flex;
    align-items: center;
    gap: 0.75em;
    flex-wrap: wrap;
    padding: 0.5em 0;
    color: var(--_muted-color);
  }
  .status progress {
    flex: 1 1 10em;
    max-width: 24em;
    accent-color: var(--_accent-color);
  }
  .error {
    color: var(--_error-color);
    border-left: 3px solid var(--_error-color);
    padding: 0.5em 0.75em;
    overflow-wrap: anywhere;
  }
  button,
  input {
    font: inherit;
    color: inherit;
  }
  button {
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    background: transparent;
    padding: 0.25em 0.75em;
    cursor: pointer;
  }
  button:disabled {
    cursor: default;
    opacity: 0.6;
  }
  input {
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    background: var(--_background);
    padding: 0.25em 0.5em;
  }
  :focus-visible {
    outline: 2px solid var(--_accent-color);
    outline-offset: 2px;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
    border: 0;
  }
  table {
    border-collapse: collapse;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    padding: 0.25em 0.6em;
    border-bottom: 1px solid var(--_border-color);
    text-align: right;
    white-space: nowrap;
  }
  th:first-child,
  td:first-child {
    text-align: left;
  }
  details > summary {
    cursor: pointer;
    color: var(--_muted-color);
    padding: 0.25em 0;
  }
  .data-table {
    max-height: var(--wl-table-max-height, 20em);
    overflow: auto;
  }
`;

/** A focusable chart area filling the width, and the readout below it. */
export const chartStyles = css`
  .plot {
    position: relative;
    border-radius: var(--_radius);
    touch-action: pan-y;
    user-select: none;
    cursor: crosshair;
  }
  .plot svg {
    display: block;
    width: 100%;
    height: auto;
  }
  .readout {
    min-height: 1.4em;
    margin: 0.25em 0;
    font-variant-numeric: tabular-nums;
  }
  .hint {
    color: var(--_muted-color);
  }
  /* The channel being read (a line), or the bin (a band). */
  .cursor.line,
  .cursor.band {
    position: absolute;
    top: 0;
    bottom: 0;
    pointer-events: none;
  }
  .cursor.line {
    width: 0;
    border-left: 1px dashed var(--_muted-color);
  }
  .cursor.band {
    background: var(--_accent-color);
    opacity: 0.2;
  }
  /* The span being dragged out to zoom. */
  .brush {
    position: absolute;
    top: 0;
    bottom: 0;
    background: var(--_accent-color);
    opacity: 0.15;
    pointer-events: none;
  }
`;

/** The layer header (shared/layer-header.ts). */
export const headerStyles = css`
  .header {
    display: flex;
    flex-wrap: wrap;
    align-items: baseline;
    gap: 0.25em 1em;
    margin-bottom: 0.25em;
  }
  .layer-name {
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .layer-meta {
    color: var(--_muted-color);
  }
  .layer-notes {
    flex-basis: 100%;
    order: 1;
    color: var(--_muted-color);
    font-size: 0.9em;
  }
  .keys {
    display: inline-flex;
    flex-wrap: wrap;
    gap: 0.25em 0.9em;
    margin-left: auto;
    color: var(--_muted-color);
  }
  .key {
    display: inline-flex;
    align-items: center;
    gap: 0.3em;
  }
`;

/** A scrolling table of layers: its box, cells, left-aligned text columns and the sticky header row. */
export const tableStyles = css`
  .scroller {
    max-height: var(--wl-table-max-height, 24em);
    overflow: auto;
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    padding: 0.2em 0.6em;
    text-align: right;
    border-bottom: 1px solid var(--_border-color);
    white-space: nowrap;
  }
  .text {
    text-align: left;
  }
  tbody th {
    font-weight: normal;
    white-space: normal;
  }
  thead th {
    position: sticky;
    top: 0;
    background: var(--_background);
    z-index: 1;
  }
`;

/** The colours of a before/after comparison (<cle-compare>, <model-compare>: shared/layer-change-view.ts). */
export const changeStyles = css`
  :host {
    --_before-color: var(--wl-before-color, #6e7781);
    --_after-color: var(--wl-after-color, #0969da);
    --_change-color: var(--wl-change-color, #d4a72c);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_before-color: var(--wl-before-color, #9ea7b3);
      --_after-color: var(--wl-after-color, #58a6ff);
      --_change-color: var(--wl-change-color, #d29922);
    }
  }
`;

/** A layer named as a link-like button in a table row, and the selected row marked. */
export const layerRowStyles = css`
  button.layer-button {
    border: 0;
    background: none;
    padding: 0;
    font: inherit;
    text-align: inherit;
    color: var(--_accent-color);
    overflow-wrap: anywhere;
    text-decoration: underline;
    text-underline-offset: 2px;
  }
  tr.selected {
    background: var(--_selected-background);
  }
  tr.selected th {
    box-shadow: inset 3px 0 var(--_accent-color);
  }
`;
