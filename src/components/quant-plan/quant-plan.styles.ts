import { css } from 'lit';

export const styles = css`
  :host {
    --_after-color: var(--wl-accent-color, #0969da);
    --_change-color: var(--wl-change-color, #d4a72c);
    --_per-group-color: var(--wl-per-group-color, #8250df);
  }
  .budget,
  .actions {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    margin: 0 0 0.6em;
  }
  .budget input[type='number'] {
    width: 5em;
  }
  .budget input[type='range'] {
    flex: 1 1 10em;
    max-width: 20em;
  }
  .summary {
    margin: 0.4em 0;
  }
  .summary .warning {
    color: var(--_error-color);
  }
  .actions {
    margin-top: 0.6em;
  }
  .fixes {
    display: inline-flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
  }
  .file-button {
    display: inline-block;
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    padding: 0.25em 0.75em;
    cursor: pointer;
  }
  .file-input:focus-visible + .file-button {
    outline: 2px solid var(--_accent-color);
    outline-offset: 2px;
  }
  button.primary {
    background: var(--_accent-color);
    border-color: var(--_accent-color);
    color: var(--_background);
    font-weight: 600;
  }
  .result {
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
    margin: 0.6em 0;
  }
  .result p {
    margin: 0 0 0.4em;
  }
  .download-row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
  }
  .muted {
    color: var(--_muted-color);
  }
  .scroller {
    margin-top: 0.6em;
  }
  tbody th {
    overflow-wrap: anywhere;
  }
`;
