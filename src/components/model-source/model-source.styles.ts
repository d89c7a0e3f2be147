import { css } from 'lit';

export const styles = css`
  .base {
    display: grid;
    gap: 0.75em;
  }
  .drop {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    padding: 1em;
    border: 2px dashed var(--_border-color);
    border-radius: var(--_radius);
  }
  .drop.over {
    border-color: var(--_accent-color);
    background: var(--_selected-background);
  }
  .file-button {
    display: inline-block;
    border: 1px solid var(--_accent-color);
    border-radius: var(--_radius);
    padding: 0.35em 0.9em;
    color: var(--_accent-color);
    font-weight: 600;
    cursor: pointer;
  }
  .file-input:focus-visible + .file-button {
    outline: 2px solid var(--_accent-color);
    outline-offset: 2px;
  }
  .hint {
    color: var(--_muted-color);
  }
  form {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em;
  }
  form input {
    flex: 1 1 16em;
    min-width: 0;
  }
  .done {
    color: var(--_muted-color);
    overflow-wrap: anywhere;
  }
`;
