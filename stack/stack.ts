import fs from 'node:fs';
import path from 'node:path';
import { hostingNodes, type HostingNode, type StackContext } from './context';
import type { RunningDaemon } from './daemon';
import { assertPortsFree } from './ports';
import type { StackFile } from './stack-file';
import { startTemporal, temporalInfo } from './services/temporal';
import { startTemporalCluster, temporalClusterInfo } from './services/temporal-cluster';
import { startMariadb } from './services/mariadb';
import { startPowerdns } from './services/powerdns';
import { startNginx } from './services/nginx';
import { startPebble, pebbleInfo } from './services/pebble';
import { startDovecot } from './services/dovecot';
import { startExim } from './services/exim';
import { startPureftpd } from './services/pureftpd';
import { seedSampleSource, sshSourceInfo, startSshSource } from './services/ssh-source';
import { startApi, startWorker } from './services/npanel-processes';
import { assertDaemonsCanUse } from './state-home';

export interface StackOptions {
  /** Also start hosting node "b" (its own nginx, Dovecot, Exim, Pure-FTPd and worker) for multi-node tests. */
  withNodeB?: boolean;
  /** Start the worker(s) and the API (false: daemons only). */
  withApp?: boolean;
}

export interface RunningStack {
  file: StackFile;
  daemons: RunningDaemon[];
  stop(): Promise<void>;
}

function allPorts(ctx: StackContext, nodes: HostingNode[]): [string, number[]][] {
  const p = ctx.ports;
  const list: [string, number[]][] = [
    ['API', [p.api]],
    ['Temporal', [p.temporal, p.temporalUi, p.temporalHttp, p.temporalMetrics]],
    ...(ctx.temporalMode === 'cluster'
      ? [['Temporal cluster (PostgreSQL, internal services)', Object.values(p.cluster)] as [string, number[]]]
      : []),
    ['PowerDNS', [p.dns, p.dnsApi]],
    ['MariaDB', [p.mysql]],
    ['OpenSSH (migration source)', [p.ssh]],
    ['Pebble', [p.acme, p.acmeMgmt]],
  ];
  for (const n of nodes) {
    const q = n.ports;
    list.push([`nginx (node ${n.id})`, [q.nginxHttp, q.nginxHttps]], [`Dovecot (node ${n.id})`, [q.imap, q.imaps, q.lmtp]]);
    list.push(
      [`Exim (node ${n.id})`, [q.smtp, q.submission]],
      [`Pure-FTPd (node ${n.id})`, [q.ftp]],
      [`worker (node ${n.id})`, [q.workerMetrics]],
    );
  }
  return list;
}

/**
 * Starts the whole embedded stack. Independent daemons start side by side (the slowest, Temporal, sets the
 * pace); on any failure everything already started is stopped again, so nothing is left half-running.
 */
/** Fails with one line naming the first busy port and its service, before anything starts. */
export async function assertStackPortsFree(ctx: StackContext, withNodeB: boolean): Promise<void> {
  for (const [service, ports] of allPorts(ctx, hostingNodes(ctx, withNodeB))) await assertPortsFree(service, ports);
}

