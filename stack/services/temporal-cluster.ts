import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { loadTemporalYaml } from '../../config/load';
import type { StackContext } from '../context';
import { startDaemon, type RunningDaemon } from '../daemon';
import { assertPortsFree } from '../ports';
import { connectTemporal, stackTemporalTarget } from '../temporal-target';
import { ensureGoTools, type GoTools } from './go-tools';
import { postgresBinDir, postgresInfo, startPostgres } from './postgres';
import { writeClusterConfig } from './temporal-cluster-config';
import { ensureTemporalPki } from './temporal-pki';

const execFileP = promisify(execFile);

/** Temporal's two databases and the schema each gets (both embedded in temporal-sql-tool). */
const DATABASES = [
  { db: 'temporal', schema: 'postgresql/v12/temporal' },
  { db: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

export function temporalClusterInfo(ctx: StackContext) {
  const target = stackTemporalTarget(ctx, 'operator');
  return {
    address: target.address,
    namespace: target.namespace,
    ui: `http://127.0.0.1:${ctx.ports.temporalUi}`,
    mode: 'cluster' as const,
    tls: { ca: target.tls!.caFile, cert: target.tls!.certFile, key: target.tls!.keyFile },
  };
}

/** One answer from the private PostgreSQL (as Temporal's role; the password travels in the environment only). */
async function psql(ctx: StackContext, db: string, query: string): Promise<string> {
  const pg = postgresInfo(ctx);
  const { stdout } = await execFileP(
    path.join(postgresBinDir(), 'psql'),
    ['-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', db, '-tAc', query],
    {
      env: { ...process.env, PGPASSWORD: pg.password },
    },
  );
  return stdout.trim();
}

/**
 * Both databases at the schema this server version needs. A database is created and its versioning tables
 * set up only when missing (so a half-made one from a killed first start is finished, never wiped);
 * `update-schema` runs at every start and only applies versions not yet applied (~0.2 s when current).
 */
async function setupSchema(ctx: StackContext, tools: GoTools): Promise<void> {
  const pg = postgresInfo(ctx);
  const env = { ...process.env, SQL_PASSWORD: pg.password };
  const base = ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user];
  const tool = (db: string, ...args: string[]) => execFileP(tools.sqlTool, [...base, '--db', db, ...args], { env });
  for (const { db, schema } of DATABASES) {
    if ((await psql(ctx, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${db}'`)) !== '1') await tool(db, 'create-database');
    if ((await psql(ctx, db, `SELECT to_regclass('schema_version') IS NOT NULL`)) !== 't') await tool(db, 'setup-schema', '-v', '0.0');
    await tool(db, 'update-schema', '--schema-name', schema);
  }
}

/**
 * The namespace, made with the retention temporal.yaml gives (a real cluster has only `temporal-system`);
 * an existing one gets that retention again if it was changed. Search attributes are the worker's (worker/
 * search-attributes.ts), as with the dev server.
 */
async function ensureNamespace(connection: Connection, namespace: string, retentionDays: number): Promise<void> {
  const retention = msToTs(`${retentionDays}d`);
  try {
    const found = await connection.workflowService.describeNamespace({ namespace });
    if (Number(found.config?.workflowExecutionRetentionTtl?.seconds ?? 0) !== retentionDays * 86_400) {
      await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: retention } });
    }
  } catch (err) {
    if ((err as { code?: number }).code !== 5 /* NOT_FOUND */) throw err;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention });
  }
}

/**
 * `up --temporal cluster`: PostgreSQL, the schema, the Temporal server from the rendered production config
 * (mTLS frontend) with the namespace, and Temporal Web with the codec endpoint. Each daemon goes to `track` as
 * soon as it runs, so a failure later stops the earlier ones.
 */
export async function startTemporalCluster(ctx: StackContext, track: (d: Promise<RunningDaemon>) => Promise<RunningDaemon>): Promise<void> {
  const p = ctx.ports;
  await assertPortsFree('Temporal cluster', [p.temporal, p.temporalUi, p.temporalHttp, p.temporalMetrics, ...Object.values(p.cluster)]);
  const tools = await ensureGoTools((line) => ctx.log.warn(line));
  const pki = await ensureTemporalPki(ctx);
  const files = writeClusterConfig(ctx, pki);
  await track(startPostgres(ctx));
  await setupSchema(ctx, tools);

  const target = stackTemporalTarget(ctx, 'operator');
  const pg = postgresInfo(ctx);
  const yaml = loadTemporalYaml(path.join(ctx.root, 'temporal.yaml'));
  await track(
    startDaemon({
      name: 'temporal',
      command: tools.server,
      args: ['--config-file', files.server, 'start'],
      // The `{{ env … }}` templates of production.yaml, as /etc/temporal/temporal.env gives them in production.
      env: {
        ...process.env,
        TEMPORAL_DB_ADDR: `${pg.host}:${pg.port}`,
        TEMPORAL_DB_PASSWORD: pg.password,
        TEMPORAL_METRICS_PORT: String(p.temporalMetrics),
      },
      logDir: ctx.logDir,
      readyTimeoutMs: 60_000,
      ready: async () => {
        const connection = await connectTemporal(target, 500);
        try {
          await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
          await ensureNamespace(connection, target.namespace, yaml.retentionDays);
          await connection.workflowService.describeNamespace({ namespace: target.namespace });
          return true;
        } finally {
          await connection.close();
        }
      },
    }),
  );
  await track(
    startDaemon({
      name: 'temporal-ui',
      command: tools.uiServer,
      args: ['--root', files.uiRoot, '--config', path.basename(files.dir), '--env', files.uiEnv, 'start'],
      logDir: ctx.logDir,
      readyTimeoutMs: 30_000,
      ready: async () => (await fetch(`http://127.0.0.1:${p.temporalUi}/`, { signal: AbortSignal.timeout(1000) })).ok,
    }),
  );
}
