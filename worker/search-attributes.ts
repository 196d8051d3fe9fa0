import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import { SEARCH_ATTRIBUTE_NAMES } from '../common/constants';

/**
 * Registers NPanel's custom search attributes (common/constants.ts SEARCH_ATTRIBUTE_NAMES, all Keyword: the
 * names workflows and the API use, so no config file repeats them) through the operator service. Idempotent:
 * only the missing ones are added, because with a persistent dev-server database `--search-attribute` applies
 * only to a new namespace.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, log: Logger): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.fromEntries(
    SEARCH_ATTRIBUTE_NAMES.filter((name) => !known.has(name)).map((name) => [
      name,
      temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    ]),
  );
  if (Object.keys(missing).length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    log.info({ added: Object.keys(missing) }, 'registered search attributes');
  } catch (err) {
    // Two processes starting together may race; "already exists" means the other one won.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}