export async function startStack(ctx: StackContext, opts: StackOptions = {}): Promise<RunningStack> {
  assertDaemonsCanUse(ctx.home);
  const nodes = hostingNodes(ctx, opts.withNodeB ?? false);
  await assertStackPortsFree(ctx, opts.withNodeB ?? false);
  const [nodeA] = nodes as [HostingNode, ...HostingNode[]];

  const daemons: RunningDaemon[] = [];
  const track = async (p: Promise<RunningDaemon>) => {
    const d = await p;
    daemons.push(d);
    return d;
  };
  const stopAll = async () => {
    // Our own processes first (they talk to the daemons), then every daemon at once; the cluster's PostgreSQL
    // last, after the Temporal server that writes to it.
    const own = daemons.filter((d) => d.name === 'api' || d.name.startsWith('worker'));
    const last = daemons.filter((d) => d.name === 'postgres');
    for (const d of own.reverse()) await d.stop().catch(() => undefined);
    await Promise.all(daemons.filter((d) => !own.includes(d) && !last.includes(d)).map((d) => d.stop().catch(() => undefined)));
    await Promise.all(last.map((d) => d.stop().catch(() => undefined)));
  };

  try {
    const started = performance.now();
    const results = await Promise.allSettled([
      ctx.temporalMode === 'cluster'
        ? startTemporalCluster(ctx, track)
        : track(startTemporal(ctx, { codecEndpoint: `http://127.0.0.1:${ctx.ports.api}/codec` })),
      track(startMariadb(ctx)).then(() => seedSampleSource(ctx)),
      track(startPowerdns(ctx)),
      track(startPebble(ctx)),
      track(startSshSource(ctx)),
      ...nodes.flatMap((n) => [
        track(startNginx(ctx, n)),
        track(startDovecot(ctx, n)).then(() => track(startExim(ctx, n))),
        track(startPureftpd(ctx, n)),
      ]),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    ctx.log.info({ ms: Math.round(performance.now() - started) }, 'daemons ready');

    if (opts.withApp ?? true) {
      // The API stores this token's hash as the bootstrap admin at start (only the hash reaches MySQL).
      const tokenFile = path.join(ctx.home, 'admin-token');
      if (!fs.existsSync(tokenFile)) fs.writeFileSync(tokenFile, ctx.secrets.adminToken + '\n', { mode: 0o600 });
      // The API needs only MariaDB and Temporal: it starts beside the workers, not after them.
      await Promise.all([
        track(startWorker(ctx, nodeA, ['control', 'node'])),
        ...nodes.slice(1).map((n) => track(startWorker(ctx, n, ['node']))),
        track(startApi(ctx, nodeA)),
      ]);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const file = writeStackFile(ctx, nodes);
  return { file, daemons, stop: stopAll };
}

function writeStackFile(ctx: StackContext, nodes: HostingNode[]): StackFile {
  const p = ctx.ports;
  const acme = pebbleInfo(ctx);
  const file: StackFile = {
    api: `http://127.0.0.1:${p.api}`,
    node: { id: ctx.nodeId, ip: ctx.nodeIp },
    temporal: ctx.temporalMode === 'cluster' ? temporalClusterInfo(ctx) : temporalInfo(ctx),
    dns: { host: '127.0.0.1', port: p.dns, api: `http://127.0.0.1:${p.dnsApi}` },
    nginx: { http: p.nginxHttp, https: p.nginxHttps },
    imap: p.imap,
    imaps: p.imaps,
    lmtp: p.lmtp,
    smtp: p.smtp,
    submission: p.submission,
    ftp: p.ftp,
    mysql: { host: '127.0.0.1', port: p.mysql },
    acme: { directory: acme.directory, ca: acme.ca, issuerRoot: acme.issuerRoot },
    migrationSource: sshSourceInfo(ctx),
    nodes: Object.fromEntries(
      nodes.map((n) => [
        n.id,
        {
          nginx: { http: n.ports.nginxHttp, https: n.ports.nginxHttps },
          imap: n.ports.imap,
          imaps: n.ports.imaps,
          smtp: n.ports.smtp,
          submission: n.ports.submission,
          ftp: n.ports.ftp,
        },
      ]),
    ),
    metrics: {
      api: `http://127.0.0.1:${p.api}/metrics`,
      workers: Object.fromEntries(nodes.map((n) => [n.id, `http://127.0.0.1:${n.ports.workerMetrics}/metrics`])),
    },
    home: ctx.home,
    logs: ctx.logDir,
  };
  fs.writeFileSync(path.join(ctx.home, 'stack.json'), JSON.stringify(file, null, 2) + '\n');
  return file;
}
