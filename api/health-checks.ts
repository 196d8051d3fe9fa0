import dns from 'node:dns';
import net from 'node:net';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import type { Repositories } from '../db/repositories';
import type { NpanelConfig } from '../config/schema';
import { CONTROL_TASK_QUEUE, nodeTaskQueue } from '../common/task-queues';
import { diskUsage, memoryUsage } from '../lib/metrics-host';
import type { HealthCheck } from './plugins/health';

const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;

/** A failure that carries what the operator needs beside the message (which queue, which path). */
function failure(message: string, details: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { details });
}

/** Resolves with the server's identification line ("SSH-2.0-OpenSSH_9.2p1 ..."): reachable, no login needed. */
export function sshBanner(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf = '';
    const done = (err: Error | null, banner?: string) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(banner!);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`${host}:${port}: no SSH banner within ${timeoutMs} ms`)));
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      const line = buf.split('\r\n').find((l) => l.startsWith('SSH-'));
      if (line) done(null, line);
      else if (buf.length > 8192) done(new Error(`${host}:${port}: not an SSH server`));
    });
    socket.once('error', (err) => done(new Error(`${host}:${port}: ${err.message}`)));
    socket.once('end', () => done(new Error(`${host}:${port}: closed before an SSH banner`)));
  });
}

const hostPort = (s: string) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

/**
 * The API's readiness checks. Critical (503 when failing): the inventory database and the Temporal
 * namespace — without them the API can neither read nor start anything. Advisory (status "degraded"):
 * workers polling each task queue (the control queue and every node in the inventory), disk, memory, SSH
 * endpoints, DNS — the API still answers, but the operations that need them will wait or fail.
 */
export function createHealthChecks(deps: {
  config: NpanelConfig;
  db: Db;
  connection: Connection;
  repos: Repositories;
}): Record<string, HealthCheck> {
  const { config, db, connection, repos } = deps;
  const namespace = config.temporal.namespace;
  const pollers = async (queue: string, type: 'workflow' | 'activity') => {
    const res = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: queue },
      taskQueueType: type === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
    });
    return (res.pollers ?? []).length;
  };

  return {
    database: async () => {
      await db.execute(sql`SELECT 1`);
    },
    temporal: async () => {
      await connection.workflowService.describeNamespace({ namespace });
    },
    workers: {
      critical: false,
      run: async () => {
        const queues: [string, 'workflow' | 'activity'][] = [
          [CONTROL_TASK_QUEUE, 'workflow'],
          [CONTROL_TASK_QUEUE, 'activity'],
          ...(await repos.nodes.list()).map((n) => [n.taskQueue || nodeTaskQueue(n.id), 'activity'] as [string, 'activity']),
        ];
        const counts = await Promise.all(queues.map(async ([q, t]) => [`${q} (${t})`, await pollers(q, t)] as const));
        const details = { pollers: Object.fromEntries(counts) };
        const idle = counts.filter(([, n]) => n === 0).map(([q]) => q);
        if (idle.length) throw failure(`no worker polls ${idle.join(', ')}`, details);
        return details;
      },
    },
    disk: {
      critical: false,
      run: async () => {
        const usage = await diskUsage(config.api.healthDiskPaths);
        const details = { freePercent: Object.fromEntries(usage.map((u) => [u.path, Math.round(u.freePercent * 10) / 10])) };
        const low = usage.filter((u) => u.freePercent < config.api.healthDiskMinFreePercent);
        if (low.length)
          throw failure(`less than ${config.api.healthDiskMinFreePercent}% free on ${low.map((u) => u.path).join(', ')}`, details);
        return details;
      },
    },
    memory: {
      critical: false,
      run: async () => {
        const m = await memoryUsage();
        const details = { usedPercent: Math.round(m.usedPercent * 10) / 10 };
        if (m.usedPercent > config.api.healthMemoryMaxUsedPercent)
          throw failure(`memory ${details.usedPercent}% used (limit ${config.api.healthMemoryMaxUsedPercent}%)`, details);
        return details;
      },
    },
    ssh: {
      critical: false,
      run: async () => {
        const targets = config.api.healthSshTargets;
        const results = await Promise.allSettled(targets.map((t) => sshBanner(hostPort(t).host, hostPort(t).port)));
        const details = {
          targets: Object.fromEntries(targets.map((t, i) => [t, results[i]!.status === 'fulfilled' ? 'ok' : 'unreachable'])),
        };
        const bad = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
        if (bad.length) throw failure(bad.join('; '), details);
        return details;
      },
    },
    dns: {
      critical: false,
      run: async () => {
        const base = config.dns.apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
        const res = await fetch(`${base}/api/v1/servers/localhost/zones`, {
          headers: { 'X-API-Key': config.dns.apiKey },
          signal: AbortSignal.timeout(2000),
        });
        if (!res.ok) throw new Error(`PowerDNS API answered ${res.status}`);
        const zones = (await res.json()) as { name: string }[];
        const details: Record<string, unknown> = { zones: zones.length };
        if (config.api.healthDnsServer && zones.length > 0) {
          // A real query on the DNS port: the API answering proves nothing about the server that answers clients.
          const { host, port } = hostPort(config.api.healthDnsServer);
          const resolver = new dns.promises.Resolver({ timeout: 1500, tries: 1 });
          resolver.setServers([`${host}:${port}`]);
          const zone = zones[0]!.name.replace(/\.$/, '');
          try {
            await resolver.resolveSoa(zone);
          } catch (err) {
            throw failure(`DNS query SOA ${zone} at ${config.api.healthDnsServer} failed: ${(err as Error).message}`, details);
          }
          details.queried = zone;
        }
        return details;
      },
    },
  };
}
