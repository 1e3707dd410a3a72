/**
 * One message per state of the call and its relay, and "Try again" only where trying again can help: the status line
 * (`statusText`) and the error banner (`renderError`, read from the template it returns) for each state, with a faked
 * call (the View the element hands the templates).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nothing, type TemplateResult } from 'lit';
import { originRefusedError, VideoChatError, type VideoChatErrorCode } from '../../../src/errors.js';
import type { CallState } from '../../../src/types.js';
import { renderError, retryFor, statusText } from '../../../src/ui/status.js';
import { en } from '../../../src/ui/strings.js';
import type { View, ViewActions } from '../../../src/ui/view.js';

const actions = { join: () => undefined, retryMedia: () => undefined } as unknown as ViewActions;

/** The view of a call in `state` with `error` (null: none), as the element builds it. */
function view(state: CallState, error: VideoChatError | null, peers = 0): View {
  return {
    t: en,
    call: { state, error, peers: Array.from({ length: peers }, (_, i) => ({ id: `p${i}` })) },
    configured: true,
    room: 'lobby',
    preview: false,
    actions,
  } as unknown as View;
}

/** What a person sees: the status line, the banner's text, and what its button does (null: no button). */
function shown(v: View): { status: string; banner: string | null; retry: 'join' | 'media' | null } {
  const banner = renderError(v);
  if (banner === nothing) return { status: statusText(v), banner: null, retry: null };
  const [text, button] = (banner as TemplateResult).values as [string, TemplateResult | typeof nothing];
  if (button === nothing) return { status: statusText(v), banner: text, retry: null };
  assert.ok(button.strings.join('').includes('retry-button'), 'the button is the retry button');
  const handler = button.values[0];
  return { status: statusText(v), banner: text, retry: handler === actions.join ? 'join' : 'media' };
}

/** The errors the call layer raises for each relay state (src/call/call-controller.ts). */
const relayErrors: Record<string, VideoChatError> = {
  unreachable: new VideoChatError('relay-unreachable', 'Cannot reach the video chat server. Retrying…'),
  'origin refused': originRefusedError('https://blog.example'),
  unauthorized: new VideoChatError('unauthorized', 'You are not allowed to join this room.'),
  'room full': new VideoChatError('room-full', 'This room is full. Try again later.'),
  'closed by the relay': new VideoChatError('relay-error', 'The video chat server closed the connection (code 1008).'),
};

describe('status line and error banner', () => {
  it('connecting, waiting, in a call and reconnecting: the status line alone, no button', () => {
    for (const [state, text] of [
      ['connecting', en.statusConnecting],
      ['waiting', en.statusWaiting('lobby')],
      ['reconnecting', en.statusReconnecting],
    ] as const) {
      assert.deepEqual(shown(view(state, null)), { status: text, banner: null, retry: null }, state);
    }
    assert.deepEqual(shown(view('in-call', null, 2)), { status: en.statusInCall(2), banner: null, retry: null });
  });

  it('each relay failure: one message (the banner, the status line empty), a button only where retrying helps', () => {
    const expected: Record<string, 'join' | null> = {
      unreachable: null, // retries by itself: "Retrying…" beside "Try again" would contradict it
      'origin refused': null, // only the relay's operator can help
      unauthorized: null, // only the site (a token) can help
      'room full': 'join', // someone may leave
      'closed by the relay': 'join',
    };
    for (const [name, error] of Object.entries(relayErrors)) {
      assert.deepEqual(
        shown(view('error', error)),
        { status: '', banner: error.message, retry: expected[name] ?? null },
        name,
      );
    }
  });

  it('a media error beside a call: the call’s status and the camera banner; retry captures again where it can help', () => {
    const denied = new VideoChatError('permission-denied', 'Camera and microphone access was denied.');
    assert.deepEqual(shown(view('waiting', denied)), {
      status: en.statusWaiting('lobby'),
      banner: denied.message,
      retry: 'media',
    });
    const https = new VideoChatError('insecure-context', 'Camera and microphone need HTTPS.');
    assert.deepEqual(shown(view('in-call', https, 1)), {
      status: en.statusInCall(1),
      banner: https.message,
      retry: null,
    });
  });

  it('retryFor: none for the site owner’s errors and for relay-unreachable, else rejoin (error state) or capture', () => {
    const none: VideoChatErrorCode[] = [
      'insecure-context',
      'blocked-by-page',
      'origin-refused',
      'bad-config',
      'unauthorized',
    ];
    for (const code of none) assert.equal(retryFor('error', code), null, code);
    assert.equal(retryFor('error', 'relay-unreachable'), null);
    assert.equal(retryFor('error', 'room-full'), 'join');
    assert.equal(retryFor('error', 'peer-unreachable'), 'join');
    assert.equal(retryFor('in-call', 'device-busy'), 'media');
  });

  it('a localized text replaces the English message in the banner', () => {
    const v = { ...view('error', relayErrors['room full'] ?? null), t: { ...en, errors: { 'room-full': 'Voll.' } } };
    assert.equal(shown(v).banner, 'Voll.');
  });
});
