import { css } from 'lit';

export const styles = css`
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    margin-bottom: 0.5em;
  }
  .toolbar input {
    flex: 1 1 12em;
    max-width: 24em;
  }
  .count {
    color: var(--_muted-color);
  }
  .scroller {
    max-height: var(--wl-layer-table-max-height, 32em);
    overflow: auto;
    border: 1px solid var(--_border-color);
    border-radius: var(--_radius);
  }
  table {
    width: 100%;
  }
  thead th {
    position: sticky;
    top: 0;
    z-index: 1;
    background: var(--_background);
    padding: 0;
    box-shadow: inset 0 -1px 0 var(--_border-color);
    border-bottom: 0;
  }
  thead button {
    display: inline-flex;
    align-items: center;
    justify-content: inherit;
    gap: 0.3em;
    width: 100%;
    border: 0;
    border-radius: 0;
    padding: 0.4em 0.6em;
    font-weight: 600;
    text-align: inherit;
  }
  /* Headers line up with their values: text columns left, numbers right. */
  thead th:not(.text) button {
    justify-content: flex-end;
  }
  .arrow {
    display: inline-block;
    width: 0.8em;
    color: var(--_muted-color);
  }
  tbody tr:not(.spacer) {
    cursor: pointer;
  }
  tbody tr:not(.spacer):hover {
    background: color-mix(in srgb, var(--_selected-background) 50%, transparent);
  }
  tbody tr[aria-current='true'] {
    background: var(--_selected-background);
    box-shadow: inset 3px 0 0 var(--_accent-color);
  }
  tbody tr:focus-visible {
    outline-offset: -2px;
  }
  td.name {
    text-align: left;
    white-space: normal;
    overflow-wrap: anywhere;
    min-width: 10em;
  }
  /* Too narrow even without the columns that give way: the table scrolls, the names stay in view. */
  td.name,
  thead th:first-child {
    position: sticky;
    left: 0;
  }
  td.name {
    z-index: 0;
    background: var(--_background);
    box-shadow: inset -1px 0 0 var(--_border-color);
  }
  thead th:first-child {
    z-index: 2;
  }
  tbody tr:hover td.name {
    background: color-mix(in srgb, var(--_selected-background) 50%, var(--_background));
  }
  tbody tr[aria-current='true'] td.name {
    background: var(--_selected-background);
  }
  td.op,
  td.text {
    text-align: left;
  }
  td.flag {
    color: var(--_outlier-color);
    font-weight: 600;
  }
  .empty {
    padding: 1em;
    color: var(--_muted-color);
  }
`;
