/** A type guard: the shape of every validator of this package. */
export type Check<T> = (value: unknown) => value is T;

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export const isString: Check<string> = (v): v is string => typeof v === 'string';
export const isBoolean: Check<boolean> = (v): v is boolean => typeof v === 'boolean';

export const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  (v: unknown): v is T | null =>
    v === null || check(v);

/** Absent, or passing `check`. */
export const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v: unknown): v is T | undefined =>
    v === undefined || check(v);
