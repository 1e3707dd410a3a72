/**
 * The client address a connection is counted under, for the connections-per-address limit.
 *
 * - IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as the IPv4 address.
 * - Other IPv6 addresses count by their /64 prefix: one subscriber usually gets a whole /64 (RFC 6177), so counting
 *   single addresses would let one client open connections from 2⁶⁴ of them.
 * - Behind a reverse proxy every connection comes from the proxy. With `trustProxy`, the address is the last entry
 *   of `X-Forwarded-For`, the one the (single, trusted) proxy appended; entries before it are client-supplied and
 *   ignored. Only turn it on when the relay is reachable through the proxy alone.
 *
 * @module
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** The address to count `req` under, or `''` if it is unknown (the socket is already gone). */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  return addressKey(remoteAddress(req, trustProxy));
}

/** The client's own address, not keyed: the TCP peer's, or with `trustProxy` the last `X-Forwarded-For` entry. */
function remoteAddress(req: IncomingMessage, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? '';
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    const last = list[list.length - 1]?.trim() ?? '';
    if (isIPv4(last) || isIPv6(last)) address = last;
  }
  return address;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** Whether the client of `req` (as {@link clientAddress} sees it: `X-Forwarded-For` only with `trustProxy`) is loopback. */
export function fromLoopback(req: IncomingMessage, trustProxy: boolean): boolean {
  const address = remoteAddress(req, trustProxy).split('%', 1)[0] ?? '';
  if (isIPv4(address)) return LOOPBACK.check(address, 'ipv4');
  return isIPv6(address) && LOOPBACK.check(address, 'ipv6');
}

/** The counting key of one address: IPv4 as is, IPv4-mapped as IPv4, other IPv6 as its /64 prefix. */
export function addressKey(address: string): string {
  const bare = address.split('%', 1)[0] ?? '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(bare)) return bare;
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address (no zone), lower case, without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.toLowerCase().split('::');
  const part = (s: string | undefined): string[] => (s ? s.split(':') : []);
  const left = part(head);
  const right = part(tail);
  // A trailing embedded IPv4 (e.g. 64:ff9b::192.0.2.1) is two hextets.
  const last = right.length ? right : left;
  const v4 = last[last.length - 1];
  if (v4 && v4.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    last.splice(last.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((h) => parseInt(h, 16).toString(16));
}
