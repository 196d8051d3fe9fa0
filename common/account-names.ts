import type { ProvisionAccountInput } from './account-input';

/**
 * The names an account takes on the daemons, as claims (db/schema/name-claims.ts). Pure and dependency-free:
 * the API claims them before it starts provisionAccount, and the workflow's reserve step claims them again.
 */
export const CLAIM_KINDS = ['domain', 'database', 'database_user', 'mailbox', 'ftp_user'] as const;
export type ClaimKind = (typeof CLAIM_KINDS)[number];
export interface ClaimedName {
  kind: ClaimKind;
  name: string;
}

/** Every name provisionAccount makes for this input. */
export function provisionNames(
  input: Pick<ProvisionAccountInput, 'username' | 'domain' | 'mailboxes' | 'ftp' | 'database'>,
): ClaimedName[] {
  return [
    { kind: 'domain', name: input.domain },
    ...input.mailboxes.map((m) => ({ kind: 'mailbox' as const, name: `${m.local}@${input.domain}` })),
    ...(input.ftp ? [{ kind: 'ftp_user' as const, name: input.username }] : []),
    ...(input.database
      ? [
          { kind: 'database' as const, name: input.database.name },
          { kind: 'database_user' as const, name: input.database.user },
        ]
      : []),
  ];
}
