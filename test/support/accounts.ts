import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { ftpLayout } from '../../stack/services/pureftpd';
import { mailLayout } from '../../activities/mail-layout';
import { nginxLayout } from '../../stack/services/nginx';
import type { HostingNode } from '../../stack/context';
import { adminToken, apiCall } from './http';
import type { LoadedStack } from './stack';

/**
 * What the account-lifecycle tests share: the API with the admin token, waiting for a workflow to close, and
 * the checks a user or an operator makes with real clients (dig, HTTP with a Host header, curl over FTP,
 * MariaDB logins) or by looking at a node's files.
 */

export const execFileP = promisify(execFile);

export function uniqueName(prefix: string): string {
  // Usernames are at most 16 characters: prefix (<= 7) + 9 random base-36 characters.
  return `${prefix}${BigInt('0x' + crypto.randomBytes(6).toString('hex'))
    .toString(36)
    .slice(0, 9)}`;
}

/** Passwords that pass the API's rules and never contain a username or domain. */
export function strongPassword(): string {
  return `Pw-${crypto.randomBytes(12).toString('base64url')}!7`;
}

/** The API with the admin token (the JSON call itself is `apiCall` from ./http). */
export function apiClient(stack: LoadedStack) {
  const token = adminToken(stack);
  const api = (method: string, pathname: string, body?: unknown) => apiCall(stack.file.api, pathname, { method, token, body });

  /** Polls GET /api/v1/workflows/:id until the workflow is closed; returns the last detail. */
  async function waitClosed(workflowId: string, timeoutMs = 90_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api('GET', `/api/v1/workflows/${encodeURIComponent(workflowId)}`);
      if (res.status === 200 && res.body.closedAt) return res.body;
      if (Date.now() > deadline) throw new Error(`workflow ${workflowId} still open after ${timeoutMs} ms: ${JSON.stringify(res.body)}`);
      await sleep(200);
    }
  }

  /** Polls until the workflow's progress shows `step` in `status` (e.g. the step that must fail has failed). */
  async function waitStep(workflowId: string, step: string, statuses: string[], timeoutMs = 60_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api('GET', `/api/v1/workflows/${encodeURIComponent(workflowId)}`);
      const s = res.body?.progress?.steps?.find((x: { name: string }) => x.name === step);
      if (s && statuses.includes(s.status)) return res.body;
      if (res.body?.closedAt)
        throw new Error(`workflow closed before ${step} was ${statuses.join('|')}: ${JSON.stringify(res.body.progress)}`);
      if (Date.now() > deadline) throw new Error(`step ${step} never became ${statuses.join('|')}: ${JSON.stringify(res.body?.progress)}`);
      await sleep(100);
    }
  }

  /** Every item of a paged list (GET /api/v1/accounts, /certificates), following `next` 200 at a time. */
  async function listAll(pathname: string, key: string): Promise<any[]> {
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const res = await api('GET', `${pathname}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (res.status !== 200) throw new Error(`GET ${pathname}: ${res.status} ${JSON.stringify(res.body)}`);
      items.push(...res.body[key]);
      cursor = res.body.next;
    } while (cursor);
    return items;
  }

  return { api, waitClosed, waitStep, listAll };
}

/**
 * The API body of an account with a fresh name and every optional part: a mailbox, FTP and a database
 * (`database: false` leaves it out), TLS when asked. `password` makes each password (fixtures use a fixed one).
 */
export function accountBody(prefix: string, opts: { database?: boolean; tls?: boolean; password?: () => string } = {}) {
  const username = uniqueName(prefix);
  const password = opts.password ?? strongPassword;
  return {
    username,
    domain: `${username}.example`,
    mailboxes: [{ local: 'info', password: password() }],
    ftp: { password: password() },
    ...(opts.database === false ? {} : { database: { name: `${username}_db`, password: password() } }),
    ...(opts.tls ? { tls: true } : {}),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every path of a node that an account touches. */
export function nodePaths(stack: LoadedStack, nodeId: string) {
  const node = { id: nodeId, ip: stack.file.node.ip, dir: path.join(stack.home, 'nodes', nodeId) } as HostingNode;
  const ports = stack.file.nodes?.[nodeId] ?? {
    nginx: stack.file.nginx,
    imap: stack.file.imap,
    smtp: stack.file.smtp,
    ftp: stack.file.ftp,
  };
  return { dir: node.dir, nginx: nginxLayout(node), mail: mailLayout(node), ftp: ftpLayout(node), ports };
}

export type NodePaths = ReturnType<typeof nodePaths>;

/**
 * GET over plain HTTP to a node's nginx with a Host header (what a browser does once DNS points there), on a
 * fresh connection like curl: Node's default agent reuses idle keep-alive sockets, which an nginx worker retiring
 * after another test's reload closes under it (a browser would silently retry; this helper must not hide that).
 */
export function httpGet(port: number, host: string, pathname = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: pathname, method: 'GET', headers: { Host: host }, timeout: 10_000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('HTTP timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** `dig` answer section for one name/type, and the response status (NOERROR, NXDOMAIN, REFUSED...). */
export async function dig(stack: LoadedStack, name: string, type: string): Promise<{ status: string; answers: string[] }> {
  const { stdout } = await execFileP('dig', [
    `@${stack.file.dns.host}`,
    '-p',
    String(stack.file.dns.port),
    '+norec',
    '+time=2',
    '+tries=1',
    name,
    type,
  ]);
  const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'UNKNOWN';
  const answerSection = stdout.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  const answers = answerSection
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/).slice(4).join(' '));
  return { status, answers };
}

/** Zones PowerDNS knows (its API list), canonical names with the trailing dot. */
export async function pdnsZones(stack: LoadedStack): Promise<string[]> {
  const res = await fetch(`${stack.file.dns.api}/api/v1/servers/localhost/zones`, { headers: { 'X-API-Key': stack.secrets.pdnsApiKey } });
  if (!res.ok) throw new Error(`PowerDNS zone list: ${res.status}`);
  return ((await res.json()) as { name: string }[]).map((z) => z.name);
}

/** An FTP upload with curl; resolves with curl's exit code (0 = uploaded, 67 = login refused). */
export async function ftpUpload(port: number, user: string, password: string, localFile: string, remoteName: string): Promise<number> {
  try {
    await execFileP('curl', [
      '-sS',
      '--max-time',
      '20',
      '-T',
      localFile,
      `ftp://127.0.0.1:${port}/${remoteName}`,
      '--user',
      `${user}:${password}`,
    ]);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** Databases a MariaDB login sees, or the error code when the login is refused. */
