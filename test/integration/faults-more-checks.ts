import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { servedCertificate } from '../../activities/tls-probe';
import { inventoryPool, nodePaths } from '../support/accounts';
import type { LoadedStack } from '../support/stack';

/**
 * What the certificate, migration and retention fault trials leave behind, read with real clients (a TLS
 * handshake with SNI, the inventory, the node's folders, Temporal's visibility). Not a test file itself.
 */

/** Per domain: the serial nginx serves, the inventory's serial, and the version folders on disk. */
export async function certificateState(
  stack: LoadedStack,
  domains: string[],
): Promise<Map<string, { served: string | null; inventory: string | null; onDisk: string[] }>> {
  const certsDir = nodePaths(stack, 'a').nginx.certsDir;
  const pool = inventoryPool(stack);
  try {
    const [rows] = await pool.query('SELECT domain, serial FROM certificates WHERE domain IN (?)', [domains]);
    const inventory = new Map((rows as { domain: string; serial: string | null }[]).map((r) => [r.domain, r.serial]));
    const out = new Map<string, { served: string | null; inventory: string | null; onDisk: string[] }>();
    for (const domain of domains) {
      const served = await servedCertificate('127.0.0.1', stack.file.nginx.https, domain).then(
        (c) => c.serial,
        () => null,
      );
      const dir = path.join(certsDir, domain);
      const onDisk = fs.existsSync(dir)
        ? fs
            .readdirSync(dir)
            .filter((n) => /^[0-9A-F]{1,128}$/.test(n))
            .sort()
        : [];
      out.set(domain, { served, inventory: inventory.get(domain) ?? null, onDisk });
    }
    return out;
  } finally {
    await pool.end();
  }
}

/** Every renewCertificate run Temporal knows, with the workflow that started it (null: the API or a test). */
export async function renewalRuns(client: Client): Promise<{ workflowId: string; parent: string | null; status: string }[]> {
  const runs: { workflowId: string; parent: string | null; status: string }[] = [];
  for await (const wf of client.workflow.list({ query: "WorkflowType = 'renewCertificate'" })) {
    runs.push({ workflowId: wf.workflowId, parent: wf.parentExecution?.workflowId ?? null, status: wf.status.name });
  }
  return runs;
}

/** A small site in the SSH source's tree: a few dozen files in nested folders, names with spaces. */
export function smallSourceSite(stack: LoadedStack, domain: string, files: number): string {
  const docroot = path.join(stack.home, 'source', 'sites', domain, 'public_html');
  for (let i = 0; i < files; i++) {
    const f = path.join(docroot, `dir ${i % 4}`, `sub${i % 3}`, `file ${i}.txt`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, crypto.randomBytes(512 + ((i * 997) % 8192)));
  }
  fs.writeFileSync(path.join(docroot, 'index.html'), `<h1>${domain}</h1>\n`);
  return docroot;
}
