/**
 * WebSocket (RFC 6455) by hand on a raw TCP socket, for the tests that must send what no WebSocket client would:
 * broken frames (fuzz.test.ts), one byte per TCP segment, too many fragments (attacks.test.ts).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { withTimeout } from '../../with-timeout.js';
import { WAIT_MS } from './helpers.js';

/** The opening handshake (RFC 6455 §4.1) on 127.0.0.1:`port`; resolves with the socket (Nagle off) once the 101 arrived. */
export function rawHandshake(port: number): Promise<Socket> {
  return withTimeout(
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.setNoDelay(true);
        socket.write(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          socket.off('data', onData);
          if (head.startsWith('HTTP/1.1 101')) resolve(socket);
          else reject(new Error(head));
        }
      };
      socket.on('data', onData);
      socket.on('error', reject);
    }),
    WAIT_MS,
    'raw handshake',
  );
}

/** A masked client frame (RFC 6455 §5.2): `first` is the FIN/RSV/opcode byte; payloads up to 65 535 bytes. */
export function maskedFrame(first: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  const length =
    payload.length < 126
      ? Buffer.from([0x80 | payload.length])
      : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([Buffer.from([first]), length, mask, body]);
}
