import type { NpanelConfig } from '../config/schema';
import type { Repositories } from '../db/repositories';
import { mailLayout } from './mail-layout';
import { eximGid } from './system-ids';
import { createAcmeActivities } from './acme';
import { createCertificateInventoryActivities } from './acme-inventory';
import { createAuditRetentionActivities } from './audit-retention';
import { createDnsActivities } from './dns';
import { createFilesActivities } from './files';
import { createFtpActivities } from './ftp';
import { createInventoryActivities } from './inventory';
import { createMailActivities } from './mail';
import { createMigrationActivities } from './migration';
import { createMigrationInventoryActivities } from './migration-inventory';
import { createMysqlActivities } from './mysql';
import { createNginxActivities } from './nginx';
import { createSiteActivities } from './site';

/**
 * Wires every activity module with its injected config. Control activities run on the shared `npanel` queue
 * (inventory, PowerDNS API); node activities on `npanel-node-<id>` of the node that owns the resource.
 */
export function createControlActivities(config: NpanelConfig, repos: Repositories) {
  return {
    ...createInventoryActivities(repos),
    ...createAuditRetentionActivities(repos),
    ...createMigrationInventoryActivities(repos),
    ...createCertificateInventoryActivities(repos),
    ...createDnsActivities({
      apiUrl: config.dns.apiUrl,
      apiKey: config.dns.apiKey,
      nameservers: config.dns.nameservers,
      hostmaster: config.dns.hostmaster,
      defaultTtl: config.dns.defaultTtl,
    }),
  };
}

export function createNodeActivities(config: NpanelConfig) {
  const mysql = createMysqlActivities(config.mysqlAdmin);
  const layout = mailLayout({ dir: config.mail.layoutRoot });
  const files = createFilesActivities(config.files);
  const nginx = createNginxActivities(config.nginx);
  const activities = {
    ...files,
    ...nginx,
    ...createSiteActivities(files, nginx),
    ...createAcmeActivities({
      nginx: config.nginx,
      acme: config.acme,
      codecKey: config.codec.key,
      mailTls: {
        dir: layout.tlsDir,
        dovecotSniConf: layout.dovecotSniConf,
        eximGid: eximGid(),
        doveConf: config.mail.doveConf,
        ...(config.mail.imapsPort ? { imaps: { host: config.nginx.listenIp, port: config.mail.imapsPort } } : {}),
      },
    }),
    ...createMailActivities({
      dbDir: layout.dbDir,
      usersDir: layout.usersDir,
      domainsDir: layout.domainsDir,
      suspendedDir: layout.suspendedDir,
      vmailDir: layout.vmailDir,
      vmailUid: config.mail.vmailUid,
      vmailGid: config.mail.vmailGid,
      doveConf: config.mail.doveConf,
    }),
    ...createFtpActivities({
      passwdFile: config.ftp.passwdFile,
      pdbFile: config.ftp.pdbFile,
      uid: config.files.ownerUid,
      gid: config.files.ownerGid,
    }),
    ...mysql.activities,
    ...createMigrationActivities({
      webRoot: config.files.webRoot,
      web: { uid: config.files.ownerUid, gid: config.files.ownerGid },
      vmail: { dir: layout.vmailDir, uid: config.mail.vmailUid, gid: config.mail.vmailGid },
      mysqlAdmin: config.mysqlAdmin,
      nginx: { listenIp: config.nginx.listenIp, httpPort: config.nginx.httpPort },
    }),
  };
  return { activities, close: mysql.close };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type NodeActivities = ReturnType<typeof createNodeActivities>['activities'];
