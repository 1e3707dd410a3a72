/**
 * Device choice (camera, microphone, speaker) for the settings panel and the pre-join screen, and the pre-join screen.
 * @module
 */
import { html, nothing, type CSSResult, type TemplateResult } from 'lit';
import { formStyles } from './form-styles.js';
import { staticCss } from './static-css.js';
import { renderLocalTile } from './tiles.js';
import type { View } from './view.js';

/**
 * One labelled `<select>` per kind with devices: camera, microphone and, where `HTMLMediaElement.setSinkId` exists,
 * speaker. Labels are empty before access was granted: then "Camera 1", "Camera 2", ….
 */
function renderDevices(v: View): TemplateResult[] {
  const { t, call } = v;
  const media = call.media;
  return (
    [
      ['videoinput', t.camera],
      ['audioinput', t.microphone],
      ['audiooutput', t.speaker],
    ] as const
  ).flatMap(([kind, label]) => {
    const list = media.devices.filter((d) => d.kind === kind);
    if (!list.length || (kind === 'audiooutput' && !('setSinkId' in HTMLMediaElement.prototype))) return [];
    return html`<label>${label}<select part="device-select ${kind}-select" data-kind=${kind}
        @change=${v.actions.chooseDevice}>${list.map(
          (d, i) => html`<option value=${d.deviceId}
          ?selected=${d.deviceId === media.chosen[kind]}>${d.label || `${label} ${i + 1}`}</option>`,
        )}</select></label>`;
  });
}

/** Before joining (attribute `prejoin`): camera preview, name, devices and the join button. */
export function renderPrejoin(v: View): TemplateResult {
  const { t } = v;
  return html`<form part="prejoin" class="grid" @submit=${v.actions.submitPrejoin}>
    ${renderLocalTile(v)}
    <div class="controls">
      <label>${t.yourName}<input part="name-input" name="name" maxlength="64" autocomplete="name" .value=${v.name} /></label>
      ${renderDevices(v)}
      <button part="control-button join-button" class="primary">${t.join}</button>
    </div>
  </form>`;
}

/** The settings panel of the call (toggled by the settings button). */
export const renderSettings = (v: View): TemplateResult | typeof nothing =>
  v.devicesOpen ? html`<div part="devices" id="devices" class="controls">${renderDevices(v)}</div>` : nothing;

/** The device panel's and pre-join screen's styles, adopted by the element with the panel. */
export const styles: readonly CSSResult[] = [
  formStyles,
  staticCss`
  #devices {
    flex-direction: row;
    overflow: auto;
  }
  `,
];
