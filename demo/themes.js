// Served by the relay: the relay is on this host. One room per visit (or ?room=NAME to share it).
const room = new URLSearchParams(location.search).get('room') || `themes-${Math.random().toString(36).slice(2, 8)}`;
for (const chat of document.querySelectorAll('video-chat')) {
  chat.setAttribute('signal-url', `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
  chat.setAttribute('room', room);
}
