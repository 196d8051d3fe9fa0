import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, runMain } from '../config/load';
import { createLogger } from '../lib/logger';
import { temporalTlsOptions } from '../lib/temporal-tls';
import { codecFromConfig } from '../lib/codec';
import { createDb } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { createRepositories } from '../db/repositories';
import { cachedTokenVerifier } from './token-cache';
import { buildApp } from './app';
import { createHealthChecks } from './health-checks';
import { createInventoryReadings } from '../lib/metrics-inventory';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('api');
  const { db, close: closeDb } = createDb(config.inventory);
  await applyMigrations(db);
  const repos = createRepositories(db);
  const tokens = repos.tokens;
  if (config.api.adminTokenFile && fs.existsSync(config.api.adminTokenFile)) {
    await tokens.ensureBootstrapAdmin(fs.readFileSync(config.api.adminTokenFile, 'utf8').trim());
  }
  const connection = await Connection.connect({ address: config.temporal.address, tls: temporalTlsOptions(config.temporal.tls) });
  const codec = codecFromConfig(config.codec);
  const temporal = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: { payloadCodecs: [codec] },
  });

  const app = await buildApp(
    {
      temporal,
      namespace: config.temporal.namespace,
      temporalUiUrl: config.temporal.uiUrl,
      publicUrl: config.api.publicUrl,
      repos,
      codec,
      defaultNode: config.node.id,
      verifyToken: cachedTokenVerifier(async (plain) => {
        const found = await tokens.verify(plain);
        return found ? { tokenId: found.id, role: found.role, account: found.account ?? null } : null;
      }),
      checks: createHealthChecks({ config, db, connection, repos }),
      inventoryReadings: createInventoryReadings(db),
      healthDiskPaths: config.api.healthDiskPaths,
      healthProbeIntervalMs: 30_000,
    },
    { loggerInstance: log },
  );

  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await app.close(); // stops accepting, lets in-flight requests finish
    await connection.close();
    await closeDb();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ host: config.api.host, port: config.api.port });
}

runMain(main);
