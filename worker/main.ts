import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig, runMain } from '../config/load';
import { createLogger } from '../lib/logger';
import { temporalTlsOptions } from '../lib/temporal-tls';
import { codecFromConfig, workerCodecFromConfig } from '../lib/codec';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../common/task-queues';
import { createControlActivities, createNodeActivities } from '../activities';
import { installRuntime } from './runtime';
import { createWorkerTelemetry } from './metrics';
import { freeLoopbackPort, startWorkerMetricsServer } from './metrics-server';
import { ensureSearchAttributes } from './search-attributes';
import { ensureSchedules } from './schedules';
import { WORKFLOW_BUNDLE_PATH, WORKFLOW_INTERCEPTOR_MODULES } from './bundle';
import { createDb } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { createRepositories } from '../db/repositories';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('worker').child({ node: config.node.id });
  // The SDK's exporter listens privately; workerPort serves it merged with our own metrics (worker/metrics-server.ts).
  const sdkPort = config.metrics.sdkPort ?? (await freeLoopbackPort());
  installRuntime(log, sdkPort);
  const telemetry = createWorkerTelemetry({
    node: config.node.id,
    nginxConf: config.workerRoles.includes('node') ? config.nginx.conf : undefined,
  });
  const metricsServer = await startWorkerMetricsServer({ port: config.metrics.workerPort, sdkPort, telemetry, log });

  const tls = temporalTlsOptions(config.temporal.tls);
  const clientConnection = await Connection.connect({ address: config.temporal.address, tls });
  await ensureSearchAttributes(clientConnection, config.temporal.namespace, log);
  if (config.workerRoles.includes('control')) {
    // The certificate sweep's Schedule, created or updated from temporal.yaml (its args go through the codec).
    const client = new Client({
      connection: clientConnection,
      namespace: config.temporal.namespace,
      dataConverter: { payloadCodecs: [codecFromConfig(config.codec)] },
    });
    await ensureSchedules(client, config, log);
  }
  await clientConnection.close();

  // Every worker registers its node, so the API can route accounts to it and refuse unknown nodes.
  const database = createDb(config.inventory);
  await applyMigrations(database.db);
  const repos = createRepositories(database.db);
  await repos.nodes.upsert({ id: config.node.id, ip: config.node.ip });

  const connection = await NativeConnection.connect({ address: config.temporal.address, tls });
  // Refusing mode: a payload a client without the key sent never reaches a workflow as input.
  const dataConverter = { payloadCodecs: [workerCodecFromConfig(config.codec)] };
  const workflowSource = fs.existsSync(WORKFLOW_BUNDLE_PATH)
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: require.resolve('../workflows') };
  // A prebuilt bundle carries the workflow interceptor already (worker/bundle.ts); bundling here must add it.
  const workflowModules = 'workflowBundle' in workflowSource ? [] : WORKFLOW_INTERCEPTOR_MODULES;

  const workers: Worker[] = [];
  if (config.workerRoles.includes('control')) {
    workers.push(
      await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: CONTROL_TASK_QUEUE,
        dataConverter,
        ...workflowSource,
        sinks: telemetry.sinks,
        interceptors: { activity: telemetry.activityInterceptors, workflowModules },
        activities: createControlActivities(config, repos),
      }),
    );
  }
  let closeNode = async () => {};
  if (config.workerRoles.includes('node')) {
    const node = createNodeActivities(config);
    closeNode = node.close;
    workers.push(
      await Worker.create({
        connection,
        namespace: config.temporal.namespace,
        taskQueue: nodeTaskQueue(config.node.id),
        dataConverter,
        interceptors: { activity: telemetry.activityInterceptors },
        activities: node.activities,
      }),
    );
  }
  log.info({ queues: workers.map((w) => w.options.taskQueue) }, 'worker polling');
  // Worker.run handles SIGINT/SIGTERM itself (shutdownSignals): in-flight tasks finish, then run() resolves.
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
  await closeNode();
  await database.close();
  metricsServer.close();
  log.info('worker stopped');
}

runMain(main);
