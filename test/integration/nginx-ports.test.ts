import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { repoRoot } from '../../config/load';
import { NGINX_BIN } from '../../stack/services/nginx';
import { canConnect } from '../../stack/ports';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack } from '../support/stack';

/**
 * The production nginx config (deploy/nginx) in front of the test stack's API: rendered with free loopback
 * ports and a self-signed certificate (only listen addresses, include paths, the upstream and cert paths
 * change), checked with `nginx -t`, then run for real to prove the separation of the admin and customer ports.
 */

const execFileP = promisify(execFile);
const stack = loadStack();
const deploy = path.join(repoRoot(), 'deploy', 'nginx');
const dir = path.join(stack.home, `nginx-ports-${crypto.randomBytes(3).toString('hex')}`);
const PORTS = ['8080', '2086', '2087', '2082', '2083'] as const;
const port: Record<(typeof PORTS)[number], number> = { 8080: 0, 2086: 0, 2087: 0, 2082: 0, 2083: 0 };
let nginx: ChildProcess | undefined;
let ca = '';
const tokens = { admin: '', customer: '' };
let customerWorkflow = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.once('error', reject);
  });
}

const matched = new Set<string>();

/** Swaps loopback ports and test paths into a deploy file; every swap must match somewhere (checked in before). */
function render(text: string): string {
  const apiPort = new URL(stack.file.api).port;
  const swaps: [string | RegExp, string][] = [
    ['/etc/nginx/snippets/', `${dir}/snippets/`],
    ['/etc/npanel/tls/', `${dir}/tls/`],
    ['server 127.0.0.1:@NPANEL_API_PORT@;', `server 127.0.0.1:${apiPort};`],
    ...PORTS.map((p) => [new RegExp(`listen ${p}( ssl)?;`), `listen 127.0.0.1:${port[p]}$1;`] as [RegExp, string]),
  ];
  let out = text;
  for (const [from, to] of swaps) {
    const found = typeof from === 'string' ? out.includes(from) : from.test(out);
    if (!found) continue;
    matched.add(String(from));
    out = typeof from === 'string' ? out.split(from).join(to) : out.replace(from, to);
  }
  return out;
}

