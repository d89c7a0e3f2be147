import { css } from 'lit';

export const styles = css`
  section + section {
    margin-top: 1.25em;
  }
  .summary {
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
  }
  .facts {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25em 1.5em;
    margin: 0;
    padding: 0;
    list-style: none;
  }
  .facts .warning {
    color: var(--_error-color);
  }
  .skipped {
    margin: 0.4em 0 0;
  }
  .skipped ul {
    margin: 0.25em 0 0;
    padding-left: 1.25em;
  }
  .skipped .layers {
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .muted {
    color: var(--_muted-color);
  }
  .download-row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    margin-top: 0.6em;
  }
  .download-note {
    margin: 0.6em 0 0;
  }
  .download-row .download-note {
    margin: 0;
  }
  button.primary {
    background: var(--_accent-color);
    border-color: var(--_accent-color);
    color: var(--_background);
    font-weight: 600;
  }
  .overview-plot {
    cursor: pointer;
  }
  .readout .outlier {
    color: var(--_outlier-color);
    font-weight: 600;
  }
  tr.selected {
    background: var(--_selected-background);
  }
`;
