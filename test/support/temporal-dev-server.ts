import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_NAMES } from '../../common/constants';
import { dynamicConfigArgs, temporalBinary } from '../../stack/services/temporal';

/**
 * A private, in-memory Temporal dev server for the benchmarks (bench/renewal-sweep.ts), which drive it from outside.
 * Headless, on free ports, with NPanel's search attributes; stop() kills it. Workflow-logic tests with fake
 * activities use the SDK's TestWorkflowEnvironment instead (test/support/workflow-env.ts), which downloads
 * nothing when given the installed binary (`executable: { type: 'existing-path' }`).
 */
export interface DevServer {
  address: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startDevServer(): Promise<DevServer> {
  const port = await freePort();
  const httpPort = await freePort();
  const metricsPort = await freePort();
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--namespace',
    'default',
    '--log-level',
    'error',
  ];
  args.push(...dynamicConfigArgs());
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  const child: ChildProcess = spawn(temporalBinary(), args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 500 });
      try {
        await c.workflowService.describeNamespace({ namespace: 'default' });
        break;
      } finally {
        await c.close();
      }
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
