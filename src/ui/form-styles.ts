/**
 * Styles of the form controls the on-demand panels share (the chat's field, the pre-join name field, the device
 * choices): a chunk of its own that the chat and device panels both import, so the script-tag file carries none of it.
 * @module
 */
import { staticCss } from './static-css.js';

export const formStyles = staticCss`
  label {
    display: grid;
    gap: 4px;
  }
  select,
  input {
    flex: 1;
    min-width: 0;
    padding: 8px 12px;
    border: 1px solid var(--video-chat-muted-foreground, #98a2b3);
    border-radius: 999px;
    background: transparent;
    color: inherit;
    font: inherit;
  }
  select {
    background: var(--video-chat-control-background, #2f3742);
  }
  select:focus-visible,
  input:focus-visible {
    outline: 3px solid var(--video-chat-focus-ring, #7cb7ff);
  }
`;
