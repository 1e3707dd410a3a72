/**
 * Every piece of text `<video-chat>` shows or announces. Built-in locales are picked by the element's `lang`; a page
 * overrides any entry through the `strings` property (a partial table merged over the locale).
 *
 * @module
 */
import { chunk } from '../chunk.js';
import { VideoChatErrorEvent } from '../events.js';
import type { ConnectionQuality } from '../types.js';
import type { VideoChatErrorCode } from '../errors.js';
import type { DiagnosisCheckName, DiagnosisCode, DiagnosisResult } from '../diagnosis.js';

/** The embed doctor's list (attribute `debug`): its title, each check's name and result, and the fix for each code. */
export interface DiagnosisStrings {
  /** Heading of the list. */
  title: string;
  /** Shown while the checks run. */
  running: string;
  checks: Record<DiagnosisCheckName, string>;
  results: Record<DiagnosisResult, string>;
  /** What a site owner can do, by {@link DiagnosisCode}. */
  fixes: Record<DiagnosisCode, string>;
}

/**
 * The text of hosts and guests, hands and reactions (the waiting screen, the participant list, the hand and reaction
 * buttons, their announcements). English is in their own chunk (src/ui/room.ts), like the embed doctor's.
 */
export interface HostsStrings {
  /** The participant list: its button and heading. */
  people: string;
  /** The hand button's label, and its title while the hand is down / up. */
  hand: string;
  raiseHand: string;
  lowerHand: string;
  /** The reaction button's label, and the name of the row of reactions it opens. */
  react: string;
  reactions: string;
  /** The control bar's disclosure button that holds people, hand and react in a narrow box (and its group's name). */
  more: string;
  /** The waiting screen of a guest who knocked. */
  waitingTitle: string;
  /** `hosts`: how many hosts are in the room; `minutes`: the longest wait allowed. */
  waitingDetail: (hosts: number, minutes: number) => string;
  cancel: string;
  /** The waiting queue (hosts only) and its buttons. */
  knocks: (count: number) => string;
  admit: string;
  deny: string;
  /** A host's mark in the list. */
  host: string;
  /** A raised hand's place in the order (1 = first). */
  handRaised: (position: number) => string;
  remove: string;
  askUnmute: string;
  lock: string;
  /** Shown to everyone while the room is locked. */
  locked: string;
  endCall: string;
  /** A host's request to this visitor (`ask-unmute`: turn on; `mute-request`: turn off) and its two answers. */
  asked: (host: string, on: boolean, camera: boolean) => string;
  turnOn: string;
  turnOff: string;
  notNow: string;
  /** Announcements in the polite live region. */
  knocked: (name: string) => string;
  admitted: (name: string) => string;
  handUp: (name: string) => string;
  roomLocked: string;
  roomUnlocked: string;
}

/** The user-visible strings of `<video-chat>`. Functions receive the variable parts (names, counts). */
export interface VideoChatStrings {
  statusNoConfig: string;
  statusIdle: string;
  statusConnecting: string;
  statusWaiting: (room: string) => string;
  statusInCall: (others: number) => string;
  statusReconnecting: string;
  you: string;
  /** Label of the local tile when a name is set. */
  youNamed: (name: string) => string;
  /** Name shown for a peer that gave none. */
  guest: string;
  join: string;
  retry: string;
  leave: string;
  controls: string;
  microphone: string;
  camera: string;
  shareScreen: string;
  chat: string;
  /** The settings button (device choice). */
  devices: string;
  speaker: string;
  /** Label of the name field before joining. */
  yourName: string;
  muteMicrophone: string;
  unmuteMicrophone: string;
  cameraOff: string;
  cameraOn: string;
  startSharing: string;
  stopSharing: string;
  /** Announced / shown while this visitor shares a screen. */
  sharing: string;
  sharingStopped: string;
  stopShare: string;
  screenOf: (name: string) => string;
  videoOf: (name: string) => string;
  cameraOffOf: (name: string) => string;
  microphoneOff: string;
  /** Announced when the microphone / camera is switched. */
  microphoneOnNotice: string;
  microphoneOffNotice: string;
  cameraOnNotice: string;
  cameraOffNotice: string;
  peerJoined: (name: string) => string;
  peerLeft: (name: string) => string;
  peerConnecting: string;
  /** A connection that was up is interrupted (shown after 1.5 s, so brief drops do not flash). */
  peerReconnecting: string;
  peerFailed: string;
  enableSound: string;
  /** Tile buttons (their `title`); `fullScreen` also labels the control that shows the whole element full screen. */
  pin: string;
  fullScreen: string;
  pictureInPicture: string;
  /** A peer's connection quality and its figures (round trip in ms, loss as a fraction, kbps). */
  quality: (q: ConnectionQuality) => string;
  unread: string;
  message: string;
  messagePlaceholder: string;
  send: string;
  /** Readable error texts by {@link VideoChatErrorCode}; a missing entry shows the error's own (English) message. */
  errors: Partial<Record<VideoChatErrorCode, string>>;
  /**
   * The embed doctor's text (attribute `debug`), merged over English. English is in the doctor's own chunk
   * (src/ui/diagnosis.ts), so the script-tag file carries none of it (and `en` has no entry).
   */
  diagnosis?: Partial<DiagnosisStrings>;
  /** Hosts and guests, hands and reactions, merged over English (which is in their own chunk, src/ui/room.ts). */
  hosts?: Partial<HostsStrings>;
}

