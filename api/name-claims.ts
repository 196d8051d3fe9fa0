import { provisionNames } from '../common/account-names';
import type { MigrateSiteBody } from '../common/migration-input';
import { targetDatabaseName } from '../common/names';
import { NameClaimConflictError, type NameClaim, type Repositories } from '../db/repositories';
import { ApiError } from './api-error';

/**
 * Names are owned (issue 11): the API claims every name a request will make on a daemon, in one transaction,
 * before the workflow starts; another account's name (or a domain above or below another account's) is a 409
 * naming the field, and nothing is claimed.
 */

export { provisionNames };

type Fields = Partial<Record<NameClaim['kind'], string>>;

export const provisionFields: Fields = {
  domain: 'body.domain',
  mailbox: 'body.mailboxes',
  ftp_user: 'body.username',
  database: 'body.database.name',
  database_user: 'body.database.user',
};

/** Every name migrateSite makes: the domain, `<account>_<db>` as database and login, and the mailboxes. */
export function migrationNames(body: Pick<MigrateSiteBody, 'domain' | 'account' | 'source'>): NameClaim[] {
  return [
    { kind: 'domain', name: body.domain },
    ...body.source.databases.flatMap((d) => {
      const target = targetDatabaseName(body.account, d.name);
      return [
        { kind: 'database' as const, name: target },
        { kind: 'database_user' as const, name: target },
      ];
    }),
    ...body.source.mailboxes.map((m) => ({ kind: 'mailbox' as const, name: `${m.local}@${body.domain}` })),
  ];
}
export const migrationFields: Fields = {
  domain: 'body.domain',
  mailbox: 'body.source.mailboxes',
  database: 'body.source.databases',
  database_user: 'body.source.databases',
};

/** Claims the names for `account` on behalf of `workflowId`, or throws the 409. */
export async function claimNames(
  repos: Pick<Repositories, 'names'>,
  input: { account: string; workflowId: string; names: NameClaim[] },
  fields: Fields,
): Promise<void> {
  try {
    await repos.names.claim(input);
  } catch (err) {
    if (!(err instanceof NameClaimConflictError)) throw err;
    throw ApiError.conflict(err.message, undefined, [
      { field: fields[err.kind] ?? 'body', message: `${err.kind} ${err.value} is taken by another account` },
    ]);
  }
}
