/**
 * German (`de`). Not in the main module: loaded on first use by `stringsFor` (src/ui/strings.ts); in the script-tag
 * build this is the file `video-chat-de.js` next to `video-chat.js`.
 *
 * @module
 */
import type { VideoChatErrorCode } from '../../errors.js';
import type { DiagnosisStrings, HostsStrings, VideoChatStrings } from '../strings.js';

const level = { good: 'gut', fair: 'mittel', poor: 'schlecht' } as const;

const de: VideoChatStrings = {
  statusNoConfig: 'Setzen Sie die Attribute room und signal-url, um zu beginnen.',
  statusIdle: 'Sie sind nicht im Gespräch.',
  statusConnecting: 'Verbinden…',
  statusWaiting: (room) => `Warten auf weitere Teilnehmende in „${room}“…`,
  statusInCall: (n) => `Im Gespräch mit ${n} ${n === 1 ? 'weiteren Person' : 'weiteren Personen'}.`,
  statusReconnecting: 'Verbindung zum Server verloren. Neuer Versuch…',
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
    denied: 'Die Gastgeberin oder der Gastgeber hat Sie nicht eingelassen.',
    'knock-timeout': 'Niemand hat Sie rechtzeitig eingelassen. Versuchen Sie es später erneut.',
    'room-locked': 'Dieser Raum ist abgeschlossen: Niemand Neues kann beitreten.',
    removed: 'Sie wurden von einer Gastgeberin oder einem Gastgeber aus dem Gespräch entfernt.',
    'call-ended': 'Das Gespräch wurde für alle beendet.',
    'chunk-failed': 'Ein Teil des Video-Chats konnte nicht geladen werden. Laden Sie die Seite später neu.',
  } satisfies Record<VideoChatErrorCode, string>, // every code: the English messages are not in the table
  hosts: {
    people: 'Teilnehmende',
    hand: 'Hand',
    raiseHand: 'Hand heben',
    lowerHand: 'Hand senken',
    react: 'Reagieren',
    reactions: 'Reaktionen',
    more: 'Mehr',
    waitingTitle: 'Warten, bis Sie eingelassen werden',
    waitingDetail: (hosts, minutes) =>
      `${hosts ? 'Die Gastgebenden wissen, dass Sie da sind.' : 'Noch ist niemand da, der Sie einlassen kann.'} Sie können bis zu ${minutes} Minuten warten.`,
    cancel: 'Abbrechen',
    knocks: (n) => `Warten auf Einlass (${n})`,
    admit: 'Einlassen',
    deny: 'Ablehnen',
    host: 'Gastgeber/in',
    handRaised: (n) => `Hand gehoben (${n})`,
    remove: 'Entfernen',
    askUnmute: 'Um Einschalten des Mikrofons bitten',
    lock: 'Raum abschließen',
    locked: 'Der Raum ist abgeschlossen: Niemand Neues kann beitreten.',
    endCall: 'Gespräch für alle beenden',
    asked: (host, on, camera) =>
      `${host || 'Jemand Gastgebendes'} bittet Sie, Ihr${camera ? 'e Kamera' : ' Mikrofon'} ${on ? 'einzuschalten' : 'auszuschalten'}.`,
    turnOn: 'Einschalten',
    turnOff: 'Ausschalten',
    notNow: 'Nicht jetzt',
    knocked: (name) => `${name || 'Ein Gast'} wartet auf Einlass`,
    admitted: (name) => `${name || 'Ein Gast'} wurde eingelassen`,
    handUp: (name) => `${name || 'Ein Gast'} hat die Hand gehoben`,
    roomLocked: 'Raum abgeschlossen',
    roomUnlocked: 'Raum geöffnet',
  } satisfies HostsStrings,
  diagnosis: {
    title: 'Einbettungsprüfung (debug)',
    running: 'Diese Seite wird geprüft…',
    checks: {
      'secure-context': 'Sicherer Kontext (HTTPS)',
      'permissions-policy': 'Permissions-Policy',
      relay: 'Videochat-Server',
      camera: 'Kamera',
      microphone: 'Mikrofon',
      udp: 'UDP (STUN)',
      turn: 'TURN-Server',
    },
    results: { pass: 'OK', fail: 'Problem', unknown: 'Unbekannt' },
    fixes: {
      'insecure-context':
        'Liefern Sie diese Seite über HTTPS aus (beim Entwickeln localhost): sonst bieten Browser keine Kamera an.',
      'blocked-by-page':
        'Erlauben Sie Kamera und Mikrofon: dem iframe allow="camera; microphone" geben und den Permissions-Policy-Header prüfen.',
      'csp-connect-src':
        'Nehmen Sie den Server in die Content-Security-Policy der Seite auf: connect-src wss://ihr-server.example.',
      'relay-unreachable': 'Prüfen Sie signal-url, ob der Server läuft und ob Proxys WebSocket-Upgrades durchlassen.',
      'origin-refused': 'Tragen Sie den Ursprung dieser Website in --allowed-origins des Servers ein.',
      unauthorized:
        'Setzen Sie ein gültiges token-Attribut: mit dem --token-secret des Servers signiert, für diesen Raum, nicht abgelaufen.',
      'relay-error': 'Der Server hat den Beitritt abgelehnt: siehe Details (Raumname, Server-Version).',
      'no-camera': 'Keine Kamera gefunden: schließen Sie eine an (ohne sie kann man trotzdem zusehen und sprechen).',
      'no-microphone':
        'Kein Mikrofon gefunden: schließen Sie eines an (ohne es kann man trotzdem zusehen und zuhören).',
      'permission-denied':
        'Der Browser verweigert dieses Gerät für diese Website: in den Website-Einstellungen erlauben.',
      'udp-blocked':
        'UDP ist gesperrt oder der STUN-Server unerreichbar: geben Sie dem Server einen TURN-Server (turns: auf Port 443).',
      'turn-refused':
        'Der TURN-Server lehnt die Zugangsdaten ab: --turn-secret des Servers muss das static-auth-secret von coturn sein.',
      'turn-unreachable': 'Der TURN-Server ist nicht erreichbar: --turn-urls, seine Ports und die Firewall prüfen.',
      'not-configured':
        'Nichts zu prüfen: signal-url setzen; dem Server STUN/TURN-Server für Besucher hinter NAT geben.',
      unsupported: 'Dieser Browser kann es nicht sagen; prüfen Sie es in Chromium.',
      timeout: 'Keine Antwort rechtzeitig: erneut prüfen; bleibt es so, gilt es als gesperrt.',
      skipped: 'Hängt von der Server-Prüfung ab: beheben Sie zuerst diese.',
    },
  } satisfies DiagnosisStrings,
};

export default de;
