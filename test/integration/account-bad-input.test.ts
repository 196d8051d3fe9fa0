import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { domainToASCII } from 'node:url';
import { after, test } from 'node:test';
import { adminToken } from '../support/http';
import { loadStack } from '../support/stack';
import { apiClient, httpGet, inventoryPool, nodePaths, pdnsZones, strongPassword } from '../support/accounts';

/**
 * Hostile and malformed provisioning bodies: each gets a 400 whose details name the offending field, and
 * none of them creates anything anywhere. Other test files run at the same time and do create accounts, so
 * "nothing new" is judged by a marker that every body of this file carries in its username or its domain
 * (whichever field is not the one under attack): anything a hostile body could create would carry it.
 */
const stack = loadStack();
const { api, waitClosed } = apiClient(stack);
const inventory = inventoryPool(stack);
const nodes = [nodePaths(stack, stack.file.node.id), nodePaths(stack, 'b')];
const marker = `q${crypto.randomBytes(3).toString('hex')}`;
const pw = strongPassword();
const created: string[] = [];

after(async () => {
  for (const username of created) {
    const del = await api('DELETE', `/api/v1/accounts/${username}`);
    if (del.status === 202) await waitClosed(del.body.workflowId).catch(() => undefined);
  }
  await inventory.end();
});

type Body = Record<string, unknown>;
interface Case {
  name: string;
  field: string;
  body: (base: Body) => Body;
}

const set = (key: string, value: unknown) => (b: Body) => ({ ...b, [key]: value });
const mailbox = (m: Record<string, unknown>) => (b: Body) => ({ ...b, mailboxes: [{ local: 'info', password: pw, ...m }] });
const db = (d: Record<string, unknown>) => (b: Body) => ({
  ...b,
  database: { name: (b.database as { name: string }).name, password: pw, ...d },
});
const long = (n: number) => 'a'.repeat(n);

