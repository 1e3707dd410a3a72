/**
 * The VideoRoom requests and events the broker (`broker.ts`) needs beside negotiation: the relay's connection to
 * Janus with its admin handle ({@link JanusLink}), a Janus room's identity
 * (ID, pin, secret: made here, kept by the relay, shared through Redis when several relays serve one room), its
 * creation and destruction with the plugin's `admin_key`, the publishers Janus announces to a publisher handle, and
 * the streams of a subscriber offer. Followed: https://janus.conf.meetecho.com/docs/videoroom.html (Janus 1.x).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { SfuStream } from '../../../src/protocol/sfu.js';
import { JanusClient, JanusError, JanusSession, type JanusHandle, type JanusMessage } from './janus.js';

/** The Janus plugin the broker drives. */
export const VIDEOROOM = 'janus.plugin.videoroom';

/**
 * The relay's one WebSocket to Janus, opened when first needed, and the admin handle that creates and destroys rooms.
 * When the WebSocket closes, `lost` hears it once and the next use opens a new one.
 */
export class JanusLink {
  readonly #url: string;
  readonly #apiSecret: string | undefined;
  readonly #lost: (error: Error) => void;
  #client: Promise<JanusClient> | undefined;
  #admin: Promise<JanusHandle> | undefined;

  constructor(url: string, apiSecret: string | undefined, lost: (error: Error) => void) {
    this.#url = url;
    this.#apiSecret = apiSecret;
    this.#lost = lost;
  }

  /** The connection (opened now if there is none). */
  client(): Promise<JanusClient> {
    if (!this.#client) {
      const connecting = JanusClient.connect({ url: this.#url, apiSecret: this.#apiSecret });
      this.#client = connecting;
      connecting.then(
        (client) => {
          client.onClose = (error) => {
            if (this.#client !== connecting) return;
            this.#client = undefined;
            this.#admin = undefined;
            this.#lost(error);
          };
        },
        () => {
          if (this.#client === connecting) {
            this.#client = undefined;
            this.#admin = undefined;
          }
        },
      );
    }
    return this.#client;
  }

  /** A VideoRoom handle of the relay's own session, for `create`, `destroy` and `list`. */
  admin(): Promise<JanusHandle> {
    if (!this.#admin) {
      const admin = (async () => {
        const session = await JanusSession.create(await this.client());
        return session.attach(VIDEOROOM);
      })();
      this.#admin = admin;
      admin.catch(() => {
        if (this.#admin === admin) this.#admin = undefined;
      });
    }
    return this.#admin;
  }

  /** Closes the connection (the relay is closing). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#admin = undefined;
    if (client) (await client.catch(() => undefined))?.close();
  }
}

/** A Janus room as the relay knows it: never handed to browsers. */
export interface JanusRoom {
  /** The Janus room ID (`string_ids`): our room's name and a random suffix, so a re-created room never meets a stale one. */
  readonly id: string;
  /** The `pin` every join needs (random, 22 characters). */
  readonly pin: string;
  /** The `secret` that `destroy` needs (random, 22 characters). */
  readonly secret: string;
}

/** VideoRoom's error code for `create` of a room that exists already (another relay created it first). */
export const ROOM_EXISTS = 427;
/** VideoRoom's error code for a room that does not exist (destroyed already). */
export const NO_SUCH_ROOM = 426;

const random = (): string => randomBytes(16).toString('base64url');

/** A new identity for the Janus room of `room` (nothing is created in Janus yet). */
export function newJanusRoom(room: string): JanusRoom {
  return { id: `${room}-${random().slice(0, 8)}`, pin: random(), secret: random() };
}

/**
 * Creates `janus` in Janus: private, with its pin and secret, not permanent, at most `publishers` publishers, Opus and
 * VP8. With `shared`, a room that exists already counts as created (another relay of the cluster was first).
 * @throws JanusError as Janus answered.
 */
export async function createJanusRoom(
  admin: JanusHandle,
  adminKey: string,
  publishers: number,
  room: string,
  janus: JanusRoom,
  shared: boolean,
): Promise<'created' | 'existed'> {
  try {
    await admin.message({
      request: 'create',
      room: janus.id,
      admin_key: adminKey,
      description: room,
      pin: janus.pin,
      secret: janus.secret,
      is_private: true,
      permanent: false,
      publishers,
      audiocodec: 'opus',
      videocodec: 'vp8',
    });
    return 'created';
  } catch (error) {
    if (shared && error instanceof JanusError && error.code === ROOM_EXISTS) return 'existed';
    throw error;
  }
}

/**
 * Destroys `janus` in Janus (its participants are kicked). A room that no longer exists counts as destroyed.
 * @throws JanusError as Janus answered otherwise.
 */
export async function destroyJanusRoom(admin: JanusHandle, janus: Pick<JanusRoom, 'id' | 'secret'>): Promise<void> {
  try {
    await admin.message({ request: 'destroy', room: janus.id, secret: janus.secret, permanent: false });
  } catch (error) {
    if (!(error instanceof JanusError && error.code === NO_SUCH_ROOM)) throw error;
  }
}

/** VideoRoom's error code for a participant ID the room does not hold (`kick` of someone already gone). */
export const NO_SUCH_FEED = 428;

/**
 * Removes whoever the Janus room holds under participant ID `id` (VideoRoom `kick`, with the room's secret): the
 * publisher an earlier relay left behind for a participant that resumed on this relay, so that its new publish under
 * the same ID is not refused ("User ID already exists"). Nobody there counts as done.
 * @returns whether someone was removed.
 * @throws JanusError as Janus answered otherwise.
 */
export async function kickFromJanusRoom(
  admin: JanusHandle,
  janus: Pick<JanusRoom, 'id' | 'secret'>,
  id: string,
): Promise<boolean> {
  try {
    await admin.message({ request: 'kick', room: janus.id, secret: janus.secret, id });
    return true;
  } catch (error) {
    if (error instanceof JanusError && error.code === NO_SUCH_FEED) return false;
    throw error;
  }
}

/**
 * The publishers a VideoRoom reply or event names: `publishers` (a publisher's `joined` reply lists those with media
 * up; an `event` announces new ones) are added, `unpublished`, `leaving` and `kicked` removed. With several relays, this is
 * how a relay learns of publishers another relay brokers.
 */
export function publishersOf(data: JanusMessage): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  const list = data['publishers'];
  if (Array.isArray(list)) {
    for (const p of list as Record<string, unknown>[]) {
      const id = p['id'];
      if (typeof id === 'string' || typeof id === 'number') added.push(String(id));
    }
  }
  for (const key of ['unpublished', 'leaving', 'kicked']) {
    const id = data[key];
    // `leaving: "ok"` is the answer to our own leave, not another publisher.
    if ((typeof id === 'string' && id !== 'ok') || typeof id === 'number') removed.push(String(id));
  }
  return { added, removed };
}

/** The streams of a subscriber offer (`attached` / `updated` event) as the browser needs them: active ones only. */
export function streamsOf(data: Record<string, unknown>): SfuStream[] {
  const streams = Array.isArray(data['streams']) ? (data['streams'] as Record<string, unknown>[]) : [];
  const out: SfuStream[] = [];
  for (const s of streams) {
    const kind = s['type'];
    if (s['active'] === false || (kind !== 'audio' && kind !== 'video')) continue;
    const feed = s['feed_id'];
    if (typeof s['mid'] !== 'string' || (typeof feed !== 'string' && typeof feed !== 'number')) continue;
    out.push({ mid: s['mid'], feed: String(feed), kind });
  }
  return out;
}
