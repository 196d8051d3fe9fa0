import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createControlActivities, createNodeActivities } from '../activities';
import { loadConfig, repoRoot } from '../config/load';
import { createDb } from '../db/client';
import { createRepositories } from '../db/repositories';
import { createStackContext, hostingNodes } from '../stack/context';
import { processEnv } from '../stack/env';
import { dbLogin, dig, httpGet, strongPassword } from '../test/support/accounts';
import { ftpLoginWorks } from '../test/support/ftp';
import { imapLoginWorks } from '../test/support/imap';
import type { LoadedStack } from '../test/support/stack';
import { median } from './common';

/**
 * The floor of provisioning: the raw operations of one account — the same activity functions the worker runs,
 * called in-process against the stack's daemons, no Temporal — each timed until a real client sees its result
 * (HTTP with a Host header, dig, IMAP login, FTP login, MariaDB login). Workflow overhead is what the end-to-end
 * figure adds on top of this.
 */

export const SERVICES = ['docroot', 'vhost', 'dns', 'mail', 'ftp', 'database'] as const;
export type Service = (typeof SERVICES)[number];

export interface FloorResult {
  /** Median over the repetitions of: every operation one after another. */
  sequentialMs: number;
  /** Median of: docroot, then the other five side by side (the workflow's shape). */
  parallelMs: number;
  /** Median per operation (from the sequential runs). */
  perServiceMs: Record<Service, number>;
  repetitions: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a real-client check until it passes (a failed check is retried at once; 10 s is a hard stop). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`floor: ${what} never became visible`);
    await sleep(2);
  }
}

export async function openFloor(stack: LoadedStack, portBase: number) {
  const ctx = createStackContext({ root: repoRoot(), home: stack.home, portBase, log: pino({ level: 'silent' }) });
  const [node] = hostingNodes(ctx, false);
  const config = loadConfig(processEnv(ctx, node!, ['control', 'node']));
  const database = createDb(config.inventory);
  const control = createControlActivities(config, createRepositories(database.db));
  const nodeActs = createNodeActivities(config);
  const a = nodeActs.activities;
  const ports = { http: stack.file.nginx.http, imap: stack.file.imap, ftp: stack.file.ftp };

  /** One account's operations, each resolving once a real client sees it. */
  function account(tag: string) {
    const username = `fl${tag}`;
    const domain = `${username}.floor.test`;
    const pw = { mail: strongPassword(), ftp: strongPassword(), db: strongPassword() };
    let docroot = '';
    const ops: Record<Service, () => Promise<void>> = {
      docroot: async () => {
        docroot = (await a.ensureDocroot({ account: username, domain })).path;
        await until('docroot', async () => fs.existsSync(path.join(docroot, 'index.html')));
      },
      vhost: async () => {
        await a.ensureVhost({ domain, docroot });
        await until('vhost', async () => {
          const r = await httpGet(ports.http, domain);
          return r.status === 200 && r.body.includes(domain);
        });
      },
      dns: async () => {
        await control.ensureDnsZone({ domain, ip: config.node.ip });
        await until('zone', async () => (await dig(stack, domain, 'A')).answers.includes(config.node.ip));
      },
      mail: async () => {
        await a.ensureMailDomain({ domain });
        await a.ensureMailbox({ domain, local: 'info', password: pw.mail });
        await until('mailbox', () => imapLoginWorks(ports.imap, `info@${domain}`, pw.mail));
      },
      ftp: async () => {
        await a.ensureFtpUser({ username, password: pw.ftp, homeDir: docroot });
        await until('ftp user', () => ftpLoginWorks(ports.ftp, username, pw.ftp));
      },
      database: async () => {
        await a.ensureCustomerDatabase({ database: `${username}_db`, user: username, password: pw.db });
        await until('database login', async () => {
          const r = await dbLogin(stack, username, pw.db);
          return r.ok && r.databases.includes(`${username}_db`);
        });
      },
    };
    return ops;
  }

  const timed = async (fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };

  async function measure(repetitions: number): Promise<FloorResult> {
    const run = `${Date.now().toString(36).slice(-5)}`;
    // Warm-up (not counted): the first reload of this process, the admin pool's first connection, caches.
    const warm = account(`${run}w`);
    for (const s of SERVICES) await warm[s]();
    const sequential: number[] = [];
    const parallel: number[] = [];
    const per = Object.fromEntries(SERVICES.map((s) => [s, [] as number[]])) as Record<Service, number[]>;
    // Alternate the two shapes so a noisy moment on the shared machine hits both alike.
    for (let i = 0; i < repetitions; i++) {
      const seq = account(`${run}s${i}`);
      let sum = 0;
      for (const s of SERVICES) {
        const ms = await timed(seq[s]);
        per[s].push(ms);
        sum += ms;
      }
      sequential.push(sum);
      const par = account(`${run}p${i}`);
      parallel.push(
        await timed(async () => {
          await par.docroot();
          await Promise.all(SERVICES.filter((s) => s !== 'docroot').map((s) => par[s]()));
        }),
      );
    }
    return {
      sequentialMs: median(sequential),
      parallelMs: median(parallel),
      perServiceMs: Object.fromEntries(SERVICES.map((s) => [s, median(per[s])])) as Record<Service, number>,
      repetitions,
    };
  }

  async function close(): Promise<void> {
    await nodeActs.close();
    await database.close();
  }

  return { measure, close };
}
