/**
 * The language of the element's text, as a Lit reactive controller in the shape of Web Awesome's `LocalizeController`
 * (`readonly locale = new LocaleController(this)`): the language is the element's own `lang` or its closest ancestor's;
 * while the host is connected, a change of any `lang` attribute in its tree (or the arrival of a lazily loaded locale)
 * re-renders it.
 * @module
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { stringsFor, type VideoChatStrings } from './strings.js';

/** The element the controller serves: a Lit host with the page's overrides of the text (its `strings` property). */
export type LocaleHost = ReactiveControllerHost & HTMLElement & { readonly strings: Partial<VideoChatStrings> };

export class LocaleController implements ReactiveController {
  /** The language of the text, as of the last {@link strings} call: the element's `lang` or its closest ancestor's. */
  lang = '';
  readonly #host: LocaleHost;
  /** The strings last resolved, with the language and overrides they were resolved for. */
  #resolved: [lang: string, overrides: Partial<VideoChatStrings>, value: VideoChatStrings] | undefined;
  /** A `lang` attribute changed (anywhere in the host's tree), or a locale arrived: resolve the strings again. */
  readonly #changed = () => {
    this.#resolved = undefined;
    this.#host.requestUpdate();
  };
  readonly #observer = new MutationObserver(this.#changed);

  constructor(host: LocaleHost) {
    (this.#host = host).addController(this);
  }

  hostConnected(): void {
    this.#observer.observe(this.#host.getRootNode(), { attributeFilter: ['lang'], subtree: true });
  }

  hostDisconnected(): void {
    this.#observer.disconnect();
  }

  /** The strings for the host's language, with the page's overrides (`strings`) on top. */
  get strings(): VideoChatStrings {
    const host = this.#host;
    const lang = (this.lang = host.closest('[lang]')?.getAttribute('lang') ?? '');
    if (this.#resolved?.[0] !== lang || this.#resolved[1] !== host.strings) {
      this.#resolved = [lang, host.strings, stringsFor(lang, host.strings, this.#changed, host)];
    }
    return this.#resolved[2];
  }
}