/** English (the default). */
export const en: VideoChatStrings = {
  statusNoConfig: 'Set the room and signal-url attributes to start.',
  statusIdle: 'You are not in the call.',
  statusConnecting: 'Connecting…',
  statusWaiting: (room) => `Waiting for others to join “${room}”…`,
  statusInCall: (n) => `In call with ${n} ${n === 1 ? 'other person' : 'other people'}.`,
  statusReconnecting: 'Connection to the server lost. Reconnecting…',
  you: 'You',
  youNamed: (name) => `${name} (you)`,
  guest: 'Guest',
  join: 'Join call',
  retry: 'Try again',
  leave: 'Leave',
  controls: 'Call controls',
  microphone: 'Microphone',
  camera: 'Camera',
  shareScreen: 'Share screen',
  chat: 'Chat',
  devices: 'Devices',
  speaker: 'Speaker',
  yourName: 'Your name',
  muteMicrophone: 'Mute microphone',
  unmuteMicrophone: 'Unmute microphone',
  cameraOff: 'Turn camera off',
  cameraOn: 'Turn camera on',
  startSharing: 'Share your screen',
  stopSharing: 'Stop sharing your screen',
  sharing: 'You are sharing your screen.',
  sharingStopped: 'Screen sharing stopped',
  stopShare: 'Stop sharing',
  screenOf: (name) => `${name}’s screen`,
  videoOf: (name) => `Video of ${name}`,
  cameraOffOf: (name) => `${name}: camera off`,
  microphoneOff: 'Microphone off',
  microphoneOnNotice: 'Microphone on',
  microphoneOffNotice: 'Microphone off',
  cameraOnNotice: 'Camera on',
  cameraOffNotice: 'Camera off',
  peerJoined: (name) => `${name} joined`,
  peerLeft: (name) => `${name} left`,
  peerConnecting: 'Connecting…',
  peerReconnecting: 'Reconnecting…',
  peerFailed: 'Could not connect',
  enableSound: 'Click to enable sound',
  pin: 'Pin',
  fullScreen: 'Full screen',
  pictureInPicture: 'Picture in picture',
  quality: (q) =>
    `Connection ${q.level}: ${q.rttMs === null ? '?' : Math.round(q.rttMs)} ms round trip, ${Math.round(q.loss * 100)}% loss, ${Math.round(q.kbps ?? 0)} kbps`,
  unread: 'unread',
  message: 'Message',
  messagePlaceholder: 'Message everyone',
  send: 'Send',
  errors: {},
};

/** Built-in locales by primary language subtag (BCP 47); the others below are added once loaded. */
export const locales: Record<string, VideoChatStrings> = { en };

/**
 * Built-in locales kept out of the main module: each is its own file (in the script-tag build a chunk next to
 * `video-chat.js`, e.g. `video-chat-de.js`), imported the first time an element needs it.
 */
const lazy: Record<string, () => Promise<{ default: VideoChatStrings }>> = { de: () => import('./locales/de.js') };
const loading: Record<string, Promise<unknown>> = {};

/**
 * The strings for a language tag (`de-AT` → `de`), English when there is no such locale, with `overrides` on top.
 * A built-in locale that is not loaded yet gives English now and starts loading it (src/chunk.ts); `loaded` is called
 * when it is there. If it cannot be fetched the text stays English, `vc-error` `chunk-failed` is fired on `report`
 * and the next call for that language tries once more.
 */
export function stringsFor(
  lang: string,
  overrides: Partial<VideoChatStrings> = {},
  loaded?: () => void,
  report?: EventTarget,
): VideoChatStrings {
  const code = lang.toLowerCase().split('-')[0] ?? '';
  const load = lazy[code];
  if (!locales[code] && load && loaded) {
    void (loading[code] ??= chunk(code, load, (error) => {
      delete loading[code];
      report?.dispatchEvent(new VideoChatErrorEvent(error));
    }).then((m) => (locales[code] = m.default))).then(loaded);
  }
  const base = locales[code] ?? en;
  return { ...base, ...overrides, errors: { ...base.errors, ...overrides.errors } };
}
