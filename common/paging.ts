import { z } from 'zod';
import { wholeNumberString } from './query-number';

/**
 * Keyset paging of inventory lists (GET /api/v1/accounts, GET /api/v1/certificates), written once. A page is
 * read in SQL (`WHERE key > :after ORDER BY key LIMIT :limit + 1`), never the whole table per request; the key
 * is a unique column, so the order is stable and a row inserted or removed between pages neither repeats nor
 * hides another. The cursor is opaque to clients (base64url of the last key): they pass back `next` as it is.
 */
export const PAGE_LIMIT_MAX = 200;
export const PAGE_LIMIT_DEFAULT = 50;
const CURSOR_PREFIX = 'k1:';

export function encodeCursor(lastKey: string): string {
  return Buffer.from(CURSOR_PREFIX + lastKey, 'utf8').toString('base64url');
}

/** The key a cursor carries, or null when it is not one of ours (the query schema makes that a 400). */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  const key = text.slice(CURSOR_PREFIX.length);
  // Keys are usernames and domains: printable ASCII only, so a forged cursor cannot smuggle anything in.
  return /^[\x21-\x7e]{1,253}$/.test(key) ? key : null;
}

/** `?limit=&cursor=`: limit 1..200 (default 50); a cursor that is not a `next` of ours is a 400 naming it. */
export const pageQuery = z.object({
  limit: wholeNumberString(1, PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT),
  cursor: z.string().refine((c) => decodeCursor(c) !== null, 'not a cursor returned as `next` by this list').optional(),
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
