import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createFilesActivities } from '../../activities/files';
import { createNginxActivities } from '../../activities/nginx';
import { nginxReloadCount, nginxReloaderStats } from '../../activities/nginx-reloader';
import { NGINX_BIN, nginxLayout } from '../../stack/services/nginx';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const layout = nginxLayout({
  id: 'a',
  ip: '127.0.0.1',
  dir: path.join(stack.file.home, 'nodes', 'a'),
  ports: {
    nginxHttp: stack.file.nginx.http,
    nginxHttps: stack.file.nginx.https,
    imap: 0,
    imaps: 0,
    lmtp: 0,
    smtp: 0,
    submission: 0,
    ftp: 0,
    ftpPassiveLow: 0,
    ftpPassiveHigh: 0,
    workerMetrics: 0,
  },
});
const nginx = createNginxActivities({
  bin: NGINX_BIN,
  prefix: layout.prefix,
  conf: layout.conf,
  errorLog: layout.errorLog,
  sitesDir: layout.sitesDir,
  certsDir: layout.certsDir,
  challengeDir: layout.challengeDir,
  suspendedPage: layout.suspendedPage,
  httpPort: stack.file.nginx.http,
  httpsPort: stack.file.nginx.https,
  listenIp: '127.0.0.1',
});
const files = createFilesActivities({ webRoot: layout.webRoot, ownerUid: 2000, ownerGid: 2000 });
const reloads = () => nginxReloadCount(layout.conf);

const run = crypto.randomBytes(3).toString('hex');
const account = `t${run}`;
const made: string[] = [];
function domain(label: string): string {
  const d = `${label}-${run}.test`;
  made.push(d);
  return d;
}
after(async () => {
  await Promise.all(made.map((d) => nginx.removeVhost({ domain: d })));
  for (const d of made) await files.removeDocroot({ account, domain: d });
});

function get(host: string, urlPath = '/'): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: stack.file.nginx.http, path: urlPath, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
      })
      .on('error', reject);
  });
}

function getTls(host: string): Promise<{ status: number; body: string; cn: unknown }> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port: stack.file.nginx.https,
          servername: host,
          headers: { host },
          path: '/',
          agent: false,
          rejectUnauthorized: false,
        },
        (res) => {
          const cn = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn }));
        },
      )
      .on('error', reject);
  });
}

async function site(d: string, extra: { tls?: { certPath: string; keyPath: string }; redirectHttps?: boolean } = {}) {
  const { path: docroot } = await files.ensureDocroot({ account, domain: d });
  return nginx.ensureVhost({ domain: d, docroot, ...extra });
}

test('ensureDocroot + ensureVhost: the site answers with its index, for domain and www', async () => {
  const d = domain('site');
  const res = await site(d);
  assert.equal(res.changed, true);
  const docroot = path.join(layout.webRoot, account, d, 'public_html');
  const st = fs.statSync(path.join(docroot, 'index.html'));
  assert.equal(st.uid, 2000);
  assert.equal(st.mode & 0o777, 0o644);
  for (const host of [d, `www.${d}`]) {
    const r = await get(host);
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(d.replace(/\./g, '\\.')));
  }
  assert.deepEqual(await nginx.vhostStatus({ domain: d }), { domain: d, exists: true, suspended: false, tls: false });
});

test('the same ensureVhost twice is a no-op: no second reload', async () => {
  const d = domain('twice');
  await site(d);
  const before = reloads();
  const again = await site(d);
  assert.equal(again.changed, false);
  assert.equal(reloads(), before);
  assert.equal((await get(d)).status, 200);
});

test('a vhost nginx rejects fails alone, is undone, and bad config is never loaded', async () => {
  const good = domain('good');
  await site(good);
  const bad = domain('bad');
  const { path: docroot } = await files.ensureDocroot({ account, domain: bad });
  const missing = { certPath: `/nonexistent-${run}/fullchain.pem`, keyPath: `/nonexistent-${run}/key.pem` };
  const before = reloads();
  const logBefore = fs.statSync(path.join(stack.file.logs, 'nginx.log')).size;

  // Alone: rejected, file removed, no reload at all.
  await assert.rejects(nginx.ensureVhost({ domain: bad, docroot, tls: missing }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'NginxConfigRejected');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /nonexistent/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(layout.sitesDir, `${bad}.conf`)), false);
  assert.equal(reloads(), before);

  // In a batch with good ones: only the bad caller fails, the good ones are served after one reload.
  const others = [domain('batch1'), domain('batch2'), domain('batch3')];
  const results = await Promise.allSettled([...others.map((d) => site(d)), nginx.ensureVhost({ domain: bad, docroot, tls: missing })]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
  );
  assert.equal(reloads(), before + 1);
  for (const d of [good, ...others]) assert.equal((await get(d)).status, 200, d);
  assert.equal((await get(bad)).status, 404);
  // The master never logged a failed reload (it would if it had been sent a config that fails -t).
  const log = fs.readFileSync(path.join(stack.file.logs, 'nginx.log'), 'utf8').slice(logBefore);
  assert.doesNotMatch(log, /\[emerg\]/);

  // An existing vhost keeps its previous, working content when an update is rejected.
  await assert.rejects(nginx.ensureVhost({ domain: good, docroot, tls: missing }), /NginxConfigRejected|nonexistent/);
  assert.equal((await get(good)).status, 200);
  assert.equal((await nginx.vhostStatus({ domain: good })).tls, false);
});