export async function dbLogin(
  stack: LoadedStack,
  user: string,
  password: string,
): Promise<{ ok: true; databases: string[] } | { ok: false; code: string }> {
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({ host: stack.file.mysql.host, port: stack.file.mysql.port, user, password, connectTimeout: 5000 });
    const [rows] = await conn.query('SHOW DATABASES');
    return { ok: true, databases: (rows as { Database: string }[]).map((r) => r.Database).filter((d) => d !== 'information_schema') };
  } catch (err) {
    return { ok: false, code: (err as { code?: string }).code ?? String(err) };
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/** The inventory database (audit trail, accounts table) with the inventory credentials. */
export function inventoryPool(stack: LoadedStack): mysql.Pool {
  return mysql.createPool({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: 'npanel',
    password: stack.secrets.inventoryPassword,
    database: 'npanel',
    connectionLimit: 2,
  });
}

/** The node's admin login, to look at MariaDB's own tables (which databases and users exist). */
export function adminPool(stack: LoadedStack): mysql.Pool {
  return mysql.createPool({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: 'npanel_admin',
    password: stack.secrets.mysqlAdminPassword,
    connectionLimit: 2,
  });
}

export interface AccountTrace {
  zone: boolean;
  vhostFile: boolean;
  docroot: boolean;
  mailDomain: boolean;
  mailboxes: string[];
  maildir: boolean;
  ftpUser: boolean;
  database: boolean;
  databaseUser: boolean;
  accountRow: boolean;
}

/** Everything an account can leave behind, looked up where each service keeps it. */
export async function traceAccount(
  stack: LoadedStack,
  pools: { inventory: mysql.Pool; admin: mysql.Pool },
  node: NodePaths,
  a: { username: string; domain: string; database?: string; databaseUser?: string },
): Promise<AccountTrace> {
  const exists = (p: string) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  const passwd =
    exists(node.ftp.passwdFile) && fs.statSync(node.ftp.passwdFile).isFile() ? fs.readFileSync(node.ftp.passwdFile, 'utf8') : '';
  const [dbs] = await pools.admin.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [a.database ?? '']);
  const [users] = await pools.admin.query('SELECT User FROM mysql.global_priv WHERE User = ?', [a.databaseUser ?? a.database ?? '']);
  const [rows] = await pools.inventory.query('SELECT id FROM accounts WHERE username = ?', [a.username]);
  return {
    zone: (await pdnsZones(stack)).includes(`${a.domain}.`),
    vhostFile: exists(path.join(node.nginx.sitesDir, `${a.domain}.conf`)),
    docroot: exists(path.join(node.nginx.webRoot, a.username)),
    mailDomain: exists(path.join(node.mail.domainsDir, a.domain)),
    mailboxes: fs.readdirSync(node.mail.usersDir).filter((f) => f.endsWith(`@${a.domain}`)),
    maildir: exists(path.join(node.mail.vmailDir, a.domain)),
    ftpUser: passwd.split('\n').some((l) => l.startsWith(`${a.username}:`)),
    database: (dbs as unknown[]).length > 0,
    databaseUser: (users as unknown[]).length > 0,
    accountRow: (rows as unknown[]).length > 0,
  };
}

export const NOTHING: AccountTrace = {
  zone: false,
  vhostFile: false,
  docroot: false,
  mailDomain: false,
  mailboxes: [],
  maildir: false,
  ftpUser: false,
  database: false,
  databaseUser: false,
  accountRow: false,
};

/** Audit rows of one workflow as `step:action:outcome` strings. */
export async function auditOf(pool: mysql.Pool, workflowId: string): Promise<string[]> {
  const [rows] = await pool.query('SELECT step, action, outcome FROM audit_events WHERE workflow_id = ? ORDER BY id', [workflowId]);
  return (rows as { step: string; action: string; outcome: string }[]).map((r) => `${r.step}:${r.action}:${r.outcome}`);
}
