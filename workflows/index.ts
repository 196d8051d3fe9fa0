/**
 * The barrel the worker bundles: one function per type of the registry (common/workflow-types.ts), which
 * test/unit/workflow-types.test.ts holds equal to these exports.
 */
export { waitForTimer } from './wait-for-timer';
export { provisionAccount } from './provision-account';
export { deprovisionAccount } from './deprovision-account';
export { suspendAccount } from './suspend-account';
export { unsuspendAccount } from './unsuspend-account';
export { renewCertificate } from './renew-certificate';
export { removeCertificate } from './remove-certificate';
export { certificateRenewalSweep } from './certificate-renewal-sweep';
export { migrateSite } from './migrate-site';
export { pruneAuditEvents } from './prune-audit-events';
