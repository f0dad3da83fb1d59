import type { en } from './en';

/** A catalogue with the same keys as the English one, every value a string. */
export type Catalogue<T = typeof en> = {
  [K in keyof T]: T[K] extends string ? string : Catalogue<T[K]>;
};

/** Every key path of a catalogue, dotted (`signIn.title`): for the completeness test. */
export function keyPaths(catalogue: object, prefix = ''): string[] {
  return Object.entries(catalogue).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keyPaths(value as object, `${prefix}${key}.`),
  );
}
