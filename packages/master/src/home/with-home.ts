import { openHome, type MasterHome } from './open-home.js';

/** A master home given either as its path or as an already opened home. */
export type HomeRef = string | MasterHome;

/**
 * Run `fn` with an opened home. A path is opened for the call and closed after it; an
 * opened home is borrowed and left open for its owner.
 */
export async function withHome<T>(ref: HomeRef, fn: (home: MasterHome) => Promise<T>): Promise<T> {
  if (typeof ref !== 'string') return fn(ref);
  const home = await openHome(ref);
  try {
    return await fn(home);
  } finally {
    home.close();
  }
}
