import path from 'node:path';
import type { HostingNode, StackContext } from './context';
import { nginxLayout, NGINX_BIN } from './services/nginx';
import { ftpLayout } from './services/pureftpd';
import { mailLayout, VMAIL_GID, VMAIL_UID } from '../activities/mail-layout';
import { pebbleInfo } from './services/pebble';
import { stackTemporalTarget } from './temporal-target';

/** Uid/gid that owns web content (docroots); Pure-FTPd virtual users write as it. */
export const WEB_UID = 2000;
export const WEB_GID = 2000;

/**
 * The NPANEL_* environment of the API and of a node's worker in the embedded stack: the same variables
 * production sets in /etc/npanel/npanel.env, with the stack's private paths and ports.
 */
export function processEnv(
  ctx: StackContext,
  node: HostingNode,
  roles: ('control' | 'node')[],
  caller: 'worker' | 'api' = 'worker',
): Record<string, string> {
  const nginx = nginxLayout(node);
  const temporal = stackTemporalTarget(ctx, caller);
  const mail = mailLayout(node);
  const ftp = ftpLayout(node);
  const acme = pebbleInfo(ctx);
  return {
    NPANEL_LOG_LEVEL: process.env.NPANEL_LOG_LEVEL ?? 'info',
    NPANEL_TEMPORAL_YAML: path.join(ctx.root, 'temporal.yaml'),
    NPANEL_TEMPORAL_ADDRESS: temporal.address,
    // The cluster: production's namespace and this caller's client certificate (the frontend requires one).
    ...(temporal.tls
      ? {
          NPANEL_TEMPORAL_NAMESPACE: temporal.namespace,
          NPANEL_TEMPORAL_TLS_CA_FILE: temporal.tls.caFile,
          NPANEL_TEMPORAL_TLS_CERT_FILE: temporal.tls.certFile,
          NPANEL_TEMPORAL_TLS_KEY_FILE: temporal.tls.keyFile,
          NPANEL_TEMPORAL_TLS_SERVER_NAME: temporal.tls.serverName ?? '',
        }
      : {}),
    NPANEL_TEMPORAL_UI_URL: `http://127.0.0.1:${ctx.ports.temporalUi}`,
    NPANEL_NODE_ID: node.id,
    NPANEL_NODE_IP: node.ip,
    NPANEL_WORKER_ROLES: roles.join(','),
    NPANEL_CODEC_KEY: ctx.secrets.codecKey,
    NPANEL_CODEC_KEY_ID: ctx.secrets.codecKeyId,
    NPANEL_INVENTORY_HOST: '127.0.0.1',
    NPANEL_INVENTORY_PORT: String(ctx.ports.mysql),
    NPANEL_INVENTORY_USER: 'npanel',
    NPANEL_INVENTORY_PASSWORD: ctx.secrets.inventoryPassword,
    NPANEL_INVENTORY_DATABASE: 'npanel',
    NPANEL_API_HOST: '127.0.0.1',
    NPANEL_API_PORT: String(ctx.ports.api),
    NPANEL_API_ADMIN_TOKEN_FILE: path.join(ctx.home, 'admin-token'),
    // Readiness probes the stack's own disk, its migration source (SSH) and its PowerDNS DNS port.
    NPANEL_API_HEALTH_DISK_PATHS: ctx.home,
    NPANEL_API_HEALTH_SSH_TARGETS: `127.0.0.1:${ctx.ports.ssh}`,
    NPANEL_API_HEALTH_DNS_SERVER: `127.0.0.1:${ctx.ports.dns}`,
    NPANEL_METRICS_WORKER_PORT: String(node.ports.workerMetrics),
    NPANEL_DNS_API_URL: `http://127.0.0.1:${ctx.ports.dnsApi}`,
    NPANEL_DNS_API_KEY: ctx.secrets.pdnsApiKey,
    NPANEL_DNS_NAMESERVERS: 'ns1.npanel.test.,ns2.npanel.test.',
    NPANEL_DNS_HOSTMASTER: 'hostmaster.npanel.test.',
    NPANEL_DNS_DEFAULT_TTL: '3600',
    NPANEL_MYSQL_ADMIN_HOST: '127.0.0.1',
    NPANEL_MYSQL_ADMIN_PORT: String(ctx.ports.mysql),
    NPANEL_MYSQL_ADMIN_USER: 'npanel_admin',
    NPANEL_MYSQL_ADMIN_PASSWORD: ctx.secrets.mysqlAdminPassword,
    NPANEL_NGINX_BIN: NGINX_BIN,
    NPANEL_NGINX_PREFIX: nginx.prefix,
    NPANEL_NGINX_CONF: nginx.conf,
    NPANEL_NGINX_ERROR_LOG: nginx.errorLog,
    NPANEL_NGINX_SITES_DIR: nginx.sitesDir,
    NPANEL_NGINX_CERTS_DIR: nginx.certsDir,
    NPANEL_NGINX_CHALLENGE_DIR: nginx.challengeDir,
    NPANEL_NGINX_SUSPENDED_PAGE: nginx.suspendedPage,
    NPANEL_NGINX_HTTP_PORT: String(node.ports.nginxHttp),
    NPANEL_NGINX_HTTPS_PORT: String(node.ports.nginxHttps),
    NPANEL_NGINX_LISTEN_IP: node.ip,
    NPANEL_FILES_WEB_ROOT: nginx.webRoot,
    NPANEL_FILES_OWNER_UID: String(WEB_UID),
    NPANEL_FILES_OWNER_GID: String(WEB_GID),
    NPANEL_MAIL_LAYOUT_ROOT: node.dir,
    NPANEL_MAIL_DOVE_CONF: mail.dovecotConf,
    NPANEL_MAIL_VMAIL_UID: String(VMAIL_UID),
    NPANEL_MAIL_VMAIL_GID: String(VMAIL_GID),
    NPANEL_MAIL_IMAP_PORT: String(node.ports.imap),
    NPANEL_MAIL_SMTP_PORT: String(node.ports.smtp),
    NPANEL_MAIL_IMAPS_PORT: String(node.ports.imaps),
    NPANEL_MAIL_SUBMISSION_PORT: String(node.ports.submission),
    NPANEL_FTP_PASSWD_FILE: ftp.passwdFile,
    NPANEL_FTP_PDB_FILE: ftp.pdbFile,
    NPANEL_FTP_PORT: String(node.ports.ftp),
    NPANEL_ACME_DIRECTORY: acme.directory,
    NPANEL_ACME_CA_FILE: acme.ca,
  };
}
