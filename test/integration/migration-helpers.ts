import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { adminToken, apiCall } from '../support/http';
import { until as untilSettled } from '../support/poll';
import type { LoadedStack } from '../support/stack';

export { dirBytes, treeHashes } from '../support/tree';

/** Shared by the migration integration tests (not a test file itself: no `.test` in the name). */

const run = promisify(execFile);

/** The admin API as the migration tests call it, `(path, { method, body })`: the request is ./http's apiCall. */
export function adminApi(stack: LoadedStack) {
  const token = adminToken(stack);
  return (pathname: string, init: { method?: string; body?: unknown } = {}) =>
    apiCall(stack.file.api, pathname, { ...init, token, timeoutMs: 30_000 });
}

/** The one polling helper (test/support/poll.ts) with the migrations' patience: two minutes, every 300 ms. */
export const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 300): Promise<T> =>
  untilSettled(what, fn, timeoutMs, everyMs);

export const rand = () => crypto.randomBytes(4).toString('hex');

/** The API body for the stack's SSH source, with overrides. */
export function migrationBody(
  stack: LoadedStack,
  o: {
    account: string;
    domain: string;
    docroot?: string;
    port?: number;
    fingerprint?: string;
    cutover?: 'auto' | 'manual';
    databases?: string[];
    node?: string;
    mailboxes?: { local: string; maildir: string; password?: string }[];
  },
) {
  const s = stack.file.migrationSource;
  return {
    domain: o.domain,
    account: o.account,
    node: o.node ?? 'a',
    cutover: o.cutover ?? 'auto',
    source: {
      host: s.host,
      port: o.port ?? s.port,
      user: s.user,
      privateKey: fs.readFileSync(s.privateKey, 'utf8'),
      hostKeyFingerprint: o.fingerprint ?? s.hostKeyFingerprint,
      docroot: o.docroot ?? s.docroot,
      ip: '192.0.2.10',
      databases: (o.databases ?? []).map((name) => ({ name })),
      ...(o.mailboxes ? { mailboxes: o.mailboxes } : {}),
    },
  };
}

/** Rows per table of a copy of the sample `shop` database (or of `shop` itself), through the node's admin login. */
export async function shopRowCounts(stack: LoadedStack, database: string): Promise<Record<string, number>> {
  const conn = await mysql.createConnection({
    host: '127.0.0.1',
    port: stack.file.mysql.port,
    user: 'npanel_admin',
    password: stack.secrets.mysqlAdminPassword,
    database,
  });
  try {
    const out: Record<string, number> = {};
    for (const t of ['customers', 'products', 'orders', 'order_items']) {
      const [[row]] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${t}\``);
      out[t] = Number(row!.n);
    }
    return out;
  } finally {
    await conn.end();
  }
}

export async function digA(stack: LoadedStack, name: string): Promise<{ ip: string; ttl: number }[]> {
  const { stdout } = await run('dig', ['+noall', '+answer', `@${stack.file.dns.host}`, '-p', String(stack.file.dns.port), name, 'A']);
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(/\s+/);
      return { ip: f[4]!, ttl: Number(f[1]) };
    });
}

export async function workflow(api: ReturnType<typeof adminApi>, id: string) {
  return (await api(`/api/v1/workflows/${id}`)).body;
}

export async function finished(api: ReturnType<typeof adminApi>, id: string, timeoutMs = 180_000) {
  return until(
    `${id} to finish`,
    async () => {
      const w = await workflow(api, id);
      return w.closedAt ? w : undefined;
    },
    timeoutMs,
  );
}

export function targetDocroot(stack: LoadedStack, account: string, domain: string): string {
  return path.join(stack.home, 'nodes', 'a', 'www', account, domain, 'public_html');
}

/** A TCP forwarder to the source's sshd that a test can cut and restore ("the source is unreachable"). */
export async function cuttableProxy(targetPort: number) {
  let server: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((c) => {
        const up = net.connect(targetPort, '127.0.0.1');
        sockets.add(c).add(up);
        c.pipe(up).pipe(c);
        const drop = () => (c.destroy(), up.destroy());
        c.on('error', drop).on('close', drop);
        up.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server!.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  return {
    port,
    async cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = null;
    },
    async restore() {
      await listen(port);
    },
    close() {
      return this.cut();
    },
  };
}