const cases: Case[] = [
  // username
  { name: 'reserved root', field: 'body.username', body: set('username', 'root') },
  { name: 'reserved ROOT (normalised to root)', field: 'body.username', body: set('username', 'ROOT') },
  { name: 'reserved mysql', field: 'body.username', body: set('username', 'mysql') },
  { name: 'reserved nginx', field: 'body.username', body: set('username', 'nginx') },
  { name: 'shell metacharacters', field: 'body.username', body: set('username', 'a;rm -rf /') },
  { name: 'path traversal', field: 'body.username', body: set('username', '../etc') },
  { name: 'NUL byte', field: 'body.username', body: set('username', `bad${marker}\u0000x`) },
  { name: 'command substitution', field: 'body.username', body: set('username', '$(id)') },
  { name: 'backticks', field: 'body.username', body: set('username', '`id`') },
  { name: '17 characters', field: 'body.username', body: set('username', `b${marker}${long(9)}`) },
  { name: 'empty', field: 'body.username', body: set('username', '') },
  { name: 'leading digit', field: 'body.username', body: set('username', `1${marker}`) },
  { name: 'hyphen', field: 'body.username', body: set('username', `a-${marker}`) },
  { name: 'number', field: 'body.username', body: set('username', 12345) },
  { name: 'newline inside', field: 'body.username', body: set('username', `bad\n${marker}`) },
  { name: 'trailing newline', field: 'body.username', body: set('username', `bad${marker}\n`) },
  { name: 'null', field: 'body.username', body: set('username', null) },
  { name: 'array', field: 'body.username', body: set('username', ['abc']) },
  { name: 'space', field: 'body.username', body: set('username', 'ab cd') },
  // domain
  { name: 'shell metacharacters', field: 'body.domain', body: set('domain', `${marker}.example; rm -rf /`) },
  { name: 'path traversal', field: 'body.domain', body: set('domain', '../../etc/passwd') },
  { name: 'NUL byte', field: 'body.domain', body: set('domain', `${marker}\u0000.example`) },
  { name: 'label of 64', field: 'body.domain', body: set('domain', `${long(64)}.example`) },
  { name: 'name of 263', field: 'body.domain', body: set('domain', `${`${long(63)}.`.repeat(4)}example`) },
  { name: 'single label', field: 'body.domain', body: set('domain', 'localhost') },
  { name: 'leading hyphen', field: 'body.domain', body: set('domain', `-${marker}.example`) },
  { name: 'trailing hyphen', field: 'body.domain', body: set('domain', `${marker}-.example`) },
  { name: 'empty label', field: 'body.domain', body: set('domain', `${marker}..example`) },
  { name: 'IP address', field: 'body.domain', body: set('domain', '127.0.0.1') },
  { name: 'space', field: 'body.domain', body: set('domain', `${marker} x.example`) },
  { name: 'slash', field: 'body.domain', body: set('domain', `${marker}.example/../x`) },
  { name: 'wildcard', field: 'body.domain', body: set('domain', `*.${marker}.example`) },
  { name: 'dollar (nginx variable)', field: 'body.domain', body: set('domain', `$host.${marker}.example`) },
  { name: 'newline (config injection)', field: 'body.domain', body: set('domain', `${marker}.example;\nserver {`) },
  { name: 'number', field: 'body.domain', body: set('domain', 42) },
  { name: 'empty', field: 'body.domain', body: set('domain', '') },
  { name: '400 characters', field: 'body.domain', body: set('domain', `${long(400)}.example`) },
  // Hidden characters are refused, never dropped: domainToASCII would map "ex\nample" to "example" (issue 11).
  { name: 'newline inside (never normalised away)', field: 'body.domain', body: set('domain', `ex\nample${marker}.example`) },
  { name: 'tab inside', field: 'body.domain', body: set('domain', `ex\tample${marker}.example`) },
  { name: 'trailing newline', field: 'body.domain', body: set('domain', `bad${marker}.example\n`) },
  { name: 'leading carriage return', field: 'body.domain', body: set('domain', `\rbad${marker}.example`) },
  { name: 'soft hyphen (IDNA maps it away)', field: 'body.domain', body: set('domain', `ex\u00adample${marker}.example`) },
  { name: 'zero-width space', field: 'body.domain', body: set('domain', `ex\u200bample${marker}.example`) },
  { name: 'invalid punycode xn--a', field: 'body.domain', body: set('domain', `xn--a.${marker}.example`) },
  { name: 'invalid punycode in the last label', field: 'body.domain', body: set('domain', `${marker}.xn--a`) },
  // mailboxes
  { name: 'local with space', field: 'body.mailboxes.0.local', body: mailbox({ local: 'in fo' }) },
  { name: 'local traversal', field: 'body.mailboxes.0.local', body: mailbox({ local: '../x' }) },
  { name: 'local semicolon', field: 'body.mailboxes.0.local', body: mailbox({ local: 'a;b' }) },
  { name: 'local leading dot', field: 'body.mailboxes.0.local', body: mailbox({ local: '.info' }) },
  { name: 'local double dot', field: 'body.mailboxes.0.local', body: mailbox({ local: 'in..fo' }) },
  { name: 'local of 65', field: 'body.mailboxes.0.local', body: mailbox({ local: long(65) }) },
  { name: 'local with @', field: 'body.mailboxes.0.local', body: mailbox({ local: 'a@evil.example' }) },
  { name: 'local with a tab inside', field: 'body.mailboxes.0.local', body: mailbox({ local: 'in\tfo' }) },
  { name: 'local with a trailing newline', field: 'body.mailboxes.0.local', body: mailbox({ local: 'info\n' }) },
  {
    name: 'duplicate (case-folded)',
    field: 'body.mailboxes.1.local',
    body: (b) => ({
      ...b,
      mailboxes: [
        { local: 'info', password: pw },
        { local: 'INFO', password: pw },
      ],
    }),
  },
  { name: 'short password', field: 'body.mailboxes.0.password', body: mailbox({ password: 'Ab1!' }) },
  { name: 'letters-only password', field: 'body.mailboxes.0.password', body: mailbox({ password: 'abcdefghijklmn' }) },
  { name: 'too few distinct characters', field: 'body.mailboxes.0.password', body: mailbox({ password: 'ab1ab1ab1ab1' }) },
  { name: 'oversized password', field: 'body.mailboxes.0.password', body: mailbox({ password: `${long(200)}1` }) },
  { name: 'password with NUL', field: 'body.mailboxes.0.password', body: mailbox({ password: 'abcdefgh12\u0000x' }) },
  { name: 'password with newline', field: 'body.mailboxes.0.password', body: mailbox({ password: 'abcdefgh12\nx' }) },
  {
    name: 'password containing the username',
    field: 'body.mailboxes',
    body: (b) => mailbox({ password: `X1!${b.username as string}` })(b),
  },
  { name: 'not an array', field: 'body.mailboxes', body: set('mailboxes', 'info') },
  { name: 'unknown mailbox field', field: 'body.mailboxes.0.quota', body: mailbox({ quota: 1 }) },
  {
    name: '51 mailboxes',
    field: 'body.mailboxes',
    body: (b) => ({ ...b, mailboxes: Array.from({ length: 51 }, (_, i) => ({ local: `m${i}`, password: pw })) }),
  },
  // ftp
  { name: 'digits-only password', field: 'body.ftp.password', body: set('ftp', { password: '12345678901' }) },
  { name: 'unknown ftp field (home)', field: 'body.ftp.home', body: set('ftp', { password: pw, home: '/etc' }) },
  { name: 'ftp as a string', field: 'body.ftp', body: set('ftp', 'secret') },
  // database
  { name: 'reserved database', field: 'body.database.name', body: db({ name: 'mysql' }) },
  { name: 'SQL injection in the name', field: 'body.database.name', body: db({ name: 'a;drop database npanel' }) },
  { name: 'backtick in the name', field: 'body.database.name', body: db({ name: 'x`y' }) },
  { name: 'newline in the name', field: 'body.database.name', body: db({ name: 'shop\n' }) },
  { name: 'reserved login root', field: 'body.database.user', body: db({ user: 'root' }) },
  { name: 'derived login npanel_admin', field: 'body.database.name', body: db({ name: 'npanel_admin' }) },
  { name: 'name of 33', field: 'body.database.name', body: db({ name: long(33) }) },
  { name: 'weak password', field: 'body.database.password', body: db({ password: 'passwordpassword' }) },
  {
    name: 'missing password',
    field: 'body.database.password',
    body: (b) => ({ ...b, database: { name: (b.database as { name: string }).name } }),
  },
  // the rest
  { name: 'unknown top-level field', field: 'body.shell', body: set('shell', '/bin/bash') },
  { name: 'unknown node', field: 'body.node', body: set('node', 'zz') },
  { name: 'node traversal', field: 'body.node', body: set('node', '../b') },
  { name: 'tls as a string', field: 'body.tls', body: set('tls', 'yes') },
  { name: 'tls as a number', field: 'body.tls', body: set('tls', 1) },
];