before(async () => {
  for (const p of PORTS) port[p] = await freePort();
  fs.mkdirSync(path.join(dir, 'snippets'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tls'));
  fs.writeFileSync(path.join(dir, 'npanel.conf'), render(fs.readFileSync(path.join(deploy, 'npanel.conf'), 'utf8')));
  for (const f of fs.readdirSync(path.join(deploy, 'snippets'))) {
    fs.writeFileSync(path.join(dir, 'snippets', f), render(fs.readFileSync(path.join(deploy, 'snippets', f), 'utf8')));
  }
  // A swap that matched nothing means the deploy config changed shape: fail rather than test a stale picture.
  assert.equal(matched.size, 3 + PORTS.length, `swaps that matched: ${[...matched].join(', ')}`);
  await execFileP('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    path.join(dir, 'tls', 'console.key'),
    '-out',
    path.join(dir, 'tls', 'console.crt'),
  ]);
  ca = fs.readFileSync(path.join(dir, 'tls', 'console.crt'), 'utf8');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/tmp-${t};`).join(' ');
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log; daemon off;
events { worker_connections 256; }
http { access_log off; ${temp} include ${dir}/npanel.conf; }
`,
  );
  tokens.admin = adminToken(stack);
  const user = `ng${crypto.randomBytes(3).toString('hex')}`;
  const res = await apiCall(stack.file.api, '/api/v1/accounts', {
    method: 'POST',
    token: tokens.admin,
    body: { username: user, domain: `${user}.test` },
  });
  assert.equal(res.status, 202);
  customerWorkflow = res.body.workflowId;
  tokens.customer = await createToken(stack, 'customer', user);
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await new Promise((r) => nginx!.once('exit', r));
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const nginxArgs = () => ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(
  p: (typeof PORTS)[number],
  pathname: string,
  opts: { token?: string; method?: string; body?: unknown } = {},
): Promise<Answer> {
  const tls = p === '2083' || p === '2087';
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      {
        host: '127.0.0.1',
        port: port[p],
        path: pathname,
        method: opts.method ?? 'GET',
        timeout: 10_000,
        ...(tls ? { ca, servername: 'localhost' } : {}),
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

test('the deploy config passes nginx -t', async () => {
  const { stderr } = await execFileP(NGINX_BIN, ['-t', ...nginxArgs()]);
  assert.match(stderr, /syntax is ok/);
  assert.match(stderr, /test is successful/);
});

test('the real nginx separates the admin and customer ports', async () => {
  nginx = spawn(NGINX_BIN, nginxArgs(), { stdio: 'ignore' });
  for (const p of PORTS) await until(`nginx on ${p}`, async () => ((await canConnect(port[p])) ? true : undefined), 10_000);
  const { admin, customer } = tokens;
  const checks: [string, Promise<Answer>, number][] = [];
  const expect = (label: string, p: (typeof PORTS)[number], pathname: string, status: number, opts: Parameters<typeof call>[2] = {}) =>
    checks.push([
      `${opts.method ?? 'GET'} ${pathname} on ${p}${opts.token === admin ? ' as admin' : opts.token === customer ? ' as customer' : ''} (${label})`,
      call(p, pathname, opts),
      status,
    ]);

  // 8080: everything, the API decides by role.
  expect('unified UI', '8080', '/', 200);
  expect('unified', '8080', '/api/v1/me', 200, { token: admin });
  expect('unified', '8080', '/api/v1/me', 200, { token: customer });
  expect('API role check', '8080', '/api/v1/tokens', 403, { token: customer });
  expect('admin passes auth, body invalid', '8080', '/api/v1/accounts', 400, { token: admin, method: 'POST', body: {} });
  // Admin ports: no customer portal; a customer token is refused by the API's portal rule.
  for (const p of ['2086', '2087'] as const) {
    expect('customer portal refused', p, '/portal/', 403);
    expect('admin portal', p, '/admin/', 200);
    expect('admin API', p, '/api/v1/tokens', 200, { token: admin });
    expect('admin API', p, '/api/v1/accounts', 400, { token: admin, method: 'POST', body: {} });
    expect('customer token on an admin port', p, '/api/v1/me', 403, { token: customer });
  }
  // Customer ports: admin routes and the admin portal are 403 even with an admin token.
  for (const p of ['2082', '2083'] as const) {
    expect('admin portal refused', p, '/admin/', 403);
    expect('customer portal', p, '/portal/', 200);
    expect('customer API', p, '/api/v1/me', 200, { token: customer });
    expect('customer API', p, '/api/v1/accounts', 200, { token: customer });
    expect('customer API', p, `/api/v1/workflows/${customerWorkflow}`, 200, { token: customer });
    expect('admin route', p, '/api/v1/tokens', 403, { token: admin });
    expect('admin route', p, '/api/v1/accounts', 403, { token: admin, method: 'POST', body: {} });
    expect('admin route', p, `/api/v1/workflows/${customerWorkflow}/cancel`, 403, { token: admin, method: 'POST', body: {} });
    expect('admin route', p, `/api/v1/workflows/${customerWorkflow}/retry`, 403, { token: customer, method: 'POST', body: {} });
    expect('admin route', p, '/codec/decode', 403, { token: admin, method: 'POST', body: { payloads: [] } });
    expect('admin token on a customer port', p, '/api/v1/me', 403, { token: admin });
  }
  const wrong: string[] = [];
  for (const [label, answer, status] of checks) {
    const got = await answer;
    if (got.status !== status) wrong.push(`${label}: ${got.status}, expected ${status} ${got.body.slice(0, 120)}`);
  }
  assert.deepEqual(wrong, []);
});

test('through nginx: security headers, HSTS on TLS, and a live event stream on a customer port', async () => {
  const ui = await call('2083', '/portal/');
  assert.match(String(ui.headers['content-security-policy']), /default-src 'self'/);
  assert.equal(ui.headers['x-frame-options'], 'DENY');
  assert.match(String(ui.headers['strict-transport-security']), /max-age=/);
  assert.equal(ui.headers.server, 'nginx', 'no version in the Server header');
  await until('the customer workflow to finish', async () => {
    const wf = await call('2082', `/api/v1/workflows/${customerWorkflow}`, { token: tokens.customer });
    return JSON.parse(wf.body).closedAt ? true : undefined;
  });
  const events = await call('2082', `/api/v1/workflows/${customerWorkflow}/events`, { token: tokens.customer });
  assert.equal(events.status, 200);
  assert.match(String(events.headers['content-type']), /text\/event-stream/);
  assert.match(events.body, /event: snapshot/);
  assert.match(events.body, /event: done/);
});
