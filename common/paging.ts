import { z } from 'zod';

/**
 * Keyset paging of inventory lists (GET /api/v1/accounts, GET /api/v1/certificates), written once. A page is
 * read in SQL (`WHERE key > :after ORDER BY key LIMIT :limit + 1`), never the whole table per request; the key
 * is a unique column, so the order is stable and a row inserted or removed between pages neither repeats nor
 * hides another. The cursor is opaque to clients (the last key, hex-encoded): they pass back `next` as it is.
 */
export const PAGE_LIMIT_MAX = 200;
export const PAGE_LIMIT_DEFAULT = 50;
/**
 * A cursor is `k1.` and the key's bytes in lowercase hex, each byte printable ASCII (keys are usernames and
 * domains). The whole rule is this one pattern, so the published schema states exactly which cursors exist and
 * a forged one cannot smuggle anything in: no other string is a cursor.
 */
const PRINTABLE_BYTE_HEX = '(?:2[1-9a-f]|[3-6][0-9a-f]|7[0-9a-e])';
export const CURSOR_PATTERN = new RegExp(`^k1\\.${PRINTABLE_BYTE_HEX}{1,253}$`);

export function encodeCursor(lastKey: string): string {
  return `k1.${Buffer.from(lastKey, 'utf8').toString('hex')}`;
}

/** The key a cursor carries, or null when it is not one of ours (the query schema makes that a 400). */
export function decodeCursor(cursor: string): string | null {
  return CURSOR_PATTERN.test(cursor) ? Buffer.from(cursor.slice(3), 'hex').toString('latin1') : null;
}

/**
 * A `?limit=` of 1..max written in plain decimal digits, as one pattern the published schema states exactly
 * (a coerced number also took `0x10`, `1e2` and ` 5`). `max` is a whole hundred (200, 500): the pattern is
 * 1-99, then 100..(max-1), then max itself.
 */
export function limitParam(max: number, fallback: number) {
  const hundreds = max / 100;
  if (!Number.isInteger(hundreds) || hundreds < 2 || hundreds > 9) throw new Error(`limitParam: ${max} is not 200..900 in hundreds`);
  const message = `a whole number from 1 to ${max}`;
  return z
    .string({ message })
    .regex(new RegExp(`^(?:[1-9][0-9]?|[1-${hundreds - 1}][0-9]{2}|${max})$`), message)
    .transform(Number)
    .default(fallback);
}

/** `?limit=&cursor=`: limit 1..200 (default 50); a cursor that is not a `next` of ours is a 400 naming it. */
export const pageQuery = z.object({
  limit: limitParam(PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT),
  cursor: z.string().regex(CURSOR_PATTERN, 'not a cursor returned as `next` by this list').optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

/** What a repository needs: the key to start after (exclusive) and how many rows. */
export interface PageRequest {
  after: string | null;
  limit: number;
}

export function pageRequest(q: PageQuery): PageRequest {
  return { after: q.cursor ? decodeCursor(q.cursor) : null, limit: q.limit };
}

/**
 * Rows read with limit + 1: the extra row only says that there is a next page; `next` is the cursor after
 * the last row returned, null on the last page.
 */
export function toPage<T>(rows: T[], req: PageRequest, keyOf: (row: T) => string): { items: T[]; next: string | null } {
  const items = rows.slice(0, req.limit);
  const more = rows.length > req.limit;
  return { items, next: more && items.length ? encodeCursor(keyOf(items[items.length - 1]!)) : null };
}

/** The `next` field every paged list response carries (OpenAPI: documented once). */
export const nextCursor = z.string().nullable().describe('cursor of the next page (pass as ?cursor=), null on the last page');
