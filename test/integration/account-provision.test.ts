import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ImapClient, imapLoginWorks } from '../support/imap';
import { sendMail } from '../support/smtp';
import { loadStack } from '../support/stack';
import {
  adminPool,
  apiClient,
  auditOf,
  dbLogin,
  dig,
  ftpUpload,
  httpGet,
  inventoryPool,
  NOTHING,
  nodePaths,
  strongPassword,
  traceAccount,
  uniqueName,
} from '../support/accounts';

/**
 * The whole life of one account through the API, each effect checked with the client a customer would use:
 * provision → (DNS, web, IMAP, SMTP→IMAP, FTP→web, MariaDB) → suspend → unsuspend → delete → provision again.
 */
const stack = loadStack();
const { api, waitClosed } = apiClient(stack);
const node = nodePaths(stack, stack.file.node.id);
const pools = { inventory: inventoryPool(stack), admin: adminPool(stack) };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-acct-'));

const username = uniqueName('prov');
const domain = `${username}.example`;
const mailboxes = [
  { local: 'info', password: strongPassword() },
  { local: 'sales.team', password: strongPassword() },
];
const ftpPassword = strongPassword();
const database = { name: `${username}_db`, password: strongPassword() };
const body = { username, domain, mailboxes, ftp: { password: ftpPassword }, database };
const ids: Record<string, string> = {};

before(() => fs.writeFileSync(path.join(tmp, 'upload.html'), `<p>uploaded by ${username}</p>\n`));

