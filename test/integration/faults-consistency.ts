import fs from 'node:fs';
import path from 'node:path';
import { adminPool, httpGet, inventoryPool, nodePaths, pdnsZones } from '../support/accounts';
import type { LoadedStack } from '../support/stack';

/**
 * After a fault run on a stack of its own (every account on it was made by the test), the inventory and every
 * service must tell the same story: the same accounts, domains, mailboxes, FTP users and databases, each
 * exactly once, and a suspended account suspended everywhere. Returns the list of mismatches (empty = fine)
 * and what it saw, so a failure message shows both.
 */
export async function checkConsistency(stack: LoadedStack): Promise<{ problems: string[]; accounts: number; suspended: number }> {
  const problems: string[] = [];
  const node = nodePaths(stack, stack.file.node.id);
  const inventory = inventoryPool(stack);
  const admin = adminPool(stack);
  try {
    const [accRows] = await inventory.query('SELECT username, domain, status FROM accounts ORDER BY username');
    const accounts = accRows as { username: string; domain: string; status: string }[];
    const stuck = accounts.filter((a) => a.status !== 'active' && a.status !== 'suspended');
    if (stuck.length)
      problems.push(`accounts in a transient or failed status: ${stuck.map((a) => `${a.username}=${a.status}`).join(', ')}`);
    const domains = accounts.map((a) => a.domain).sort();
    const usernames = accounts.map((a) => a.username).sort();

    const same = (what: string, actual: string[], expected: string[]) => {
      const dupes = actual.filter((x, i) => actual.indexOf(x) !== i);
      if (dupes.length) problems.push(`${what}: duplicates ${dupes.join(', ')}`);
      const a = [...new Set(actual)].sort();
      const e = [...new Set(expected)].sort();
      const extra = a.filter((x) => !e.includes(x));
      const missing = e.filter((x) => !a.includes(x));
      if (extra.length || missing.length) problems.push(`${what}: extra [${extra.join(', ')}] missing [${missing.join(', ')}]`);
    };

    same(
      'DNS zones',
      (await pdnsZones(stack)).map((z) => z.replace(/\.$/, '')),
      domains,
    );
    same(
      'vhost files',
      fs
        .readdirSync(node.nginx.sitesDir)
        .filter((f) => f.endsWith('.conf'))
        .map((f) => f.slice(0, -5)),
      domains,
    );
    same('docroots', fs.readdirSync(node.nginx.webRoot), usernames);

    const [mbRows] = await inventory.query('SELECT address FROM mailboxes');
    same(
      'mailboxes',
      fs.readdirSync(node.mail.usersDir),
      (mbRows as { address: string }[]).map((r) => r.address),
    );

    const passwd = fs.existsSync(node.ftp.passwdFile) ? fs.readFileSync(node.ftp.passwdFile, 'utf8').split('\n').filter(Boolean) : [];
    const [ftpRows] = await inventory.query('SELECT username FROM ftp_users');
    same(
      'FTP users',
      passwd.map((l) => l.split(':')[0]!),
      (ftpRows as { username: string }[]).map((r) => r.username),
    );

    const [dbRows] = await inventory.query('SELECT name, db_user FROM customer_databases');
    const dbs = dbRows as { name: string; db_user: string }[];
    const [schemas] = await admin.query(
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql','information_schema','performance_schema','sys','npanel','shop')",
    );
    same(
      'customer databases',
      (schemas as { name: string }[]).map((r) => r.name),
      dbs.map((d) => d.name),
    );
    const [users] = await admin.query('SELECT User AS user FROM mysql.global_priv WHERE User IN (?)', [
      dbs.length ? dbs.map((d) => d.db_user) : [''],
    ]);
    same(
      'database users',
      (users as { user: string }[]).map((r) => r.user),
      dbs.map((d) => d.db_user),
    );

    // Suspended means suspended everywhere a customer could reach: the site (503) and the FTP login.
    for (const a of accounts) {
      const suspended = a.status === 'suspended';
      const site = await httpGet(stack.file.nginx.http, a.domain);
      if ((site.status === 503) !== suspended) problems.push(`${a.username} is ${a.status} but its site answers ${site.status}`);
      const line = passwd.find((l) => l.startsWith(`${a.username}:`));
      if (line && line.split(':')[1]!.startsWith('!') !== suspended)
        problems.push(`${a.username} is ${a.status} but its FTP login says otherwise`);
      if (!fs.existsSync(path.join(node.nginx.webRoot, a.username))) problems.push(`${a.username} has no docroot`);
    }
    return { problems, accounts: accounts.length, suspended: accounts.filter((a) => a.status === 'suspended').length };
  } finally {
    await inventory.end();
    await admin.end();
  }
}
