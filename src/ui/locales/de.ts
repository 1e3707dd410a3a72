/**
 * German (`de`). Not in the main module: loaded on first use by `stringsFor` (src/ui/strings.ts); in the script-tag
 * build this is the file `video-chat-de.js` next to `video-chat.js`.
 *
 * @module
 */
import type { VideoChatErrorCode } from '../../errors.js';
import type { VideoChatStrings } from '../strings.js';

const level = { good: 'gut', fair: 'mittel', poor: 'schlecht' } as const;

const de: VideoChatStrings = {
  statusNoConfig: 'Setzen Sie die Attribute room und signal-url, um zu beginnen.',
  statusIdle: 'Sie sind nicht im Gespräch.',
  statusConnecting: 'Verbinden…',
  statusWaiting: (room) => `Warten auf weitere Teilnehmende in „${room}“…`,
  statusInCall: (n) => `Im Gespräch mit ${n} ${n === 1 ? 'weiteren Person' : 'weiteren Personen'}.`,
  statusReconnecting: 'Verbindung zum Server verloren. Neuer Versuch…',
  statusError: 'Das Gespräch konnte nicht fortgesetzt werden.',
  you: 'Sie',
  youNamed: (name) => `${name} (Sie)`,
  guest: 'Gast',
  join: 'Gespräch beitreten',
  retry: 'Erneut versuchen',
  leave: 'Verlassen',
  controls: 'Gesprächssteuerung',
  microphone: 'Mikrofon',
  camera: 'Kamera',
  shareScreen: 'Bildschirm teilen',
  chat: 'Chat',
  devices: 'Geräte',
  speaker: 'Lautsprecher',
  yourName: 'Ihr Name',
  muteMicrophone: 'Mikrofon stummschalten',
  unmuteMicrophone: 'Mikrofon einschalten',
  cameraOff: 'Kamera ausschalten',
  cameraOn: 'Kamera einschalten',
  startSharing: 'Ihren Bildschirm teilen',
  stopSharing: 'Teilen Ihres Bildschirms beenden',
  sharing: 'Sie teilen Ihren Bildschirm.',
  sharingStopped: 'Bildschirmfreigabe beendet',
  stopShare: 'Teilen beenden',
  screenOf: (name) => `Bildschirm von ${name}`,
  videoOf: (name) => `Video von ${name}`,
  cameraOffOf: (name) => `${name}: Kamera aus`,
  microphoneOff: 'Mikrofon aus',
  microphoneOnNotice: 'Mikrofon an',
  microphoneOffNotice: 'Mikrofon aus',
  cameraOnNotice: 'Kamera an',
  cameraOffNotice: 'Kamera aus',
  peerJoined: (name) => `${name} ist beigetreten`,
  peerLeft: (name) => `${name} hat das Gespräch verlassen`,
  peerConnecting: 'Verbinden…',
  peerReconnecting: 'Verbindung wird wiederhergestellt…',
  peerFailed: 'Keine Verbindung möglich',
  enableSound: 'Klicken, um den Ton einzuschalten',
  pin: 'Anheften',
  fullScreen: 'Vollbild',
  pictureInPicture: 'Bild im Bild',
  quality: (q) =>
    `Verbindung ${level[q.level]}: ${q.rttMs === null ? '?' : Math.round(q.rttMs)} ms Umlaufzeit, ${Math.round(q.loss * 100)} % Verlust, ${Math.round(q.kbps ?? 0)} kbit/s`,
  unread: 'ungelesen',
  message: 'Nachricht',
  messagePlaceholder: 'Nachricht an alle',
  send: 'Senden',
  errors: {
    'permission-denied': 'Kein Zugriff auf Kamera oder Mikrofon. Sie können trotzdem zusehen und zuhören.',
    'insecure-context':
      'Kamera und Mikrofon brauchen eine sichere Seite: Diese Website muss über HTTPS ausgeliefert werden (oder beim ' +
      'Entwickeln von localhost). Sie können trotzdem zusehen und zuhören.',
    'origin-refused':
      'Der Videochat-Server nimmt keine Anrufe von dieser Website an: Sein Betreiber muss sie zu den erlaubten ' +
      'Ursprüngen hinzufügen (--allowed-origins).',
    'blocked-by-page':
      'Diese Seite erlaubt Kamera und Mikrofon nicht (ihre Permissions-Policy, oder ein iframe ohne ' +
      'allow="camera; microphone"). Sie können trotzdem zusehen und zuhören.',
    'no-device': 'Keine Kamera oder kein Mikrofon gefunden.',
    'device-busy': 'Kamera oder Mikrofon wird von einem anderen Programm verwendet.',
    'device-lost': 'Kamera oder Mikrofon ist nicht mehr verfügbar.',
    'relay-unreachable': 'Der Videochat-Server ist nicht erreichbar. Neuer Versuch…',
    'room-full': 'Dieser Raum ist voll. Versuchen Sie es später erneut.',
    unauthorized:
      'Sie dürfen diesem Raum nicht beitreten (die Einladung fehlt, ist abgelaufen oder gilt für einen anderen Raum).',
    'relay-error': 'Der Videochat-Server hat einen Fehler gemeldet.',
    'bad-config': 'Dieser Videochat ist falsch eingerichtet.',
    'peer-unreachable': 'Zu einer Person im Gespräch konnte keine Verbindung hergestellt werden.',
  } satisfies Record<VideoChatErrorCode, string>, // every code: the English messages are not in the table
};

export default de;
