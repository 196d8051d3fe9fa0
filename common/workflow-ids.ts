/**
 * Workflow IDs are the correlation IDs of NPanel: readable, URL-safe, unique per operation.
 * Pure (imported by workflows): the caller passes the unique suffix (a ULID from the API side).
 */

const SAFE = /[^a-z0-9.-]/g;

function part(value: string): string {
  return value.toLowerCase().replace(SAFE, '-').slice(0, 80);
}

export const workflowIds = {
  provision: (account: string, unique: string) => `provision-${part(account)}-${unique}`,
  deprovision: (account: string, unique: string) => `deprovision-${part(account)}-${unique}`,
  suspend: (account: string, unique: string) => `suspend-${part(account)}-${unique}`,
  unsuspend: (account: string, unique: string) => `unsuspend-${part(account)}-${unique}`,
  migrate: (domain: string, unique: string) => `migrate-${part(domain)}-${unique}`,
  /**
   * Every certificate operation of a domain (issue, renew with its rollback, remove) runs under this ONE ID:
   * Temporal runs at most one open workflow per ID, so two operations on a domain never interleave. The API
   * joins the running one (conflict policy USE_EXISTING), workflows queue behind it (certificate-slot.ts).
   * Runs of the ID are told apart by their run ID. The whole domain, never cut (two long domains that share
   * their first 80 characters are two IDs): domains are validated lower-case ASCII of at most 253 characters.
   */
  certificate: (domain: string) => `certificate-${domain.toLowerCase().replace(SAFE, '-')}`,
  timer: (unique: string) => `timer-${unique}`,
  /**
   * A retry of a run: same prefix (`provision-acme-`), fresh unique suffix, so the retry is found by the same
   * ID search. Cut to 170 characters before the suffix: a retry of a retry stays within WORKFLOW_ID_PATTERN.
   */
  retry: (oldId: string, unique: string) => {
    const cut = oldId.lastIndexOf('-');
    const prefix = cut > 0 ? oldId.slice(0, cut) : oldId;
    return `${prefix.slice(0, 170)}-${unique}`;
  },
  /** The account a migration provisions, as a child of the migration: `<migration id>-account-<unique>`. */
  migrationAccount: (migrationId: string, unique: string) => `${migrationId}-account-${unique}`,
};

/** Accepts only the characters our builders emit (the longest: certificate- and a 253-character domain), so an ID from a URL can be echoed back safely. */
export const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$/;
