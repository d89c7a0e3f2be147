import { css } from 'lit';

export const styles = css`
  section + section,
  .scroller + section,
  .scroller + .status {
    margin-top: 1.25em;
  }
  .summary {
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
    padding: 0.6em 0.9em;
  }
  .summary .files {
    margin: 0 0 0.4em;
    overflow-wrap: anywhere;
  }
  .facts {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25em 1.5em;
    margin: 0 0 0.4em;
    padding: 0;
    list-style: none;
  }
  .names p,
  .names ul {
    margin: 0.25em 0 0;
    overflow-wrap: anywhere;
  }
  .names ul {
    padding-left: 1.25em;
  }
  .warning > summary {
    color: var(--_error-color);
  }
  .scroller {
    max-height: var(--wl-table-max-height, 24em);
    overflow: auto;
    margin-top: 0.6em;
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
  }
  .scroller table {
    width: 100%;
  }
  .scroller th,
  .scroller td {
    white-space: nowrap;
  }
  .text {
    text-align: left;
  }
  .scroller tbody th {
    font-weight: normal;
    white-space: normal;
  }
  .scroller thead th {
    white-space: normal;
    vertical-align: bottom;
    position: sticky;
    top: 0;
    background: var(--_background);
    z-index: 1;
  }
  button.sort {
    border: 0;
    background: none;
    padding: 0;
    font: inherit;
    color: inherit;
    text-align: inherit;
    font-weight: 600;
  }
  .readout .outlier {
    color: var(--_outlier-color);
    font-weight: 600;
  }
`;
