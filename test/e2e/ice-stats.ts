/**
 * Which ICE candidate pair each of a page's peer connections uses, read through `<video-chat>`'s public
 * `getStats(peerId)` (W3C WebRTC Statistics: `transport.selectedCandidatePairId`, else the `candidate-pair` that is
 * `selected` (Firefox) or nominated and succeeded; its `local-candidate`/`remote-candidate` `candidateType`).
 *
 * @module
 */
import type { Page } from 'puppeteer-core';
import { withTimeout } from './harness.js';

/** The selected candidate pair of the connection to one remote peer; types are `undefined` when none is selected. */
export interface SelectedPair {
  peerId: string;
  name: string;
  /** `host`, `srflx`, `prflx` or `relay` (RFC 8445 candidate types). */
  localType: string | undefined;
  remoteType: string | undefined;
  /** The local candidate's stats id: the same id means the same candidate (e.g. the same TURN allocation). */
  localId: string | undefined;
  /** Sum of `framesDecoded` over the video `inbound-rtp` stats of that connection. */
  framesDecoded: number;
}

/** The selected pair of every connection of the page's `<video-chat>`. */
export async function selectedPairs(page: Page): Promise<SelectedPair[]> {
  return withTimeout(
    page.evaluate(async () => {
      type Chat = HTMLElement & {
        peers: readonly { id: string; name: string }[];
        getStats(peerId: string): Promise<RTCStatsReport | undefined>;
      };
      const chat = document.querySelector('video-chat') as Chat | null;
      if (!chat) return [];
      return Promise.all(
        chat.peers.map(async ({ id, name }) => {
          const report = await chat.getStats(id);
          const all: Record<string, unknown>[] = [];
          report?.forEach((s: Record<string, unknown>) => all.push(s));
          const byId = new Map(all.map((s) => [s['id'], s]));
          const transport = all.find((s) => s['type'] === 'transport' && s['selectedCandidatePairId']);
          const pair = transport
            ? byId.get(transport['selectedCandidatePairId'])
            : all.find(
                (s) =>
                  s['type'] === 'candidate-pair' &&
                  (s['selected'] === true || (s['nominated'] === true && s['state'] === 'succeeded')),
              );
          const local = pair ? byId.get(pair['localCandidateId']) : undefined;
          const remote = pair ? byId.get(pair['remoteCandidateId']) : undefined;
          let framesDecoded = 0;
          for (const s of all) {
            if (s['type'] === 'inbound-rtp' && (s['kind'] ?? s['mediaType']) === 'video') {
              framesDecoded += Number(s['framesDecoded'] ?? 0);
            }
          }
          return {
            peerId: id,
            name,
            localType: local?.['candidateType'] as string | undefined,
            remoteType: remote?.['candidateType'] as string | undefined,
            localId: local?.['id'] as string | undefined,
            framesDecoded,
          };
        }),
      );
    }),
    10_000,
    'reading candidate pairs',
  );
}
