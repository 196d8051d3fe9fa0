import type { ProvisionAccountInput } from '../../common/account-input';
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
    ensureMailboxes: (a: Arg) => ({ mailboxes: (a.mailboxes as { local: string }[]).map((m) => ({ local: m.local, passwordHash: `$6$fake$${m.local}` })) }),
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
      serial: '0a1b', issuer: 'Test CA', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-04-01T00:00:00.000Z',
      certPath: '/etc/npanel/certs/0a1b.pem', keyPath: '/etc/npanel/certs/0a1b.key', served: null,
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
