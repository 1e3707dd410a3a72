import { staticCss } from './ui/static-css.js';

/**
 * Styles of `<video-chat>`. The page's rules on the host element itself (even `* {…}`) beat `:host`, so the text
 * styles are reset on the inner `.call` wrapper with `all: initial`; everything themable goes through the
 * `--video-chat-*` custom properties (which `all` does not reset) and `::part`.
 */
export const styles = staticCss`
  :host {
    display: block;
    container-type: inline-size;
  }
  /* The element lives in the box the page gives it: exactly its height when it has one (min/max 100%), else a default
     (16:9, at least 420px: 100cqw is the host's width). A column: the stage takes what the status line,
     banners and controls leave, so the controls are always inside the box. */
  .call {
    all: initial;
    display: flex;
    flex-direction: column;
    gap: var(--video-chat-gap, 8px);
    box-sizing: border-box;
    position: relative;
    height: max(56.25cqw, 420px);
    min-height: 100%;
    max-height: 100%;
    padding: var(--video-chat-gap, 8px);
    border-radius: var(--video-chat-radius, 12px);
    background: var(--video-chat-background, #111418);
    color: var(--video-chat-foreground, #f2f4f7);
    font: 14px/1.4 var(--video-chat-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
  }
  :host([hidden]),
  [hidden] {
    display: none !important;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  .status {
    margin: 0;
    min-height: 1.4em;
  }
  .error {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--video-chat-gap, 8px);
    padding: 8px 12px;
    border-radius: calc(var(--video-chat-radius, 12px) / 2);
    background: var(--video-chat-error-background, #5c1a1a);
  }
  /* The stage: tiles share its height (rows of 1fr), so any number of them fits. At most two columns, three from five
     tiles on (counted with :has(), so no style attribute is needed), fewer where tiles would be narrower than
     --video-chat-tile-min-width. */
  .grid {
    flex: 1 1 0;
    min-height: 0;
    position: relative;
    display: grid;
    gap: var(--video-chat-gap, 8px);
    grid-template-columns: repeat(auto-fit, minmax(max(min(100%, var(--video-chat-tile-min-width, 220px)),
      100% / var(--cols, 2) - var(--video-chat-gap, 8px)), 1fr));
    grid-auto-rows: minmax(0, 1fr);
  }
  .grid:has(> :nth-child(5)) {
    --cols: 3;
  }
  /* A pinned tile (first row, 3fr) above the others, or a strip of small tiles under the spotlight. */
  .grid.strip {
    grid-template-columns: repeat(auto-fill, minmax(min(100%, 140px), 1fr));
    grid-template-rows: minmax(0, 3fr);
  }
  form.grid {
    grid-template-rows: minmax(0, 1fr) auto;
  }
  .spotlight {
    flex: 3 1 0;
    position: relative;
    margin: 0;
    overflow: hidden;
    border-radius: var(--video-chat-radius, 12px);
    background: #000;
  }
  /* The pictures keep a third of the box when panels are open (a strip under a spotlight may give way). */
  .grid:not(.strip),
  .spotlight {
    min-height: 35%;
  }
  .spotlight video {
    object-fit: contain;
  }
  .sharing {
    display: flex;
    align-items: center;
    gap: var(--video-chat-gap, 8px);
    margin: 0;
  }
  .tile {
    position: relative;
    margin: 0;
    overflow: hidden;
    border-radius: var(--video-chat-radius, 12px);
    background: var(--video-chat-tile-background, #20252c);
    /* The active speaker's outline fades in (not under prefers-reduced-motion, see the end). */
    outline: 3px solid transparent;
    outline-offset: -3px;
    transition: outline-color 0.3s;
  }
  video {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
    background: transparent;
  }
  .local video {
    transform: scaleX(-1);
  }
  .placeholder {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    font-size: 2.5em;
    font-weight: 600;
    color: var(--video-chat-muted-foreground, #98a2b3);
  }
  .name,
  .badge {
    position: absolute;
    max-width: calc(100% - 16px);
    padding: 2px 8px;
    border-radius: 999px;
    background: rgb(0 0 0 / 0.6);
    color: #fff;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .name {
    left: 8px;
    bottom: 8px;
  }
  .badge {
    right: 8px;
    top: 8px;
  }
  .badge.reconnecting {
    animation: vc-late 0s 1.5s both;
  }
  @keyframes vc-late {
    from {
      visibility: hidden;
    }
  }
  .active-speaker {
    outline-color: var(--video-chat-speaking, #3ccb7f);
  }
  .pinned {
    grid-column: 1 / -1;
    order: -1;
  }
  /* The picture whole in full screen and when pinned (a wide row would crop most of it): its sender sends no more
     than this draws (ui/view-observer.ts). */
  .tile:fullscreen video,
  .pinned video {
    object-fit: contain;
  }
  /* A remote tile's buttons do not cover the picture: shown on hover and keyboard focus, always on touch screens. */
  .tools {
    position: absolute;
    left: 8px;
    top: 8px;
    display: flex;
    gap: 4px;
  }
  @media (hover: hover) {
    .tile:not(:hover) .tools:not(:focus-within) {
      opacity: 0;
    }
  }
  .tools button {
    min-height: 0;
    padding: 4px;
    background: rgb(0 0 0 / 0.6);
  }
  .quality {
    position: absolute;
    right: 8px;
    bottom: 8px;
    max-width: calc(100% - 16px);
    padding: 0 4px;
    background: rgb(0 0 0 / 0.6);
    color: #3ccb7f;
  }
  .fair {
    color: #fdb022;
  }
  .poor {
    color: #f97066;
  }
  /* The figures, on hover and on keyboard focus. */
  .quality:is(:hover, :focus)::after {
    content: ' ' attr(aria-label);
    color: #fff;
  }
  .mic-off {
    width: 14px;
    height: 14px;
    margin-right: 4px;
    vertical-align: -2px;
  }
  /* The open panels give way (scrolling) before the controls leave the box. */
  .chat,
  #devices {
    display: flex;
    flex-direction: column;
    min-height: 0;
  }
  .unread {
    min-width: 20px;
    padding: 0 6px;
    border-radius: 999px;
    background: var(--video-chat-danger, #b42318);
    font-size: 0.85em;
  }
  .controls {
    display: flex;
    justify-content: center;
    flex-wrap: wrap;
    gap: var(--video-chat-gap, 8px);
  }
  button {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    min-height: 40px;
    padding: 8px 14px;
    border: 0;
    border-radius: 999px;
    background: var(--video-chat-control-background, #2f3742);
    color: inherit;
    font: inherit;
    cursor: pointer;
  }
  button:hover {
    filter: brightness(1.2);
  }
  :focus-visible {
    outline: 3px solid var(--video-chat-focus-ring, #7cb7ff);
    outline-offset: 2px;
  }
  button[aria-pressed='false']:not(.toggle-on) {
    background: var(--video-chat-control-off-background, #b42318);
  }
  button.toggle-on[aria-pressed='true'] {
    background: var(--video-chat-accent, #1858c8);
  }
  button.leave {
    background: var(--video-chat-danger, #b42318);
  }
  button.primary {
    background: var(--video-chat-accent, #1858c8);
  }
  svg {
    width: 20px;
    height: 20px;
    fill: currentColor;
  }
  .sound {
    position: absolute;
    left: 50%;
    top: 50%;
    transform: translate(-50%, -50%);
    background: var(--video-chat-accent, #1858c8);
    z-index: 1;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  /* Boxes too narrow for the labelled control bar on one row: icon-only controls (the label stays the accessible name,
     hidden only visually). */
  @container (width < 900px) {
    .controls > button {
      padding: 8px;
    }
    .controls > button > span:not(.unread) {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }
  }
  /* Narrow boxes, once others are there: the self-view small in a corner above the grid. */
  @container (width < 480px) {
    div:not(.strip) > .local:not(:only-child) {
      position: absolute;
      z-index: 1;
      top: 8px;
      right: 8px;
      width: 32%;
      aspect-ratio: 4 / 3;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    * {
      transition: none !important;
      animation: none !important;
    }
  }
`;
