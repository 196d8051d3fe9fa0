import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { nginxReloader } from './nginx-reloader';
import { parseVhostHeader, renderVhost, type VhostEnv, type VhostSpec } from './nginx-vhost';
import { requireDomain, safePathSchema } from './web-names';
import { FAILURE } from '../common/failure-types';

/** Paths and ports of one node's nginx; built from `nginxLayout(node)` in the stack, system paths in production. */
export interface NginxConfig {
  bin: string;
  prefix: string;
  conf: string;
  errorLog: string;
  sitesDir: string;
  certsDir: string;
  challengeDir: string;
  suspendedPage: string;
  httpPort: number;
  httpsPort: number;
  listenIp: string;
}

export interface VhostTls {
  certPath: string;
  keyPath: string;
}

function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE.InvalidInput);
}

function parsePath(what: string, value: unknown): string {
  const r = safePathSchema.safeParse(value);
  return r.success ? r.data : invalid(`invalid ${what} ${JSON.stringify(value)}: ${r.error.issues[0]?.message}`);
}

export function createNginxActivities(config: NginxConfig) {
  const reloader = nginxReloader(config);
  const env: VhostEnv = {
    listenIp: config.listenIp,
    httpPort: config.httpPort,
    httpsPort: config.httpsPort,
    challengeDir: config.challengeDir,
    suspendedPage: config.suspendedPage,
  };
  const fileOf = (domain: string) => path.join(config.sitesDir, `${domain}.conf`);
  const current = (domain: string): { text: string | null; spec: VhostSpec | null } => {
    let text: string | null = null;
    try {
      text = fs.readFileSync(fileOf(domain), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return { text, spec: text === null ? null : parseVhostHeader(text) };
  };

  return {
    /**
     * Creates or updates the vhost of `domain` (and www.domain). Same content as on disk: no reload. A vhost
     * that is suspended stays suspended: the new spec is stored and served once it is unsuspended.
     * A config nginx rejects (e.g. a missing certificate) fails with NginxConfigRejected and is undone.
     */
    async ensureVhost(input: { domain: string; docroot: string; tls?: VhostTls | null; redirectHttps?: boolean }) {
      const domain = requireDomain(input.domain);
      const docroot = parsePath('docroot', input.docroot);
      const tls = input.tls
        ? { certPath: parsePath('certPath', input.tls.certPath), keyPath: parsePath('keyPath', input.tls.keyPath) }
        : null;
      const suspended = current(domain).spec?.suspended ?? false;
      const spec: VhostSpec = { domain, docroot, tls, redirectHttps: input.redirectHttps === true, suspended };
      const { changed } = await reloader.apply(fileOf(domain), renderVhost(spec, env));
      return { domain, file: fileOf(domain), changed, suspended };
    },

    /** Deletes the vhost if present; unknown hosts then get the default server's 404. */
    async removeVhost(input: { domain: string }) {
      const domain = requireDomain(input.domain);
      const { changed } = await reloader.apply(fileOf(domain), null);
      return { domain, changed };
    },

    /**
     * Suspended: every path answers 503 with the suspended page, except the ACME challenge (renewals keep
     * working). The spec stays in the file's header, so unsuspending re-renders the normal vhost.
     */
    async setVhostSuspended(input: { domain: string; suspended: boolean }) {
      const domain = requireDomain(input.domain);
      if (typeof input.suspended !== 'boolean') invalid('suspended must be a boolean');
      const { text, spec } = current(domain);
      if (text === null) {
        throw ApplicationFailure.nonRetryable(`no vhost for ${domain}`, FAILURE.VhostNotFound);
      }
      if (spec === null) {
        throw ApplicationFailure.nonRetryable(`vhost file of ${domain} is not managed by NPanel`, FAILURE.VhostUnmanaged);
      }
      const { changed } = await reloader.apply(fileOf(domain), renderVhost({ ...spec, suspended: input.suspended }, env));
      return { domain, suspended: input.suspended, changed };
    },

    async vhostStatus(input: { domain: string }) {
      const domain = requireDomain(input.domain);
      const { text, spec } = current(domain);
      return {
        domain,
        exists: text !== null,
        suspended: spec?.suspended ?? false,
        tls: spec ? spec.tls !== null : /\blisten\s+\S+\s+ssl\b/.test(text ?? ''),
      };
    },
  };
}

export type NginxActivities = ReturnType<typeof createNginxActivities>;