interface Snapshot {
  rows: string[];
  zones: string[];
  files: string[];
  passwd: string[];
}

/** Everything where an account could appear, filtered to what carries this file's marker. */
async function snapshot(tag: string): Promise<Snapshot> {
  const has = (s: string) => s.toLowerCase().includes(tag);
  const [rows] = await inventory.query('SELECT username, domain FROM accounts');
  const files: string[] = [];
  for (const n of nodes) {
    for (const dir of [n.nginx.sitesDir, n.nginx.webRoot, n.mail.usersDir, n.mail.domainsDir, n.mail.vmailDir]) {
      for (const f of fs.readdirSync(dir)) if (has(f)) files.push(path.join(dir, f));
    }
  }
  const passwd = nodes.flatMap((n) =>
    fs
      .readFileSync(n.ftp.passwdFile, 'utf8')
      .split('\n')
      .filter((l) => has(l.split(':')[0] ?? '')),
  );
  return {
    rows: (rows as { username: string; domain: string }[]).filter((r) => has(r.username) || has(r.domain)).map((r) => r.username),
    zones: (await pdnsZones(stack)).filter(has),
    files,
    passwd,
  };
}

test(`${cases.length} hostile or malformed bodies: each is a 400 naming its field, and nothing is created`, async () => {
  assert.ok(cases.length >= 50);
  const startedAt = new Date();
  const before = await snapshot(marker);
  assert.deepEqual(before, { rows: [], zones: [], files: [], passwd: [] });
  for (const [i, c] of cases.entries()) {
    const base: Body = {
      username: `bad${marker}${i}`,
      domain: `bad${marker}${i}.example`,
      mailboxes: [{ local: 'info', password: pw }],
      ftp: { password: pw },
      database: { name: `bad${marker}${i}db`, password: pw },
    };
    const body = c.body(base);
    // Keep the marker on the field that is not under attack, so whatever a body might create carries it.
    if (c.field.startsWith('body.username')) body.domain = base.domain;
    const res = await api('POST', '/api/v1/accounts', body);
    assert.equal(res.status, 400, `${c.field} ${c.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.equal(res.body.error, 'bad_request', c.name);
    const fields = (res.body.details ?? []).map((d: { field: string }) => d.field);
    assert.ok(fields.includes(c.field), `${c.field} ${c.name}: details name ${JSON.stringify(fields)}`);
  }
  // Bodies that are not even JSON objects.
  for (const raw of ['{"username":', '[]', '"root"', '{"__proto__":{"admin":true},"username":"x"}']) {
    const res = await fetch(`${stack.file.api}/api/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken(stack)}`, 'content-type': 'application/json' },
      body: raw,
    });
    assert.equal(res.status, 400, `${raw}: ${res.status}`);
  }

  assert.deepEqual(await snapshot(marker), before, 'no row, zone, file or FTP user carries the marker');
  const list = await api('GET', `/api/v1/workflows?type=provisionAccount&limit=200`);
  assert.equal(list.status, 200);
  const ours = list.body.workflows.filter(
    (w: { startedAt: string; account: string | null; domain: string | null; workflowId: string }) =>
      new Date(w.startedAt) >= startedAt && [w.account, w.domain, w.workflowId].some((v) => v?.includes(marker)),
  );
  assert.deepEqual(ours, [], 'no provisioning workflow was started');
  for (const reserved of ['root', 'mysql', 'nginx']) assert.equal((await api('GET', `/api/v1/accounts/${reserved}`)).status, 400);
});

test('uppercase and a trailing dot are normalised, not rejected: the normalised account is what exists', async () => {
  const tag = `n${crypto.randomBytes(3).toString('hex')}`;
  const res = await api('POST', '/api/v1/accounts', {
    username: `NORM${tag.toUpperCase()}`,
    domain: `Norm${tag}.EXAMPLE.`,
    mailboxes: [{ local: 'Info', password: pw }],
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const username = `norm${tag}`;
  const domain = `norm${tag}.example`;
  created.push(username);
  const wf = await waitClosed(res.body.workflowId);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  const acct = await api('GET', `/api/v1/accounts/${username}`);
  assert.equal(acct.status, 200);
  assert.equal(acct.body.domain, domain);
  assert.deepEqual(acct.body.mailboxes, [`info@${domain}`]);
  assert.ok(fs.existsSync(path.join(nodes[0]!.nginx.sitesDir, `${domain}.conf`)));
  assert.ok(fs.existsSync(path.join(nodes[0]!.nginx.webRoot, username, domain, 'public_html')));
  assert.ok((await pdnsZones(stack)).includes(`${domain}.`));
  assert.equal((await httpGet(nodes[0]!.ports.nginx.http, domain)).status, 200);
});

test('an IDN domain is turned into punycode, and the punycode domain is created and served', async () => {
  const tag = `i${crypto.randomBytes(3).toString('hex')}`;
  const unicode = `bücher-${tag}.example`;
  const puny = domainToASCII(unicode);
  assert.match(puny, /^xn--/);
  const res = await api('POST', '/api/v1/accounts', { username: `idn${tag}`, domain: unicode });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  created.push(`idn${tag}`);
  const wf = await waitClosed(res.body.workflowId);
  assert.equal(wf.status, 'completed', JSON.stringify(wf.error));
  assert.equal(wf.result.domain, puny);
  assert.equal((await api('GET', `/api/v1/accounts/idn${tag}`)).body.domain, puny);
  assert.ok((await pdnsZones(stack)).includes(`${puny}.`));
  const page = await httpGet(nodes[0]!.ports.nginx.http, puny);
  assert.equal(page.status, 200);
  assert.match(page.body, new RegExp(puny));
});
