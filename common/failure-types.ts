/**
 * Every `ApplicationFailure` type NPanel throws, each named once with what kind of failure it is. Activities and
 * workflows throw `ApplicationFailure.nonRetryable(message, FAILURE.X)`; the operator gate of migrateSite and
 * anyone else who must tell failures apart reads the kind from here instead of keeping its own list.
 *
 * None of these is retryable: a type marks a permanent failure. A transient one (a daemon restarting, a timeout)
 * is a plain Error without a type, which the activity's retry profile retries.
 *
 * Pure (workflows import this file).
 */

/**
 * - `input`: the request or the migration source sent something no retry can fix (a bad name, a bad path).
 * - `refused`: a safety refusal (a wrong host key, a name owned by another account, SQL a dump may not run).
 * - `state`: the world is not as the step needs it (no such vhost, the account is suspended, the CA said no):
 *   an operator may change that and retry.
 * - `outcome`: how a workflow itself ended (rolled back, aborted), the type its caller sees.
 */
export type FailureKind = 'input' | 'refused' | 'state' | 'outcome';

const FAILURE_KINDS = {
  // Bad input, found by the activity (or workflow) that was to use it.
  InvalidInput: 'input',
  DnsInvalid: 'input',
  MailInvalidName: 'input',
  MailInvalidPassword: 'input',
  MailInvalidInput: 'input',
  FtpInvalidName: 'input',
  FtpInvalidPassword: 'input',
  FtpInvalidHome: 'input',
  FtpInvalidInput: 'input',
  MysqlInvalidName: 'input',
  MysqlInvalidPassword: 'input',
  AuditRetentionInvalid: 'input',
  MigrationSourceInvalid: 'input',
  RemoteCommandInvalid: 'input',
  UnencryptedInput: 'input',
  // Safety refusals.
  HostKeyMismatch: 'refused',
  SourceAuthFailed: 'refused',
  AccountConflict: 'refused',
  NameConflict: 'refused',
  DumpStatementRefused: 'refused',
  DumpDefinerForeign: 'refused',
  // The world is not as the step needs it.
  SourceNotSsh: 'state',
  SourceDatabaseMissing: 'state',
  RemoteOutputTooLarge: 'state',
  DumpStatementFailed: 'state',
  DocrootUnsafe: 'state',
  VhostNotFound: 'state',
  VhostUnmanaged: 'state',
  NginxConfigRejected: 'state',
  MailDomainNotFound: 'state',
  MysqlUserTaken: 'state',
  NodeNotFound: 'state',
  AccountNotFound: 'state',
  AccountNotActive: 'state',
  AccountStateInvalid: 'state',
  AcmeRateLimited: 'state',
  AcmeOrderRefused: 'state',
  CertificateMissing: 'state',
  CertificateDomainUnknown: 'state',
  CertificateNotServed: 'state',
  CertificateOperationBusy: 'state',
  // How a workflow ended.
  ProvisionRolledBack: 'outcome',
  ProvisionUndoFailed: 'outcome',
  SuspensionRolledBack: 'outcome',
  MigrationRolledBack: 'outcome',
  MigrationUndoFailed: 'outcome',
  MigrationAborted: 'outcome',
  CertificateRenewalFailed: 'outcome',
} as const satisfies Record<string, FailureKind>;

export type FailureType = keyof typeof FAILURE_KINDS;

/** The type names as constants: `FAILURE.InvalidInput === 'InvalidInput'`, so a typo fails to compile. */
export const FAILURE = Object.fromEntries(Object.keys(FAILURE_KINDS).map((t) => [t, t])) as { readonly [T in FailureType]: T };

export const FAILURE_TYPES = Object.keys(FAILURE_KINDS) as FailureType[];

/** The kind of a failure type; null for a type NPanel does not throw (an SDK's, a foreign one). */
export function failureKind(type: string | null | undefined): FailureKind | null {
  return type && Object.hasOwn(FAILURE_KINDS, type) ? FAILURE_KINDS[type as FailureType] : null;
}

/** Bad input: the request or the source must change, nothing else helps. */
export function isBadInput(type: string | null | undefined): boolean {
  return failureKind(type) === 'input';
}

/**
 * Failures no operator action can fix (bad input and safety refusals): the operator gate lets them through, so
 * the migration rolls back at once instead of waiting for a retry that would fail the same way.
 */
export const GATE_FATAL_TYPES: readonly FailureType[] = FAILURE_TYPES.filter((t) => {
  const kind = FAILURE_KINDS[t];
  return kind === 'input' || kind === 'refused';
});
