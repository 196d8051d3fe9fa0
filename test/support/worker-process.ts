import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { hostingNodes, createStackContext } from '../../stack/context';
import { processEnv } from '../../stack/env';
import { queueHasPollers } from '../../stack/services/npanel-processes';
import { nodeTaskQueue } from '../../common/task-queues';
import type { LoadedStack } from './stack';

/**
 * A worker process of the test's own, for tests that kill a worker on purpose. It plays an extra hosting node
 * (`nodeId`) that shares node a's daemons (nginx, Dovecot, MariaDB) but polls its own task queue, so killing
 * it disturbs no other test: the harness's workers keep serving everyone else.
 */
export interface OwnWorker {
  nodeId: string;
  pid(): number;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function ownNodeWorker(stack: LoadedStack, nodeId: string): Promise<OwnWorker> {
  const root = process.env.NPANEL_REPO_ROOT ?? path.resolve(__dirname, '..', '..', '..');
  const portBase = Number(new URL(stack.file.api).port);
  const ctx = createStackContext({ root, home: stack.home, portBase, log: pino({ level: 'silent' }) });
  const [a] = hostingNodes(ctx, false);
  const metrics = await freePort();
  const node = { ...a!, id: nodeId, ports: { ...a!.ports, workerMetrics: metrics } };
  const env = { ...process.env, ...processEnv(ctx, node, ['node']) };
  const logFile = path.join(stack.home, 'logs', `worker-${nodeId}.log`);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const out = fs.openSync(logFile, 'a');
    child = spawn(process.execPath, [path.join(root, 'dist', 'worker', 'main.js')], { env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const c = child;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    const deadline = Date.now() + 60_000;
    // This child's poller, not any: right after a kill Temporal still lists the dead worker's.
    while (!(await queueHasPollers(stack.file.temporal.address, nodeTaskQueue(nodeId), 'activity', c.pid).catch(() => false))) {
      if (c.exitCode !== null) throw new Error(`worker ${nodeId} exited with ${c.exitCode} (see ${logFile})`);
      if (Date.now() > deadline) throw new Error(`worker ${nodeId} did not poll within 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await start();
  return {
    nodeId,
    pid: () => child!.pid!,
    start,
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child?.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
