/**
 * Tiles: the local preview, one tile per remote peer (with its pin, full-screen and Picture-in-Picture buttons and
 * connection quality), and the spotlight for a screen another peer shares.
 * @module
 */
import { html, nothing, type SVGTemplateResult, type TemplateResult } from 'lit';
import { srcObject } from './src-object.js';
import type { RemotePeer } from '../call/types.js';
import { icons } from './icons.js';
import type { View } from './view.js';

// Videos bind `.srcObject` through srcObject() (src-object.ts): Lit commits object values on every render, and assigning
// srcObject (even the same stream) restarts the element's load algorithm; srcObject() compares with the current value.

/** The spotlight (when a peer shares a screen), the "you are sharing" banner and the grid of tiles. */
export function renderStage(v: View): TemplateResult {
  const { call, t } = v;
  const presenter = call.peers.find((peer) => peer.screen);
  const pinned = call.peers.some((peer) => peer.id === v.pinned);
  return html`${presenter ? renderSpotlight(v, presenter) : nothing}
    ${
      call.media.screen
        ? html`<p part="sharing-banner" class="sharing">${t.sharing}
          <button part="control-button stop-share-button" @click=${v.actions.stopScreenShare}>${t.stopShare}</button></p>`
        : nothing
    }
    <div part="grid" class=${presenter || pinned ? 'grid strip' : 'grid'}>
      ${renderLocalTile(v)}
      ${call.peers.map((peer) => renderRemoteTile(v, peer))}
    </div>`;
}

export function renderLocalTile(v: View): TemplateResult {
  const media = v.call.media;
  const speaking = v.call.stats.speaker === null ? ' active-speaker' : '';
  return html`<figure part="tile local-tile${speaking}" class="tile local${speaking}">
    ${
      media.preview && media.cameraEnabled
        ? html`<video part="video local-video" .srcObject=${srcObject(media.preview)} .muted=${true} autoplay playsinline></video>`
        : html`<div class="placeholder" aria-hidden="true">${initials(v.name || v.t.you)}</div>`
    }
    <figcaption part="name" class="name">${v.name ? isolate(v.t.youNamed, v.name) : v.t.you}</figcaption>${v.hostsUi?.tile(v, null)}
  </figure>`;
}

function renderSpotlight(v: View, peer: RemotePeer): TemplateResult {
  const label = v.t.screenOf(peer.name || v.t.guest);
  return html`<figure part="spotlight" class="spotlight" data-peer-id=${peer.id}>
    <video part="video screen-video" data-peer-id=${peer.id} .srcObject=${srcObject(peer.screen)} .muted=${true} autoplay playsinline
      aria-label=${label}></video>
    <figcaption part="name" class="name">${isolate(v.t.screenOf, peer.name || v.t.guest)}</figcaption>
  </figure>`;
}

function renderRemoteTile(v: View, peer: RemotePeer): TemplateResult {
  const { t } = v;
  const hasVideo = peer.stream.getVideoTracks().length > 0;
  const label = peer.name || t.guest;
  const badge = { connecting: t.peerConnecting, reconnecting: t.peerReconnecting, failed: t.peerFailed }[
    peer.connection as string
  ];
  const quality = v.call.stats.quality.get(peer.id);
  const pinned = v.pinned === peer.id;
  const extra = `${v.call.stats.speaker === peer.id ? ' active-speaker' : ''}${pinned ? ' pinned' : ''}`;
  return html`<figure part="tile remote-tile${extra}" class="tile${extra}" data-peer-id=${peer.id}>
    <video part="video remote-video" data-peer-id=${peer.id} .srcObject=${srcObject(peer.stream)} autoplay playsinline
      aria-label=${t.videoOf(label)}></video>
    ${
      hasVideo && peer.camera !== false && !v.call.audioOnly
        ? nothing
        : html`<div class="placeholder" role="img" aria-label=${t.cameraOffOf(label)}>${initials(label)}</div>`
    }
    <figcaption part="name" class="name">${
      peer.microphone === false
        ? html`<svg part="mic-off" class="mic-off" viewBox="0 0 24 24" role="img" aria-label=${t.microphoneOff}>${icons.micOff}</svg>`
        : nothing
    }<bdi>${label}</bdi></figcaption>
    ${badge ? html`<span part="badge" class=${`badge ${peer.connection}`}>${badge}</span>` : nothing}${v.hostsUi?.tile(v, peer.id)}
    <div class="tools">
      ${tool('pin', pinned, t.pin, v.actions.pin, icons.pin)}
      ${
        document.fullscreenEnabled
          ? tool('tile-fullscreen', v.fullscreen === peer.id, t.fullScreen, v.actions.fullscreen, icons.fullscreen)
          : nothing
      }
      ${
        document.pictureInPictureEnabled && hasVideo
          ? tool('pip', undefined, t.pictureInPicture, v.actions.pip, icons.pip)
          : nothing
      }
    </div>
    ${
      quality
        ? html`<span part="quality" class="quality ${quality.level}" tabindex="0" role="img" aria-label=${t.quality(quality)}
          >${bars[quality.level]}</span>`
        : nothing
    }
    ${
      v.soundBlocked
        ? html`<button part="control-button sound-button" class="sound" @click=${v.actions.enableSound}>${t.enableSound}</button>`
        : nothing
    }
  </figure>`;
}

/**
 * `format(name)` with the name in a `<bdi>`: a right-to-left name, or a bidi override in it, cannot reorder the text
 * around it (e.g. "(you)").
 */
const isolate = (format: (name: string) => string, name: string) => {
  const [before, after] = format('\0').split('\0');
  return html`${before}<bdi>${name}</bdi>${after}`;
};

/** The quality indicator: signal bars, as many as the level is good. */
const bars = { good: '▂▄▆', fair: '▂▄', poor: '▂' };

/** An icon button of a tile (`tile-button` and `<name>-button` parts); a toggle when `pressed` is given. */
const tool = (
  name: string,
  pressed: boolean | undefined,
  label: string,
  click: (event: Event) => void,
  icon: SVGTemplateResult,
) =>
  html`<button part="tile-button ${name}-button" class="toggle-on" aria-pressed=${pressed === undefined ? nothing : String(pressed)} title=${label}
    @click=${click}><svg viewBox="0 0 24 24" aria-hidden="true">${icon}</svg></button>`;

/** Up to two initials of a name, for a tile without video. */
export const initials = (name: string): string =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0]?.toUpperCase() ?? '')
    .join('') || '?';
