import type { Db } from '../client';
import { createAccountsRepository } from './accounts';
import { createAuditRepository } from './audit';
import { createCertificatesRepository } from './certificates';
import { createMigrationsRepository } from './migrations';
import { createNameClaimsRepository } from './name-claims';
import { createNodesRepository } from './nodes';
import { createTokensRepository } from './tokens';

export * from './accounts';
export * from './account-resources';
export * from './audit';
export * from './certificates';
export * from './errors';
export * from './migrations';
export * from './name-claims';
export * from './nodes';
export * from './tokens';

/** All repositories over one db, for the API and the inventory activities. */
export function createRepositories(db: Db) {
  return {
    accounts: createAccountsRepository(db),
    audit: createAuditRepository(db),
    certificates: createCertificatesRepository(db),
    migrations: createMigrationsRepository(db),
    names: createNameClaimsRepository(db),
    nodes: createNodesRepository(db),
    tokens: createTokensRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
