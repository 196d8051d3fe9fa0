import type { ProvisionAccountInput } from '../../common/account-input';
import type { MigrateSiteInput } from '../../common/migration-input';
import { FakeActivities, TEST_NODE } from './workflow-env';

/**
 * Fake activities for the workflow-logic tests: each returns what the real one returns in the shape the
 * workflows read, nothing more (the real activities are tested against the daemons in test/integration).
 */
type Arg = Record<string, unknown>;
const ok = () => undefined;

/** Every activity provisionAccount (and its certificate children) calls. */
export function provisioningImpls() {
  return {
    reserveAccount: ok,
    ensureDnsZone: ok,
    ensureMailboxes: (a: Arg) => ({
      mailboxes: (a.mailboxes as { local: string }[]).map((m) => ({ local: m.local, passwordHash: `$6$fake$${m.local}` })),
    }),
    ensureCustomerDatabase: ok,
    ensureDocroot: (a: Arg) => ({ path: `/srv/www/${String(a.account)}/${String(a.domain)}` }),
    ensureFtpUser: () => ({ passwordHash: '$6$fake$ftp' }),
    ensureSiteVhost: ok,
    recordAccount: ok,
    setAccountStatus: ok,
    appendAudit: ok,
    releaseAccount: () => true,
    deleteDnsZone: ok,
    removeMailDomain: ok,
    dropCustomerDatabase: ok,
    removeDocroot: ok,
    removeFtpUser: ok,
    removeVhost: ok,
    // renewCertificate / removeCertificate (children of a provisioning with TLS)
    certificateTarget: (a: Arg) => ({ domain: a.domain, account: 'alice', accountId: 1, node: TEST_NODE }),
    orderCertificate: () => ({
      serial: '0a1b',
      issuer: 'Test CA',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
      certPath: '/etc/npanel/certs/0a1b.pem',
      keyPath: '/etc/npanel/certs/0a1b.key',
      served: null,
    }),
    installCertificate: ok,
    probeServedCertificate: () => ({ serial: '0a1b' }),
    recordCertificateIssued: ok,
    pruneCertificates: () => 0,
    restoreCertificate: ok,
    discardCertificate: ok,
    recordCertificateFailure: ok,
    removeCertificates: () => 0,
    forgetCertificate: ok,
  };
}

export function provisioningFake(): FakeActivities {
  return new FakeActivities(provisioningImpls());
}

/** A provisioning with every optional part: mail, FTP, a database and TLS. */
export function fullProvisionInput(overrides: Partial<ProvisionAccountInput> = {}): ProvisionAccountInput {
  return {
    username: 'alice',
    domain: 'alice.test',
    node: TEST_NODE,
    nodeIp: '192.0.2.10',
    mailboxes: [{ local: 'info', password: 'Mailbox-Pass-1' }],
    ftp: { password: 'Ftp-Pass-123' },
    database: { name: 'alice_shop', user: 'alice_shop', password: 'Db-Pass-1234' },
    tls: true,
    ...overrides,
  };
}

/**
 * Every activity migrateSite calls, on top of the provisioning ones (its child provisionAccount). The zone is
 * the one state kept: none until ensureDnsZone, then one A record at the source's IP; setDnsRecords replaces it.
 */
export function migrationFake(): FakeActivities {
  let zone: { name: string; type: string; ttl: number; contents: string[] }[] | null = null;
  const provisioning = provisioningImpls();
  return new FakeActivities({
    ...provisioning,
    ensureDnsZone: (a: Arg) => {
      zone ??= [{ name: `${String(a.domain)}.`, type: 'A', ttl: 3600, contents: [String(a.ip)] }];
    },
    deleteDnsZone: () => {
      zone = null;
    },
    getDnsRecords: () => zone,
    setDnsRecords: (a: Arg) => {
      zone = a.records as typeof zone;
    },
    recordMigration: ok,
    updateMigration: ok,
    migrationPreflight: () => ({ files: 3, bytes: 300, hostKey: 'ssh-ed25519 AAAAfake' }),
    getAccount: () => null,
    migrationSyncFiles: () => ({
      totalFiles: 3,
      totalBytes: 300,
      copiedBytes: 300,
      literalBytes: 300,
      alreadyPresentBytes: 0,
      attempt: 1,
      resumedFrom: 0,
      refused: [],
      refusedCount: 0,
      index: { sha256: 'f'.repeat(64) },
    }),
    claimNames: (a: Arg) => a.names,
    releaseNames: ok,
    migrationCopyDatabase: () => ({ tables: ['wp_posts', 'wp_users'] }),
    ensureMailDomain: ok,
    ensureMailbox: ok,
    migrationSyncMaildir: () => ({ messages: 2 }),
    recordMigratedResources: ok,
    migrationVerifySite: () => ({ ok: true }),
    removeMailbox: ok,
    removeAccountRecords: ok,
  });
}

export const SOURCE_IP = '198.51.100.7';

/** A migration of one site with one database and one mailbox from a source reached with a key. */
export function migrationInput(overrides: Partial<MigrateSiteInput> = {}): MigrateSiteInput {
  return {
    domain: 'shop.test',
    account: 'bob',
    node: TEST_NODE,
    nodeIp: '192.0.2.10',
    cutover: 'auto',
    source: {
      host: 'old.example.test',
      port: 22,
      user: 'bob',
      privateKey: 'k'.repeat(64),
      hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
      docroot: '/home/bob/public_html',
      ip: SOURCE_IP,
      databases: [{ name: 'wp' }],
      mailboxes: [{ local: 'info', maildir: '/home/bob/mail/shop.test/info' }],
    },
    ...overrides,
  };
}