test('50 concurrent ensureVhost: all served after a handful of reloads', async () => {
  const domains = Array.from({ length: 50 }, (_, i) => domain(`many${i}`));
  await Promise.all(domains.map((d) => files.ensureDocroot({ account, domain: d })));
  const before = reloads();
  const started = Date.now();
  await Promise.all(domains.map((d) => nginx.ensureVhost({ domain: d, docroot: path.join(layout.webRoot, account, d, 'public_html') })));
  const ms = Date.now() - started;
  const used = reloads() - before;
  console.log(`50 vhosts: ${used} reload(s) in ${ms} ms; stats ${JSON.stringify(nginxReloaderStats(layout.conf))}`);
  assert.ok(used >= 1 && used <= 3, `reloads: ${used}`);
  const answers = await Promise.all(domains.map((d) => get(d)));
  assert.deepEqual(
    answers.map((a) => a.status),
    domains.map(() => 200),
  );
});

test('suspend serves the suspended page (ACME still works); unsuspend restores the site', async () => {
  const d = domain('susp');
  await site(d);
  const token = `tok-${run}`;
  fs.writeFileSync(path.join(layout.challengeDir, token), 'proof', { mode: 0o644 });
  try {
    assert.equal((await nginx.setVhostSuspended({ domain: d, suspended: true })).changed, true);
    assert.equal((await nginx.setVhostSuspended({ domain: d, suspended: true })).changed, false);
    for (const p of ['/', '/index.html', '/any/path']) {
      const r = await get(d, p);
      assert.equal(r.status, 503);
      assert.match(r.body, /suspended/i);
    }
    assert.equal((await get(d, `/.well-known/acme-challenge/${token}`)).body, 'proof');
    assert.equal((await nginx.vhostStatus({ domain: d })).suspended, true);
    // An update while suspended keeps it suspended.
    await site(d);
    assert.equal((await get(d)).status, 503);

    await nginx.setVhostSuspended({ domain: d, suspended: false });
    const r = await get(d);
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(d.replace(/\./g, '\\.')));
    assert.equal((await nginx.setVhostSuspended({ domain: d, suspended: false })).changed, false);
  } finally {
    fs.rmSync(path.join(layout.challengeDir, token), { force: true });
  }
});

test('TLS vhost with HTTP->HTTPS redirect: HTTPS serves the site with its cert, HTTP redirects except ACME', async () => {
  const d = domain('tls');
  const dir = path.join(layout.certsDir, d);
  fs.mkdirSync(dir, { recursive: true });
  const certPath = path.join(dir, 'fullchain.pem');
  const keyPath = path.join(dir, 'key.pem');
  await execFileP('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${d}`,
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const token = `tls-${run}`;
  fs.writeFileSync(path.join(layout.challengeDir, token), 'tls-proof', { mode: 0o644 });
  try {
    await site(d, { tls: { certPath, keyPath }, redirectHttps: true });
    const s = await getTls(d);
    assert.equal(s.status, 200);
    assert.equal(s.cn, d);
    assert.match(s.body, new RegExp(d.replace(/\./g, '\\.')));
    const r = await get(d, '/page');
    assert.equal(r.status, 301);
    assert.equal(r.location, `https://${d}:${stack.file.nginx.https}/page`);
    assert.equal((await get(d, `/.well-known/acme-challenge/${token}`)).body, 'tls-proof');
    assert.equal((await nginx.vhostStatus({ domain: d })).tls, true);
  } finally {
    fs.rmSync(path.join(layout.challengeDir, token), { force: true });
    await nginx.removeVhost({ domain: d });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('removeVhost: the host falls back to the default 404; removing again changes nothing', async () => {
  const d = domain('gone');
  await site(d);
  assert.equal((await get(d)).status, 200);
  assert.equal((await nginx.removeVhost({ domain: d })).changed, true);
  assert.equal((await get(d)).status, 404);
  const before = reloads();
  assert.equal((await nginx.removeVhost({ domain: d })).changed, false);
  assert.equal(reloads(), before);
  assert.deepEqual(await nginx.vhostStatus({ domain: d }), { domain: d, exists: false, suspended: false, tls: false });
});

test('invalid names are rejected before any file is touched', async () => {
  for (const bad of ['Evil.com', 'a.com; x', '../etc', 'nodot']) {
    await assert.rejects(nginx.ensureVhost({ domain: bad, docroot: '/tmp' }), /invalid domain/);
    await assert.rejects(files.ensureDocroot({ account, domain: bad }), /invalid domain/);
  }
  await assert.rejects(files.ensureDocroot({ account: '../x', domain: 'ok.test' }), /invalid account/);
  await assert.rejects(nginx.ensureVhost({ domain: 'ok.test', docroot: '/srv/../etc' }), /invalid docroot/);
});

test('removeDocroot removes the domain folder and an empty account folder, and never follows a symlink', async () => {
  const acct = `r${run}`;
  const d = `rm-${run}.test`;
  const { path: docroot } = await files.ensureDocroot({ account: acct, domain: d });
  fs.writeFileSync(path.join(docroot, 'upload.txt'), 'x');
  assert.equal((await files.removeDocroot({ account: acct, domain: d })).removed, true);
  assert.equal(fs.existsSync(path.join(layout.webRoot, acct)), false);
  // A customer-made symlink in place of a domain folder is refused, not followed.
  const outside = fs.mkdtempSync('/tmp/npanel-outside-');
  fs.mkdirSync(path.join(layout.webRoot, acct));
  fs.symlinkSync(outside, path.join(layout.webRoot, acct, d));
  try {
    await assert.rejects(files.ensureDocroot({ account: acct, domain: d }), /not a folder/);
    await files.removeDocroot({ account: acct, domain: d });
    assert.equal(fs.existsSync(outside), true);
  } finally {
    fs.rmSync(path.join(layout.webRoot, acct), { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});
