/**
 * The control bar: join (before the call), or microphone, camera, screen share, chat and leave (during it).
 * @module
 */
import { html, nothing, type TemplateResult } from 'lit';
import { icons } from './icons.js';
import type { View } from './view.js';

export function renderControls(v: View, inCall: boolean): TemplateResult {
  const { t, actions } = v;
  if (!inCall) {
    return v.call.state === 'idle' && v.configured
      ? html`<div part="controls" class="controls">
          <button part="control-button join-button" class="primary" @click=${actions.join}>${t.join}</button>
        </div>`
      : html``;
  }
  const media = v.call.media;
  const mic = media.microphoneEnabled;
  const camera = media.cameraEnabled;
  /** `?hidden` for a button the `controls` attribute leaves out. */
  const off = (control: string) => !(v.controls?.includes(control) ?? true);
  return html`${v.deviceUi?.renderSettings(v)}<div part="controls" class="controls" role="toolbar" aria-label=${t.controls}>
    <button part="control-button mic-button" ?hidden=${off('microphone')} aria-pressed=${mic ? 'true' : 'false'} ?disabled=${!media.track('audio')}
      title=${mic ? t.muteMicrophone : t.unmuteMicrophone} @click=${actions.toggleMicrophone}>
      <svg viewBox="0 0 24 24" aria-hidden="true">${icons.mic}</svg><span>${t.microphone}</span>
    </button>
    <button part="control-button camera-button" ?hidden=${off('camera')} aria-pressed=${camera ? 'true' : 'false'} ?disabled=${!media.track('video')}
      title=${camera ? t.cameraOff : t.cameraOn} @click=${actions.toggleCamera}>
      <svg viewBox="0 0 24 24" aria-hidden="true">${icons.camera}</svg><span>${t.camera}</span>
    </button>
    ${
      navigator.mediaDevices && 'getDisplayMedia' in navigator.mediaDevices
        ? html`<button part="control-button screen-button" ?hidden=${off('screen')} aria-pressed=${media.screen ? 'true' : 'false'} class="toggle-on"
          title=${media.screen ? t.stopSharing : t.startSharing} @click=${actions.toggleScreenShare}>
          <svg viewBox="0 0 24 24" aria-hidden="true">${icons.screen}</svg><span>${t.shareScreen}</span>
        </button>`
        : nothing
    }
    <button part="control-button chat-button" ?hidden=${off('chat')} aria-expanded=${v.chatOpen ? 'true' : 'false'} aria-controls="chat"
      @click=${actions.toggleChat}>
      <svg viewBox="0 0 24 24" aria-hidden="true">${icons.chat}</svg><span>${t.chat}</span>
      ${
        v.unread > 0
          ? html`<span part="unread" class="unread">${v.unread}<span class="visually-hidden"> ${t.unread}</span></span>`
          : nothing
      }
    </button>
    <button part="control-button settings-button" ?hidden=${off('settings')} aria-expanded=${v.devicesOpen ? 'true' : 'false'} aria-controls="devices"
      @click=${actions.toggleDevices}>
      <svg viewBox="0 0 24 24" aria-hidden="true">${icons.settings}</svg><span>${t.devices}</span>
    </button>
    ${
      document.fullscreenEnabled
        ? html`<button part="control-button fullscreen-button" ?hidden=${off('fullscreen')} class="toggle-on" aria-pressed=${v.fullscreen === '' ? 'true' : 'false'}
          @click=${actions.fullscreen}><svg viewBox="0 0 24 24" aria-hidden="true">${icons.fullscreen}</svg><span>${t.fullScreen}</span></button>`
        : nothing
    }
    ${v.hostsUi?.buttons(v)}
    <button part="control-button leave-button" ?hidden=${off('leave')} class="leave" @click=${actions.leave}>
      <svg viewBox="0 0 24 24" aria-hidden="true">${icons.leave}</svg><span>${t.leave}</span>
    </button>
  </div>`;
}
