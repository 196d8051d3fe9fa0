import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { isTrustedCaller } from '../trusted-caller';

/** A readiness probe: resolves (optionally with details for operators) or throws. */
export type HealthCheckFn = () => Promise<Record<string, unknown> | void>;
export type HealthCheck = HealthCheckFn | { critical: boolean; run: HealthCheckFn };

/** A probe slower than this counts as failing: a frozen dependency must not hang readiness. */
const CHECK_TIMEOUT_MS = 3000;

const checkResult = z.object({
  status: z.enum(['ok', 'failing']),
  latencyMs: z.number(),
  critical: z.boolean(),
  error: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
// `checks` only for a trusted caller (api/trusted-caller.ts): they name pollers, disk paths, SSH targets.
const readyBody = z.object({ status: z.string(), checks: z.record(z.string(), checkResult).optional() });
type CheckResult = z.infer<typeof checkResult>;

async function runCheck(check: HealthCheck): Promise<CheckResult> {
  const { critical, run } = typeof check === 'function' ? { critical: true, run: check } : check;
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  try {
    const details = await Promise.race([
      run(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS).unref(),
      ),
    ]);
    return { status: 'ok', latencyMs: latencyMs(), critical, ...(details ? { details } : {}) };
  } catch (err) {
    const e = err as Error & { details?: Record<string, unknown> };
    return { status: 'failing', latencyMs: latencyMs(), critical, error: e.message, ...(e.details ? { details: e.details } : {}) };
  }
}

/**
 * Liveness (`/health`: the process answers) and readiness (`/health/ready`: what it depends on answers).
 * Readiness answers 503 when a critical check fails (database, Temporal) and names the failing checks in
 * `status`: `failing: database` (503) or `degraded: ssh, dns` (200: the API still serves, some features
 * will not work). Each check carries its latency; results also feed the npanel_health_check_* metrics. The
 * names and details go only to a trusted caller (loopback or an admin token); others get `ok` / `failing`.
 */
export const healthPlugin: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  const runAll = async () => {
    const entries = await Promise.all(Object.entries(deps.checks).map(async ([name, check]) => [name, await runCheck(check)] as const));
    if (app.hasDecorator('metrics')) {
      for (const [name, r] of entries) {
        app.metrics.checkUp.set({ check: name, critical: String(r.critical) }, r.status === 'ok' ? 1 : 0);
        app.metrics.checkLatency.set({ check: name }, r.latencyMs / 1000);
        if (r.status === 'failing') app.metrics.checkFailures.inc({ check: name });
      }
    }
    return entries;
  };

  if (deps.healthProbeIntervalMs) {
    // Dependency failures (the SSH and DNS failure-spike alerts) must be counted even when nobody asks.
    let timer: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      timer = setInterval(() => void runAll().catch(() => undefined), deps.healthProbeIntervalMs).unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
  }

  app.get('/health', { config: { access: 'public' }, schema: { response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/health/ready',
    {
      config: { access: 'public' },
      schema: { response: { 200: readyBody, 503: readyBody } },
    },
    async (request, reply) => {
      const entries = await runAll();
      const failing = entries.filter(([, r]) => r.status === 'failing');
      const critical = failing.filter(([, r]) => r.critical).map(([n]) => n);
      const code = critical.length ? 503 : 200;
      // Anyone else (a load balancer, the internet through nginx) learns only ready or not.
      if (!(await isTrustedCaller(request, deps.verifyToken)))
        return reply.status(code).send({ status: critical.length ? 'failing' : 'ok' });
      const names = failing.map(([n]) => n).join(', ');
      const status = critical.length ? `failing: ${names}` : failing.length ? `degraded: ${names}` : 'ok';
      return reply.status(code).send({ status, checks: Object.fromEntries(entries) });
    },
  );
};
