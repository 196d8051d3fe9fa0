import { z } from 'zod';
import { NODE_ID_PATTERN } from '../common/names/node';

/**
 * The one configuration schema of NPanel's processes (API, worker, CLI). Sources: the environment (NPANEL_*,
 * see env-keys.ts) and temporal.yaml. Every key has a form the error message can name.
 */

const port = z.coerce.number().int().min(1).max(65535);
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like 30s, 15m, 24h');
const absPath = z.string().regex(/^\//, 'an absolute path');
// The API's node id rule (common/names/node.ts), with the wording of a configuration error.
const nodeId = z.string().regex(NODE_ID_PATTERN, 'lowercase letters and digits, 1-32 characters');
const url = z.string().url();

const scheduleBase = z.object({
  id: z.string().min(1),
  every: duration,
  jitter: duration,
  overlap: z.enum(['skip', 'buffer_one', 'allow_all']),
});

export const temporalYamlSchema = z.object({
  namespace: z.string().min(1),
  retentionDays: z.number().int().min(1).max(3650),
  schedules: z.object({
    certificateRenewalSweep: scheduleBase.extend({
      renewWithinDays: z.number().int().min(1),
      maxConcurrent: z.number().int().min(1).max(100),
      paceMs: z.number().int().min(0).max(60_000).default(0),
    }),
    auditRetention: scheduleBase.extend({ keepDays: z.number().int().min(1), batchSize: z.number().int().min(1).max(100_000) }),
  }),
});

export const configSchema = z.object({
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  temporal: temporalYamlSchema.extend({
    address: z.string().regex(/^[^:\s]+:\d+$/, 'host:port'),
    uiUrl: url,
    /**
     * mTLS to a frontend that requires client certificates (`up --temporal cluster`, production): the CA that
     * signed the frontend and this process's own certificate. Unset = plain connection (the dev server).
     */
    tls: z.object({ caFile: absPath, certFile: absPath, keyFile: absPath, serverName: z.string().min(1).optional() }).optional(),
  }),
  node: z.object({ id: nodeId, ip: z.string().min(1) }),
  /** Which queues this worker polls: control (workflows) and/or node (this node's local activities). */
  workerRoles: z.array(z.enum(['control', 'node'])).min(1),
  codec: z.object({
    key: z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'base64 of exactly 32 bytes (AES-256)'),
    keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id of letters, digits, . _ -'),
  }),
  inventory: z.object({ host: z.string(), port, user: z.string(), password: z.string(), database: z.string() }),
  api: z.object({
    host: z.string(),
    port,
    publicUrl: url.optional(),
    adminTokenFile: absPath.optional(),
    // What `/health/ready` probes beyond the database and Temporal: folders whose disk must keep a free share,
    // the memory ceiling, SSH endpoints that must answer with a banner (migration sources, nodes) and the DNS
    // server that serves the zones (queried for a zone the PowerDNS API lists). All host:port.
    healthDiskPaths: z.array(absPath).default(['/']),
    healthDiskMinFreePercent: z.coerce.number().min(0).max(100).default(10),
    healthMemoryMaxUsedPercent: z.coerce.number().min(0).max(100).default(90),
    healthSshTargets: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'host:port')).default([]),
    healthDnsServer: z
      .string()
      .regex(/^[^:\s]+:\d+$/, 'host:port')
      .optional(),
  }),
  /**
   * workerPort: the worker's one scrape target (its own metrics + the SDK's, merged). sdkPort: the private
   * loopback port of the SDK's exporter; unset = a free port picked at start (fine for the embedded stack).
   */
  metrics: z.object({ workerPort: port, sdkPort: port.optional() }),
  dns: z.object({
    apiUrl: url,
    apiKey: z.string().min(8),
    nameservers: z.array(z.string()).min(1),
    hostmaster: z.string(),
    defaultTtl: z.coerce.number().int().min(30),
  }),
  mysqlAdmin: z.object({ host: z.string(), port, user: z.string(), password: z.string() }),
  nginx: z.object({
    bin: z.string(),
    prefix: absPath,
    conf: absPath,
    errorLog: absPath,
    sitesDir: absPath,
    certsDir: absPath,
    challengeDir: absPath,
    suspendedPage: absPath,
    httpPort: port,
    httpsPort: port,
    listenIp: z.string(),
  }),
  files: z.object({ webRoot: absPath, ownerUid: z.coerce.number().int().min(1), ownerGid: z.coerce.number().int().min(1) }),
  mail: z.object({
    layoutRoot: absPath,
    doveConf: absPath,
    vmailUid: z.coerce.number().int(),
    vmailGid: z.coerce.number().int(),
    imapPort: port,
    smtpPort: port,
    imapsPort: port.optional(),
    submissionPort: port.optional(),
  }),
  ftp: z.object({ passwdFile: absPath, pdbFile: absPath, port }),
  acme: z.object({ directory: url, caFile: z.string().optional(), accountEmail: z.string().email().optional() }),
});

export type NpanelConfig = z.infer<typeof configSchema>;
export type TemporalYaml = z.infer<typeof temporalYamlSchema>;
