// The demo page is served by the relay, so the relay is on the same host: ws(s)://<this host>/.
const params = new URLSearchParams(location.search);
const room = params.get('room') || 'lobby';
const name = params.get('name') || '';
const form = document.getElementById('settings');
form.room.value = room;
form.name.value = name;
form.lang.value = params.get('lang') === 'de' ? 'de' : 'en';
form.prejoin.checked = params.has('prejoin');
const chat = document.getElementById('chat');
chat.setAttribute('name', name);
chat.setAttribute('lang', form.lang.value);
// prejoin: a camera preview, device choice and the name before joining.
chat.toggleAttribute('prejoin', form.prejoin.checked);
chat.setAttribute('signal-url', `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
chat.setAttribute('room', room);
