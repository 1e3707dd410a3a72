/**
 * The participant list (the people button's panel): everyone in the call with microphone and camera state, role and
 * raised hand; for hosts the waiting queue on top (admit, deny), per participant "Lower hand", "Ask to unmute" and
 * "Remove", and the room's lock and "End call for everyone". Guests see the list and the lock, no host buttons (the
 * relay refuses their host actions anyway). Names are text in `<bdi>`.
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { Hosts } from '../call/hosts.js';
import { handMark } from './reactions.js';
import type { HostsStrings } from './strings.js';
import type { View } from './view.js';

export function renderPeople(v: View, s: HostsStrings, hosts: Hosts): TemplateResult {
  const { t, call } = v;
  const host = hosts.role === 'host';
  const media = (mic: boolean | null, camera: boolean | null) =>
    html`<span part="media-state" class="media-state">${[
      mic === null ? '' : mic ? t.microphoneOnNotice : t.microphoneOffNotice,
      camera === null ? '' : camera ? t.cameraOnNotice : t.cameraOffNotice,
    ]
      .filter(Boolean)
      .join(' · ')}</span>`;
  const row = (id: string | null, name: string, mic: boolean | null, camera: boolean | null) => {
    const raised = hosts.hands.includes(id);
    return html`<li part="participant" data-peer-id=${id ?? nothing}>
      <bdi>${name}</bdi>
      ${hosts.isHost(id) ? html`<span part="role" class="role">${s.host}</span>` : nothing}
      ${media(mic, camera)} ${handMark(s, hosts, id)}
      ${
        raised && (id === null || host)
          ? html`<button part="control-button lower-hand-button" @click=${() => hosts.lowerHand(id)}>${s.lowerHand}</button>`
          : nothing
      }
      ${
        host && id !== null
          ? html`${
              mic === false
                ? html`<button part="control-button ask-unmute-button" @click=${() => hosts.askUnmute(id)}>${s.askUnmute}</button>`
                : nothing
            }<button part="control-button remove-button" class="leave" @click=${() => hosts.remove(id)}>${s.remove}</button>`
          : nothing
      }
    </li>`;
  };
  return html`<section part="people" id="people" class="people" aria-labelledby="people-title">
    <h2 id="people-title">${s.people}</h2>
    ${
      host && hosts.knocks.length
        ? html`<h3>${s.knocks(hosts.knocks.length)}</h3>
          <ul>${hosts.knocks.map(
            (k) => html`<li part="knock"><bdi>${k.name || t.guest}</bdi>
              <button part="control-button admit-button" class="primary" @click=${() => hosts.admit(k.id)}>${s.admit}</button>
              <button part="control-button deny-button" @click=${() => hosts.deny(k.id)}>${s.deny}</button></li>`,
          )}</ul>`
        : nothing
    }
    <ul>
      ${row(null, v.name ? t.youNamed(v.name) : t.you, call.media.microphoneEnabled, call.media.cameraEnabled)}
      ${call.peers.map((p) => row(p.id, p.name || t.guest, p.microphone, p.camera))}
    </ul>
    ${hosts.locked ? html`<p>${s.locked}</p>` : nothing}
    ${
      host
        ? html`<div class="controls">
          <button part="control-button lock-button" class="toggle-on" aria-pressed=${String(hosts.locked)}
            @click=${() => hosts.lock(!hosts.locked)}>${s.lock}</button>
          <button part="control-button end-button" class="leave" @click=${() => hosts.end()}>${s.endCall}</button>
        </div>`
        : nothing
    }
  </section>`;
}
