import { z } from 'zod';

/**
 * A whole number in a query string or path: decimal digits only. `z.coerce.number()` would take what
 * JavaScript's Number() takes ("0x10", "1e2", " 16", "") and answer as if the caller had sent a number; a
 * hostile or mistaken string is a 400 naming the field instead.
 */
export function wholeNumberString(min: number, max: number) {
  const message = `a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^[0-9]{1,15}$/, message)
    .transform(Number)
    .pipe(z.number().int(message).min(min, message).max(max, message));
}
