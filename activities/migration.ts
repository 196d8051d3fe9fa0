import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { isDomainName, isMailLocal } from '../common/names';
import { copyDatabase, sourceDatabaseSizes } from './migration-db';
import type { MysqlAdminConfig } from './mysql';
import { checkRemotePath } from './remote-quote';
import { sshConnect, type SshTarget } from './ssh-connect';
import { sweepStaleCredentials } from './ssh-credentials';
import { insideRoot, remoteManifest, syncTree } from './transfer-sync';
import { FAILURE } from '../common/failure-types';

/** Node activities of migrateSite: they run on the target node, which pulls from the source over SSH. */
export interface MigrationConfig {
  webRoot: string;
  web: { uid: number; gid: number };
  vmail: { dir: string; uid: number; gid: number };
  mysqlAdmin: MysqlAdminConfig;
  nginx: { listenIp: string; httpPort: number };
}

/** Room kept free beyond the copy itself: a full disk breaks every site of the node, not just this one. */
const SPACE_MARGIN = 1.1;

export function createMigrationActivities(config: MigrationConfig) {
  // Built once at worker start: key copies a SIGKILLed predecessor left in the temp folder go now.
  sweepStaleCredentials();
  return {
    /**
     * Reach (host key pinned), inventory (files, bytes, refused names, database sizes) and target space.
     * A wrong host key is final; an unreachable source is transient (retried, then the operator gate).
     */
    async migrationPreflight(input: { source: SshTarget; docroot: string; databases: string[] }) {
      const docroot = checkRemotePath(input.docroot, 'source.docroot');
      const session = await sshConnect(input.source);
      try {
        const manifest = await remoteManifest(session, docroot);
        const sizes = await sourceDatabaseSizes(session, input.databases);
        const missing = input.databases.filter((d) => !sizes.has(d));
        if (missing.length)
          throw ApplicationFailure.nonRetryable(
            `source databases not found or not readable: ${missing.join(', ')}`,
            FAILURE.SourceDatabaseMissing,
          );
        const dbBytes = [...sizes.values()].reduce((a, b) => a + b, 0);
        const st = fs.statfsSync(fs.existsSync(config.webRoot) ? config.webRoot : path.dirname(config.webRoot));
        const freeBytes = st.bavail * st.bsize;
        const neededBytes = Math.ceil((manifest.bytes + dbBytes * 2) * SPACE_MARGIN);
        if (freeBytes < neededBytes) throw new Error(`target has ${freeBytes} bytes free, the migration needs about ${neededBytes}`);
        return {
          files: manifest.files,
          bytes: manifest.bytes,
          refused: manifest.refused.slice(0, 50),
          refusedCount: manifest.refused.length,
          databases: input.databases.map((name) => ({ name, bytes: sizes.get(name)! })),
          freeBytes,
          neededBytes,
          /** The verified host key (public): the copy steps pin it and log in ahead of their listing. */
          hostKey: session.hostKey,
        };
      } finally {
        session.end();
      }
    },

    async migrationSyncFiles(input: {
      source: SshTarget;
      sourceDocroot: string;
      docroot: string;
      pass: 'initial' | 'delta';
      hostKey?: string;
    }) {
      return syncTree(
        {
          source: input.source,
          remoteDir: input.sourceDocroot,
          localDir: input.docroot,
          pass: input.pass,
          owner: config.web,
          hostKey: input.hostKey,
        },
        (dir) => insideRoot(config.webRoot, dir),
      );
    },

    /** One maildir into a mailbox's Maildir (which ensureMailbox made), owned by the vmail user. */
    async migrationSyncMaildir(input: { source: SshTarget; maildir: string; domain: string; local: string; hostKey?: string }) {
      // Both become folders under the vmail tree: the mailbox rules, as ensureMailbox checks them.
      if (!isDomainName(input.domain) || !isMailLocal(input.local)) {
        throw ApplicationFailure.nonRetryable('invalid mailbox name', FAILURE.InvalidInput);
      }
      const localDir = path.join(config.vmail.dir, input.domain, input.local, 'Maildir');
      const res = await syncTree(
        {
          source: input.source,
          remoteDir: input.maildir,
          localDir,
          pass: 'initial',
          owner: { uid: config.vmail.uid, gid: config.vmail.gid },
          private: true,
          hostKey: input.hostKey,
        },
        (dir) => insideRoot(config.vmail.dir, dir),
      );
      return { mailbox: `${input.local}@${input.domain}`, files: res.totalFiles, bytes: res.totalBytes, refusedCount: res.refusedCount };
    },

    async migrationCopyDatabase(input: { source: SshTarget; database: string; targetDatabase: string }) {
      return copyDatabase(config.mysqlAdmin, input);
    },

    /** GET / on this node's nginx with the site's Host header: status 200 and the source index's sha256. */
    async migrationVerifySite(input: { domain: string; expectedSha256: string | null }) {
      // fetch() drops a Host header it considers forbidden; node:http sends exactly what we set.
      const res = await httpGet(config.nginx.listenIp, config.nginx.httpPort, input.domain);
      const body = res.body;
      const sha256 = crypto.createHash('sha256').update(body).digest('hex');
      if (res.status !== 200) throw new Error(`target answers ${res.status} for http://${input.domain}/`);
      if (input.expectedSha256 && sha256 !== input.expectedSha256) {
        throw new Error(
          `target serves a different index for ${input.domain}: sha256 ${sha256.slice(0, 12)}…, source ${input.expectedSha256.slice(0, 12)}…`,
        );
      }
      return { status: res.status, sha256, bytes: body.length };
    },
  };
}

export type MigrationActivities = ReturnType<typeof createMigrationActivities>;

function httpGet(host: string, port: number, hostHeader: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', headers: { Host: hostHeader }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${hostHeader}/ on ${host}:${port} timed out`)));
    req.on('error', reject);
  });
}
