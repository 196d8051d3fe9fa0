import { z } from 'zod';

/**
 * Characters never part of a name: controls (tab, newline, NUL, DEL...), format characters (soft hyphen,
 * zero-width joiners, bidi marks) and line/paragraph separators. IDNA mapping and `trim()` silently DROP some
 * of them (`"ex\nample.test"` became `example.test`), so a typo or a hostile string would claim a real,
 * different name: they are refused before any normalisation.
 */
export const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
export const NO_HIDDEN_CHARACTERS = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;
export const HIDDEN_CHARACTERS_MESSAGE = 'must not contain control or invisible characters';

/**
 * A name as a user types it into the API: hidden characters refused first (never trimmed or mapped away),
 * then trimmed and lowercased into the one stored form that the activities check again.
 */
export const typedName = () => z.string().regex(NO_HIDDEN_CHARACTERS, HIDDEN_CHARACTERS_MESSAGE).trim().toLowerCase();

/**
 * What the published schema (OpenAPI) says a refinement refuses, built from the same set the refinement
 * checks, so the document and the check cannot drift apart.
 */
export function publishedRefusal(names: ReadonlySet<string>) {
  return { not: { enum: [...names] } };
}
