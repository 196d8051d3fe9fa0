import type { NpanelConfig } from '../config/schema';
import type { Repositories } from '../db/repositories';
import { mailLayout } from '../stack/services/mail-layout';
import { createDnsActivities } from './dns';
import { createFilesActivities } from './files';
import { createFtpActivities } from './ftp';
import { createInventoryActivities } from './inventory';
import { createMailActivities } from './mail';
import { createMysqlActivities } from './mysql';
import { createNginxActivities } from './nginx';

/**
 * Wires every activity module with its injected config. Control activities run on the shared `npanel` queue
 * (inventory, PowerDNS API); node activities on `npanel-node-<id>` of the node that owns the resource.
 */
export function createControlActivities(config: NpanelConfig, repos: Repositories) {
  return {
    ...createInventoryActivities(repos),
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
  const activities = {
    ...createFilesActivities(config.files),
    ...createNginxActivities(config.nginx),
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
    ...createFtpActivities({ passwdFile: config.ftp.passwdFile, pdbFile: config.ftp.pdbFile, uid: config.files.ownerUid, gid: config.files.ownerGid }),
    ...mysql.activities,
  };
  return { activities, close: mysql.close };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type NodeActivities = ReturnType<typeof createNodeActivities>['activities'];
