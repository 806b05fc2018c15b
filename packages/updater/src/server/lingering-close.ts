import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection keeps reading (and discarding) after an early answer. */
export const LINGER_MS = 2_000;
/** How much it reads at most before closing anyway. */
export const LINGER_BYTES = 1024 * 1024;

const lingering = new WeakSet<Socket>();

/**
 * Close the connection of an answer sent before its request body was read (403, 413, 423…)
 * the way RFC 9112 §9.6 asks: half-close first (our FIN follows the answer), then keep
 * reading and discarding what the client still sends — until it closes too, LINGER_BYTES, or
 * LINGER_MS — and only then close fully.
 *
 * Closing at once with unread data makes the kernel answer the client's next segment with a
 * TCP reset, and a client still writing its upload then sees EPIPE/ECONNRESET and may lose
 * the answer it was sent (nodejs/node#54366). The caps keep the promise of not reading a
 * refused upload: at most 1 MiB or 2 s of it is read, then the connection is cut.
 *
 * Call before the answer is sent, with `Connection: close` set on it: Node then calls
 * `socket.destroySoon()` once the answer is written, which this replaces for this socket.
 */
export function lingerAfterEarlyAnswer(req: IncomingMessage): void {
  const socket = req.socket;
  if (lingering.has(socket)) return;
  lingering.add(socket);
  socket.destroySoon = function lingerThenDestroy(this: Socket) {
    let bytes = 0;
    const destroy = () => socket.destroy();
    const timer = setTimeout(destroy, LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', destroy);
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > LINGER_BYTES) destroy();
    });
    socket.end();
    // Nobody reads the rest of the request: let it flow (and be dropped) rather than stall.
    req.resume();
    socket.resume();
    return socket;
  };
}
