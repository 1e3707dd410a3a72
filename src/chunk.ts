/**
 * The one way an on-demand chunk is fetched: `chunk('chat', () => import('./chat.js'), host)` instead of a bare
 * `import()`, so that a chunk that cannot be fetched (a server or CDN that has `video-chat.js` but not the chunk, a
 * deploy that replaced the hashed files, a CSP `script-src` that blocks its URL, offline) is reported, not silent.
 *
 * A failed fetch becomes a {@link VideoChatError} `chunk-failed` naming the file: the URL from the browser's error
 * (Chromium: "Failed to fetch dynamically imported module: <url>", Firefox: "error loading dynamically imported
 * module: <url>"), else `video-chat-<name>-….js`. The next use of that chunk (page-wide, by name) fetches it once more,
 * at `<url>?retry`: Firefox keeps a failed module fetch in the page's module map (HTML "fetch a single module script")
 * and would answer a second `import()` of the same URL with the same failure without asking the server. After that
 * second failure the chunk is not fetched again on this page: every later use gets the same error at once (no loop).
 * @module
 */
import { VideoChatError } from './errors.js';
import { VideoChatErrorEvent } from './events.js';

/**
 * Where a failure goes: fired as `vc-error` through the call's `CallHost` (`dispatch`), or handed to a function that
 * reports it itself (the element's panels show it; the call fails with it).
 */
export type ChunkReport = { dispatch(event: Event): void } | ((error: VideoChatError) => void);

/** Chunks whose fetch failed, by name: the URL to retry (`''`: none known) after one failure, the error after two. */
const failed: Record<string, string | VideoChatError> = {};

/**
 * Loads the chunk `name` (rollup's name for it: `engine` is `video-chat-engine-<hash>.js`) with `load`, its
 * `() => import('./….js')`.
 * @returns the module. When it cannot be fetched: without `report`, rejects with the `chunk-failed` error; with
 *   `report`, hands it there (fired as `vc-error`, or to the function) and stays pending: what would have used the
 *   chunk never runs, and a caller that keeps the promise does not ask again.
 */
export function chunk<T>(name: string, load: () => Promise<T>, report?: ChunkReport): Promise<T> {
  const last = failed[name];
  const loading =
    last instanceof VideoChatError
      ? Promise.reject(last)
      : last
        ? (import(/* @vite-ignore */ `${last}?retry`) as Promise<T>)
        : load();
  return loading.catch((cause: unknown) => {
    let error = cause;
    if (!(cause instanceof VideoChatError)) {
      const url = /\w+:\/\/\S+/.exec(String((cause as Error | undefined)?.message))?.[0] ?? '';
      error = new VideoChatError(
        'chunk-failed',
        `Could not load ${url || `video-chat-${name}-….js`}: serve all of dist/ next to video-chat.js (CSP: script-src).`,
        { cause },
      );
      failed[name] = last === undefined ? url : (error as VideoChatError);
    }
    if (!report) throw error;
    if (typeof report == 'function') report(error as VideoChatError);
    else report.dispatch(new VideoChatErrorEvent(error as VideoChatError));
    return new Promise<T>(() => undefined);
  });
}