after(async () => {
  // Leave nothing behind in the shared stack, even after a failed assertion.
  const res = await api('GET', `/api/v1/accounts/${username}`);
  if (res.status === 200 && ['active', 'suspended', 'failed'].includes(res.body.status)) {
    const del = await api('DELETE', `/api/v1/accounts/${username}`);
    if (del.status === 202) await waitClosed(del.body.workflowId).catch(() => undefined);
  }
  await pools.inventory.end();
  await pools.admin.end();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function provision(): Promise<string> {
  const res = await api('POST', '/api/v1/accounts', body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.match(res.body.workflowId, new RegExp(`^provision-${username}-`));
  assert.equal(res.headers.get('x-correlation-id'), res.body.workflowId);
  return res.body.workflowId;
}

async function lifecycle(action: 'suspend' | 'unsuspend'): Promise<string> {
  const res = await api('POST', `/api/v1/accounts/${username}/${action}`);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const wf = await waitClosed(res.body.workflowId);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  return res.body.workflowId;
}

async function waitForMessage(user: string, password: string, subject: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const imap = await ImapClient.connect(node.ports.imap);
    try {
      assert.ok(await imap.login(user, password), `IMAP login of ${user}`);
      await imap.select('INBOX');
      const found = await imap.search(`SUBJECT "${subject}"`);
      if (found.length > 0) return await imap.fetchMessage(found[0]!);
    } finally {
      await imap.logout().catch(() => imap.close());
    }
    if (Date.now() > deadline) throw new Error(`no message "${subject}" for ${user}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('provisioning completes; a second POST for the same username is 409 with the first workflow ID', async () => {
  ids.provision = await provision();
  // While it runs (and afterwards), the username is taken: 409 names the workflow that holds it.
  const again = await api('POST', '/api/v1/accounts', { ...body, domain: `other-${domain}` });
  assert.equal(again.status, 409, JSON.stringify(again.body));
  assert.equal(again.body.correlationId, ids.provision);
  assert.equal(again.headers.get('x-correlation-id'), ids.provision);
  const wf = await waitClosed(ids.provision);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  assert.deepEqual(wf.result.mailboxes, [`info@${domain}`, `sales.team@${domain}`]);

  const after = await api('POST', '/api/v1/accounts', body);
  assert.equal(after.status, 409);
  assert.equal(after.body.correlationId, ids.provision);
  assert.equal(after.headers.get('x-correlation-id'), ids.provision);
  // The domain alone is taken too, and so is the database name (no account may be granted another's data).
  const sameDomain = await api('POST', '/api/v1/accounts', { username: uniqueName('dup'), domain: domain.toUpperCase() });
  assert.equal(sameDomain.status, 409);
  assert.equal(sameDomain.body.correlationId, ids.provision);
  const sameDb = await api('POST', '/api/v1/accounts', {
    username: uniqueName('dup'),
    domain: `db-${domain}`,
    database: { name: database.name, password: strongPassword() },
  });
  assert.equal(sameDb.status, 409, JSON.stringify(sameDb.body));
  assert.equal(sameDb.body.details?.[0]?.field, 'body.database.name');

  const acct = await api('GET', `/api/v1/accounts/${username}`);
  assert.equal(acct.status, 200);
  assert.equal(acct.body.status, 'active');
  assert.deepEqual(acct.body.databases, [{ name: database.name, user: database.name }]);
  assert.deepEqual(acct.body.ftpUsers, [username]);
  const list = await api('GET', '/api/v1/accounts');
  assert.ok(list.body.accounts.some((a: { username: string; status: string }) => a.username === username && a.status === 'active'));
});

test('DNS answers A, MX, NS and TXT (SPF) for the zone', async () => {
  const a = await dig(stack, domain, 'A');
  assert.equal(a.status, 'NOERROR');
  assert.deepEqual(a.answers, [stack.file.node.ip]);
  assert.deepEqual((await dig(stack, `www.${domain}`, 'A')).answers, [stack.file.node.ip]);
  assert.deepEqual((await dig(stack, domain, 'MX')).answers, [`10 mail.${domain}.`]);
  assert.ok((await dig(stack, domain, 'NS')).answers.length >= 1);
  assert.ok((await dig(stack, domain, 'TXT')).answers.some((t) => t.includes('v=spf1')));
});

test('the site answers with its default index over HTTP (Host header)', async () => {
  const res = await httpGet(node.ports.nginx.http, domain);
  assert.equal(res.status, 200);
  assert.match(res.body, new RegExp(`<h1>${domain.replace(/\./g, '\\.')}</h1>`));
  assert.equal((await httpGet(node.ports.nginx.http, `www.${domain}`)).status, 200);
});

test('every mailbox logs in over IMAP, and mail sent over SMTP arrives', async () => {
  for (const m of mailboxes) assert.equal(await imapLoginWorks(node.ports.imap, `${m.local}@${domain}`, m.password), true, m.local);
  assert.equal(await imapLoginWorks(node.ports.imap, `info@${domain}`, 'wrong-password-1'), false);
  const subject = `hello ${crypto.randomBytes(4).toString('hex')}`;
  const sent = await sendMail({
    port: node.ports.smtp,
    from: 'sender@client.test',
    to: [`sales.team@${domain}`],
    subject,
    body: 'first message',
  });
  assert.equal(sent.rcpt[0]!.code, 250);
  assert.equal(sent.data?.code, 250);
  assert.match(await waitForMessage(`sales.team@${domain}`, mailboxes[1]!.password, subject), /first message/);
});

test('a file uploaded over FTP is served by the site', async () => {
  assert.equal(await ftpUpload(node.ports.ftp, username, ftpPassword, path.join(tmp, 'upload.html'), 'upload.html'), 0);
  const res = await httpGet(node.ports.nginx.http, domain, '/upload.html');
  assert.equal(res.status, 200);
  assert.equal(res.body, `<p>uploaded by ${username}</p>\n`);
  assert.notEqual(await ftpUpload(node.ports.ftp, username, 'not-the-password-9', path.join(tmp, 'upload.html'), 'x.html'), 0);
});

test('the database user logs in and sees only its own database', async () => {
  const login = await dbLogin(stack, database.name, database.password);
  assert.ok(login.ok, JSON.stringify(login));
  assert.deepEqual(login.databases, [database.name]);
});

test('suspend: suspended page, FTP/IMAP/DB logins refused; unsuspend restores all', async () => {
  ids.suspend = await lifecycle('suspend');
  assert.equal((await api('GET', `/api/v1/accounts/${username}`)).body.status, 'suspended');
  const page = await httpGet(node.ports.nginx.http, domain, '/upload.html');
  assert.equal(page.status, 503);
  assert.match(page.body, /suspended/i);
  assert.notEqual(await ftpUpload(node.ports.ftp, username, ftpPassword, path.join(tmp, 'upload.html'), 'during.html'), 0, 'FTP refused');
  assert.equal(await imapLoginWorks(node.ports.imap, `info@${domain}`, mailboxes[0]!.password), false, 'IMAP refused');
  const db = await dbLogin(stack, database.name, database.password);
  assert.equal(db.ok, false, 'DB login refused');
  // DELETE is allowed for a suspended account, suspend again is not (it already is).
  assert.equal((await api('POST', `/api/v1/accounts/${username}/suspend`)).status, 409);

  ids.unsuspend = await lifecycle('unsuspend');
  assert.equal((await api('GET', `/api/v1/accounts/${username}`)).body.status, 'active');
  assert.equal((await httpGet(node.ports.nginx.http, domain, '/upload.html')).body, `<p>uploaded by ${username}</p>\n`);
  assert.equal(await ftpUpload(node.ports.ftp, username, ftpPassword, path.join(tmp, 'upload.html'), 'again.html'), 0);
  assert.equal(await imapLoginWorks(node.ports.imap, `info@${domain}`, mailboxes[0]!.password), true);
  const back = await dbLogin(stack, database.name, database.password);
  assert.ok(back.ok, JSON.stringify(back));
});

test('delete removes everything and keeps the audit trail of both workflows', async () => {
  const before = await traceAccount(stack, pools, node, { username, domain, database: database.name });
  assert.deepEqual(before, {
    ...NOTHING,
    zone: true,
    vhostFile: true,
    docroot: true,
    mailDomain: true,
    mailboxes: [`info@${domain}`, `sales.team@${domain}`],
    maildir: true,
    ftpUser: true,
    database: true,
    databaseUser: true,
    accountRow: true,
  });

  const del = await api('DELETE', `/api/v1/accounts/${username}`);
  assert.equal(del.status, 202);
  ids.deprovision = del.body.workflowId;
  const wf = await waitClosed(ids.deprovision);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));

  assert.deepEqual(await traceAccount(stack, pools, node, { username, domain, database: database.name }), NOTHING);
  assert.ok(['NXDOMAIN', 'REFUSED'].includes((await dig(stack, domain, 'A')).status));
  assert.equal((await httpGet(node.ports.nginx.http, domain)).status, 404, 'unknown host: the default server');
  assert.equal(await imapLoginWorks(node.ports.imap, `info@${domain}`, mailboxes[0]!.password), false);
  assert.equal(await ftpUpload(node.ports.ftp, username, ftpPassword, path.join(tmp, 'upload.html'), 'gone.html'), 67);
  assert.equal((await dbLogin(stack, database.name, database.password)).ok, false);
  assert.equal((await api('GET', `/api/v1/accounts/${username}`)).status, 404);

  const provisionAudit = await auditOf(pools.inventory, ids.provision!);
  for (const step of ['reserve', 'docroot', 'vhost', 'dns', 'mail', 'ftp', 'database', 'record', 'activate']) {
    assert.ok(provisionAudit.includes(`${step}:do:ok`), `provision audit has ${step}: ${provisionAudit.join(' ')}`);
  }
  const deprovisionAudit = await auditOf(pools.inventory, ids.deprovision);
  for (const step of ['lookup', 'mark', 'database', 'ftp', 'mail', 'dns', 'vhost', 'docroot', 'inventory']) {
    assert.ok(deprovisionAudit.includes(`${step}:do:ok`), `deprovision audit has ${step}: ${deprovisionAudit.join(' ')}`);
  }
  assert.ok((await auditOf(pools.inventory, ids.suspend!)).includes('vhost:do:ok'));
});

test('the same username can be provisioned again after deletion', async () => {
  const second = await provision();
  assert.notEqual(second, ids.provision);
  const wf = await waitClosed(second);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  assert.equal((await httpGet(node.ports.nginx.http, domain)).status, 200);
  assert.equal((await httpGet(node.ports.nginx.http, domain, '/upload.html')).status, 404, 'the old content is gone');
  assert.equal(await imapLoginWorks(node.ports.imap, `info@${domain}`, mailboxes[0]!.password), true);
  const acct = await api('GET', `/api/v1/accounts/${username}`);
  assert.equal(acct.body.workflowId, second);
  // The old workflows' audit rows are still there next to the new one's.
  assert.ok((await auditOf(pools.inventory, ids.provision!)).length > 0);
});
