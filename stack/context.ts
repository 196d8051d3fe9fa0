import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { stackPorts, type StackPorts } from './ports';
import type { TemporalMode } from './temporal-target';

/** Secrets of one stack instance: made once, kept in `<home>/secrets.json` (0600) so restarts keep data usable. */
export interface StackSecrets {
  mysqlAdminPassword: string;
  inventoryPassword: string;
  pdnsApiKey: string;
  /** AES-256-GCM key of the payload codec, base64. */
  codecKey: string;
  codecKeyId: string;
  adminToken: string;
  /** Password of the sample database on the migration source. */
  sourceDbPassword: string;
  /** Temporal's role in the private PostgreSQL of `up --temporal cluster`. */
  temporalDbPassword: string;
}

export interface StackContext {
  /** Repository root (where package.json is). */
  root: string;
  /** Absolute state folder: `.npanel` for `up`, a private folder for tests. */
  home: string;
  logDir: string;
  ports: StackPorts;
  secrets: StackSecrets;
  nodeId: string;
  nodeIp: string;
  /** The dev server (default) or a real cluster (`up --temporal cluster`). */
  temporalMode: TemporalMode;
  log: Logger;
}

export interface HostingNode {
  id: string;
  ip: string;
  /** Root of this node's private folders: `<home>/nodes/<id>`. */
  dir: string;
  ports: {
    nginxHttp: number;
    nginxHttps: number;
    imap: number;
    imaps: number;
    lmtp: number;
    smtp: number;
    submission: number;
    ftp: number;
    ftpPassiveLow: number;
    ftpPassiveHigh: number;
    workerMetrics: number;
  };
}

export function hostingNodes(ctx: StackContext, withNodeB: boolean): HostingNode[] {
  const a: HostingNode = {
    id: ctx.nodeId,
    ip: ctx.nodeIp,
    dir: path.join(ctx.home, 'nodes', ctx.nodeId),
    ports: {
      nginxHttp: ctx.ports.nginxHttp,
      nginxHttps: ctx.ports.nginxHttps,
      imap: ctx.ports.imap,
      imaps: ctx.ports.imaps,
      lmtp: ctx.ports.lmtp,
      smtp: ctx.ports.smtp,
      submission: ctx.ports.submission,
      ftp: ctx.ports.ftp,
      ftpPassiveLow: ctx.ports.ftpPassiveLow,
      ftpPassiveHigh: ctx.ports.ftpPassiveHigh,
      workerMetrics: ctx.ports.workerMetrics,
    },
  };
  if (!withNodeB) return [a];
  const b: HostingNode = { id: 'b', ip: ctx.nodeIp, dir: path.join(ctx.home, 'nodes', 'b'), ports: ctx.ports.nodeB };
  return [a, b];
}

function randomSecret(bytes = 24): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function loadOrCreateSecrets(home: string): StackSecrets {
  const file = path.join(home, 'secrets.json');
  const existing: Partial<StackSecrets> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const secrets: StackSecrets = {
    mysqlAdminPassword: existing.mysqlAdminPassword ?? randomSecret(),
    inventoryPassword: existing.inventoryPassword ?? randomSecret(),
    pdnsApiKey: existing.pdnsApiKey ?? randomSecret(),
    codecKey: existing.codecKey ?? crypto.randomBytes(32).toString('base64'),
    codecKeyId: existing.codecKeyId ?? `dev-${crypto.randomBytes(4).toString('hex')}`,
    adminToken: existing.adminToken ?? `npa_${randomSecret(32)}`,
    sourceDbPassword: existing.sourceDbPassword ?? randomSecret(),
    temporalDbPassword: existing.temporalDbPassword ?? randomSecret(),
  };
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function createStackContext(opts: {
  root: string;
  home: string;
  portBase: number;
  log: Logger;
  temporalMode?: TemporalMode;
}): StackContext {
  const home = path.resolve(opts.home);
  fs.mkdirSync(home, { recursive: true, mode: 0o755 });
  fs.chmodSync(home, 0o755); // daemons that drop to their own users (mysql, pdns, dovecot) must traverse it
  const logDir = path.join(home, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  return {
    root: opts.root,
    home,
    logDir,
    ports: stackPorts(opts.portBase),
    secrets: loadOrCreateSecrets(home),
    nodeId: 'a',
    nodeIp: '127.0.0.1',
    temporalMode: opts.temporalMode ?? 'dev',
    log: opts.log,
  };
}
