import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import type { WorkerTelemetry } from './metrics';

/**
 * One scrape target per worker: `GET /metrics` on `metrics.workerPort` answers our prom-client registry
 * followed by the Temporal SDK's runtime metrics, which the SDK's own exporter serves on a private loopback
 * port (`metrics.sdkPort`). Merging keeps Prometheus' scrape config and the operators' view to one endpoint
 * per worker; the names never clash (ours are npanel_*, process_*, nodejs_*; the SDK's temporal_*).
 */
export function startWorkerMetricsServer(opts: {
  port: number;
  host?: string;
  sdkPort: number;
  telemetry: WorkerTelemetry;
  log: Logger;
}): Promise<http.Server> {
  const { telemetry } = opts;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    void (async () => {
      const sdk = await fetch(`http://127.0.0.1:${opts.sdkPort}/metrics`, { signal: AbortSignal.timeout(2000) })
        .then((r) => (r.ok ? r.text() : null))
        .catch(() => null);
      telemetry.metrics.sdkUp.set(sdk === null ? 0 : 1);
      const own = await telemetry.registry.metrics();
      res.writeHead(200, { 'content-type': telemetry.registry.contentType });
      res.end(sdk ? `${own.trimEnd()}\n${sdk.trimEnd()}\n` : own);
    })().catch((err: Error) => {
      opts.log.warn({ err: err.message }, 'metrics exposition failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server));
  });
}

/**
 * A free loopback port for the SDK exporter when `metrics.sdkPort` is not configured (the embedded stack):
 * the SDK binds it right after, so the window for another process to take it is a few milliseconds.
 * Production sets NPANEL_METRICS_SDK_PORT explicitly.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
