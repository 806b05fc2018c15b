import { swarmError } from '@swarm/errors';
import { normalizeFingerprint } from '@swarm/pki';
import type { UpdaterTarget } from './target.js';

const PIN = /^[0-9a-f]{64}$/;

/** The updater leaf expected at one origin, and who expects it. */
export interface PinExpectation {
  /** Lowercase hex SHA-256 of the expected leaf's DER. */
  readonly pin: string;
  /** The host name the pin was recorded for (messages only). */
  readonly host: string;
}

interface Entry extends PinExpectation {
  /** Requests under way that rely on this expectation. */
  users: number;
}

/**
 * The pins the connector checks, by origin (`address:port`). One dispatcher serves every
 * host, and undici only tells its connector which origin it dials — so each request first
 * reserves its origin with its target's pin, and the connector looks the pin up there.
 *
 * Two targets recorded at the same origin with different pins cannot be in flight at once:
 * the second is refused, so a connection is never checked against another host's pin.
 * An origin nobody reserved has no pin, and the connector refuses to dial it (fail closed).
 */
export class PinBook {
  readonly #entries = new Map<string, Entry>();

  /**
   * Reserve `key` for a request to `target`; returns the function that ends the reservation.
   * Throws SWARM_ERR_CLIENT_PIN_MISSING when the target has no usable pin, before anything
   * is dialled.
   */
  reserve(key: string, target: UpdaterTarget): () => void {
    const pin = usablePin(target);
    const entry = this.#entries.get(key);
    if (entry && entry.pin !== pin) {
      throw swarmError(
        'SWARM_ERR_CLIENT_PIN_MISMATCH',
        `hosts ${entry.host} and ${target.host} are both recorded at ${key} with different certificate pins; at most one of them can be the updater that answers there`,
        { host: target.host, otherHost: entry.host },
      );
    }
    const reserved = entry ?? { pin, host: target.host, users: 0 };
    reserved.users += 1;
    this.#entries.set(key, reserved);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      reserved.users -= 1;
      if (reserved.users === 0 && this.#entries.get(key) === reserved) this.#entries.delete(key);
    };
  }

  /** The pin expected at `key` right now, if a request is under way there. */
  expected(key: string): PinExpectation | undefined {
    const entry = this.#entries.get(key);
    return entry ? { pin: entry.pin, host: entry.host } : undefined;
  }
}

/** The target's pin in canonical form, or SWARM_ERR_CLIENT_PIN_MISSING. */
function usablePin(target: UpdaterTarget): string {
  if (target.pin === null || target.pin === undefined || target.pin === '') {
    throw swarmError(
      'SWARM_ERR_CLIENT_PIN_MISSING',
      `no certificate pin is recorded for host ${target.host}: refusing to contact it`,
      { host: target.host },
    );
  }
  const pin = normalizeFingerprint(String(target.pin));
  if (!PIN.test(pin)) {
    throw swarmError(
      'SWARM_ERR_CLIENT_PIN_MISSING',
      `the pin recorded for host ${target.host} is not a SHA-256 fingerprint: refusing to contact it`,
      { host: target.host },
    );
  }
  return pin;
}
