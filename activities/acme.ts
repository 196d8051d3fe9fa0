import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createLogger } from '../lib/logger';
import { AcmeRateLimitError, AcmeServerError, orderHttp01 } from './acme-order';
import {
  certificateMeta,
  listVersions,
  readVersion,
  removeDomainDirIfEmpty,
  removeVersion,
  serialOfPath,
  writeVersion,
  type StoredCertificate,
} from './acme-store';
import { createNginxActivities, type NginxConfig, type VhostTls } from './nginx';
import { parseVhostHeader } from './nginx-vhost';
import { publishMailCertificate, type MailTlsConfig } from './mail-tls';
import { servedCertificate } from './tls-probe';
import { requireDomain } from './web-names';
import { FAILURE } from '../common/failure-types';

export interface AcmeNodeConfig {
  nginx: NginxConfig;
  acme: { directory: string; caFile?: string; accountEmail?: string };
  /** The codec key (base64): the ACME account key is sealed with a key derived from it. */
  codecKey: string;
  /** Mail and FTP daemons of this node that present the domain's certificate too (absent: nginx only). */
  mailTls?: MailTlsConfig;
}

/** Test/drill hook: 'corrupt-key' installs a key that does not match the certificate, so `nginx -t` fails. */
export type CertificateFault = 'corrupt-key';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'EPIPE',
]);

function workflowId(): string {
  return Context.current().info.workflowExecution?.workflowId ?? 'unknown';
}

/**
 * Certificates on a hosting node (node queue). The WHOLE ACME order runs here, not on the control queue:
 * the certificate's private key is made where nginx reads it and never travels (not even encrypted through
 * Temporal history), and the challenge token file is written and removed by the same process that drives
 * the order, so no token outlives a crashed order. The price: one ACME account per node and directory.
 */
