import type { FilesActivities } from './files';
import type { NginxActivities } from './nginx';

/**
 * The web site of an account as one node activity: its docroot, then its vhost. Provisioning runs this beside
 * the separate docroot step (which FTP waits for) instead of after it: the vhost, with its nginx reload, is the
 * longest step of an account, and waiting for the docroot's activity round trip first cost ~50 ms of every
 * provisioning (bench/provision.ts). ensureDocroot is synchronous and idempotent, so running it twice in one
 * worker cannot race, and it refuses a planted symlink before the vhost could ever point into it.
 */
export function createSiteActivities(files: Pick<FilesActivities, 'ensureDocroot'>, nginx: Pick<NginxActivities, 'ensureVhost'>) {
  return {
    async ensureSiteVhost(input: { account: string; domain: string }) {
      const { path: docroot } = await files.ensureDocroot(input);
      const vhost = await nginx.ensureVhost({ domain: input.domain, docroot });
      return { ...vhost, docroot };
    },
  };
}
