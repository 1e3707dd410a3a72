/**
 * The device panel's chunk (`video-chat-devices-panel-<hash>.js`, loaded by `panels.ts` with the pre-join screen or
 * the first opening of the device settings): the pre-join screen and the settings panel (`devices.ts`) and what their
 * controls do, so that the script-tag file carries none of it.
 * @module
 */
export { renderPrejoin, renderSettings, styles } from './devices.js';

/** What the controls need of the element (`VideoChatElement`'s `name`, `join()` and `setDevice()`). */
export interface DevicesHost {
  name: string;
  join(): void;
  setDevice(kind: MediaDeviceKind, deviceId: string): Promise<void>;
}

/** A device `<select>` changed: that device is used (`data-kind` names the kind); a failure is the call's `vc-error`. */
export function chooseDevice(event: Event, host: DevicesHost): void {
  const select = event.currentTarget as HTMLSelectElement;
  void host.setDevice(select.dataset['kind'] as MediaDeviceKind, select.value).catch(() => undefined);
}

/** The pre-join form's submit: joins with the name typed there. */
export function submitPrejoin(event: Event, host: DevicesHost): void {
  event.preventDefault();
  host.name = ((event.currentTarget as HTMLFormElement).elements.namedItem('name') as HTMLInputElement).value.trim();
  host.join();
}