export function createAcmeActivities(config: AcmeNodeConfig) {
  const log = createLogger('acme');
  const nginx = createNginxActivities(config.nginx); // same process-wide reloader: batched, verified reloads
  const certsDir = config.nginx.certsDir;
  const settings = {
    ...config.acme,
    accountDir: path.join(certsDir, '.acme'),
    challengeDir: config.nginx.challengeDir,
    codecKey: config.codecKey,
  };

  const vhostSpec = (domain: string) => {
    let text: string;
    try {
      text = fs.readFileSync(path.join(config.nginx.sitesDir, `${domain}.conf`), 'utf8');
    } catch {
      throw ApplicationFailure.nonRetryable(`no vhost for ${domain} on this node`, FAILURE.VhostNotFound);
    }
    const spec = parseVhostHeader(text);
    if (!spec) throw ApplicationFailure.nonRetryable(`vhost file of ${domain} is not managed by NPanel`, FAILURE.VhostUnmanaged);
    return spec;
  };
  /**
   * Every daemon that presents the domain's certificate switches together: nginx first (verified by the
   * reloader), then the mail daemons (Dovecot reloaded, Exim reads it per connection). A retry repeats both;
   * each is idempotent.
   */
  const switchTls = async (domain: string, tls: VhostTls | null) => {
    const spec = vhostSpec(domain);
    // The redirect choice is the vhost's own (kept); without a certificate the renderer never redirects.
    const result = await nginx.ensureVhost({ domain, docroot: spec.docroot, tls, redirectHttps: spec.redirectHttps });
    if (config.mailTls) await publishMailCertificate(config.mailTls, domain, tls);
    return result;
  };

  return {
    /**
     * Orders a certificate for domain + www and stores it beside the served one. A retry of the same workflow
     * returns the certificate it already obtained (no second order against the CA's limits).
     */
    async orderCertificate(input: { domain: string }): Promise<StoredCertificate & { served: VhostTls | null }> {
      const domain = requireDomain(input.domain);
      const wf = workflowId();
      // What nginx serves now (null: no HTTPS yet) is the pair a rollback returns to.
      const served = vhostSpec(domain).tls;
      const run = Context.current().info.workflowExecution?.runId;
      const mine = listVersions(certsDir, domain).find((v) => v.workflowId === wf && v.runId === run);
      if (mine && served?.certPath !== mine.certPath) return { ...mine, served };
      const started = Date.now();
      // Heartbeats let Temporal notice a crashed worker's order within the heartbeat timeout (seconds), not
      // after the order's 5 min start-to-close timeout; the retry then returns what the dead attempt stored.
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 1000);
      try {
        const { certPem, keyPem } = await orderHttp01(settings, domain);
        const stored = writeVersion(certsDir, domain, certPem, keyPem, certificateMeta(certPem, wf, run));
        log.info({ correlationId: wf, domain, serial: stored.serial, ms: Date.now() - started }, 'certificate issued');
        return { ...stored, served };
      } catch (err) {
        const e = err as Error & { code?: string; isAxiosError?: boolean; response?: unknown };
        log.warn({ correlationId: wf, domain, reason: e.message }, 'ACME order failed');
        if (err instanceof AcmeRateLimitError) {
          throw ApplicationFailure.create({
            message: err.message,
            type: FAILURE.AcmeRateLimited,
            nonRetryable: true,
            details: [{ retryAfterSeconds: err.retryAfterSeconds }],
          });
        }
        if (err instanceof AcmeServerError || (e.code && NETWORK_CODES.has(e.code)) || (e.isAxiosError && !e.response)) throw err;
        throw ApplicationFailure.nonRetryable(`CA refused the order for ${domain}: ${e.message}`, FAILURE.AcmeOrderRefused);
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Points the vhost at the new pair (adding the HTTPS server block on a first issuance): the reloader runs
     * `nginx -t`, reloads and waits until nginx serves it; a config nginx rejects is put back by the reloader
     * and fails with NginxConfigRejected (nothing was loaded).
     */
    async installCertificate(input: { domain: string; serial: string; fault?: CertificateFault }): Promise<{ changed: boolean }> {
      const domain = requireDomain(input.domain);
      const next = readVersion(certsDir, domain, input.serial);
      if (!next)
        throw ApplicationFailure.nonRetryable(`certificate ${input.serial} of ${domain} is not on this node`, FAILURE.CertificateMissing);
      if (input.fault === 'corrupt-key') {
        const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        fs.writeFileSync(next.keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      }
      const { changed } = await switchTls(domain, { certPath: next.certPath, keyPath: next.keyPath });
      return { changed };
    },

    /** Rollback: the vhost serves `previous` again (null: back to HTTP only), reloaded and verified. */
    async restoreCertificate(input: { domain: string; previous: VhostTls | null }): Promise<void> {
      const domain = requireDomain(input.domain);
      await switchTls(domain, input.previous);
    },

    /** Removes a version that is not served (a failed renewal's new pair); the served one is never touched. */
    async discardCertificate(input: { domain: string; serial: string }): Promise<boolean> {
      const domain = requireDomain(input.domain);
      if (serialOfPath(certsDir, domain, vhostSpecOrNull(domain)?.tls?.certPath) === input.serial) return false;
      const removed = removeVersion(certsDir, domain, input.serial);
      removeDomainDirIfEmpty(certsDir, domain);
      return removed;
    },

    /** After a verified renewal: keeps the served version and the one before it, removes older ones. */
    async pruneCertificates(input: { domain: string; keep: string[] }): Promise<number> {
      const domain = requireDomain(input.domain);
      const served = serialOfPath(certsDir, domain, vhostSpecOrNull(domain)?.tls?.certPath);
      const keep = new Set([...input.keep, ...(served ? [served] : [])]);
      let removed = 0;
      for (const v of listVersions(certsDir, domain)) if (!keep.has(v.serial) && removeVersion(certsDir, domain, v.serial)) removed++;
      return removed;
    },

    /**
     * Undo of a first issuance (provisioning rolled back): the vhost goes back to HTTP only, then every
     * version of the domain is removed. Idempotent; a domain without a vhost only loses its files.
     */
    async removeCertificates(input: { domain: string }): Promise<number> {
      const domain = requireDomain(input.domain);
      if (vhostSpecOrNull(domain)?.tls) await switchTls(domain, null);
      else if (config.mailTls) await publishMailCertificate(config.mailTls, domain, null);
      let removed = 0;
      for (const v of listVersions(certsDir, domain)) if (removeVersion(certsDir, domain, v.serial)) removed++;
      removeDomainDirIfEmpty(certsDir, domain);
      return removed;
    },

    /** The certificate nginx serves for `domain` (TLS handshake with SNI on this node's HTTPS port). */
    async probeServedCertificate(input: { domain: string }) {
      const domain = requireDomain(input.domain);
      return servedCertificate(config.nginx.listenIp, config.nginx.httpsPort, domain);
    },
  };

  function vhostSpecOrNull(domain: string) {
    try {
      return vhostSpec(domain);
    } catch {
      return null;
    }
  }
}

export type AcmeActivities = ReturnType<typeof createAcmeActivities>;
