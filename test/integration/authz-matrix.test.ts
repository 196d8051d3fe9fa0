import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack } from '../support/stack';

/**
 * Every route of the API × {anonymous, customer A, customer B, admin}: the expected status, enforced by the API
 * itself (no proxy in front). The route list comes from the API's own OpenAPI document, so a new route without
 * a row here fails this test until someone decides who may call it.
 */

const stack = loadStack();
const base = stack.file.api;
const WHO = ['anonymous', 'customerA', 'customerB', 'admin'] as const;
type Who = (typeof WHO)[number];
type Expect = Record<Who, number | number[]>;

interface Case {
  /** `METHOD /path/{param}` exactly as in /docs/openapi.json; null for pages outside the API document. */
  route: string | null;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  expect: Expect;
}

const tag = crypto.randomBytes(3).toString('hex');
const A = `mxa${tag}`;
const B = `mxb${tag}`;
const tokens: Partial<Record<Who, string>> = {};
let wfA = '';

const all = (status: number): Expect => ({ anonymous: status, customerA: status, customerB: status, admin: status });
const adminOnly = (adminStatus: number | number[]): Expect => ({ anonymous: 401, customerA: 403, customerB: 403, admin: adminStatus });

async function provision(username: string): Promise<string> {
  const res = await apiCall(base, '/api/v1/accounts', {
    method: 'POST',
    token: tokens.admin,
    body: { username, domain: `${username}.test` },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  await until(`${username} provisioned`, async () => {
    const wf = await apiCall(base, `/api/v1/workflows/${res.body.workflowId}`, { token: tokens.admin });
    return wf.body.status === 'completed' ? true : undefined;
  });
  return res.body.workflowId;
}

before(async () => {
  tokens.admin = adminToken(stack);
  [wfA] = await Promise.all([provision(A), provision(B)]);
  tokens.customerA = await createToken(stack, 'customer', A);
  tokens.customerB = await createToken(stack, 'customer', B);
});

function cases(): Case[] {
  const own: Expect = { anonymous: 401, customerA: 200, customerB: 404, admin: 200 };
  return [
    { route: 'GET /health', url: '/health', expect: all(200) },
    { route: 'GET /health/ready', url: '/health/ready', expect: all(200) },
    { route: null, url: '/', expect: all(200) },
    { route: null, url: '/docs', expect: all(200) },
    { route: null, url: '/docs/openapi.json', expect: all(200) },
    { route: 'GET /api/v1/me', url: '/api/v1/me', expect: { anonymous: 401, customerA: 200, customerB: 200, admin: 200 } },
    { route: 'GET /api/v1/workflows', url: '/api/v1/workflows', expect: { anonymous: 401, customerA: 200, customerB: 200, admin: 200 } },
    { route: 'GET /api/v1/workflows/{id}', url: `/api/v1/workflows/${wfA}`, expect: own },
    { route: 'GET /api/v1/workflows/{id}/events', url: `/api/v1/workflows/${wfA}/events`, expect: own },
    { route: 'POST /api/v1/workflows/{id}/cancel', url: `/api/v1/workflows/${wfA}/cancel`, expect: adminOnly(409) },
    { route: 'POST /api/v1/workflows/{id}/retry', url: `/api/v1/workflows/${wfA}/retry`, expect: adminOnly(409) },
    { route: 'GET /api/v1/accounts', url: '/api/v1/accounts', expect: { anonymous: 401, customerA: 200, customerB: 200, admin: 200 } },
    { route: 'GET /api/v1/accounts/{username}', url: `/api/v1/accounts/${A}`, expect: own },
    // Side-effect free for the admin: an invalid body or an unknown account. Customers are refused before either.
    { route: 'POST /api/v1/accounts', url: '/api/v1/accounts', body: {}, expect: adminOnly(400) },
    { route: 'POST /api/v1/accounts/{username}/suspend', url: '/api/v1/accounts/nosuch/suspend', expect: adminOnly(404) },
    { route: 'POST /api/v1/accounts/{username}/unsuspend', url: '/api/v1/accounts/nosuch/unsuspend', expect: adminOnly(404) },
    { route: 'DELETE /api/v1/accounts/{username}', url: '/api/v1/accounts/nosuch', expect: adminOnly(404) },
    { route: 'GET /api/v1/tokens', url: '/api/v1/tokens', expect: adminOnly(200) },
    { route: 'POST /api/v1/tokens', url: '/api/v1/tokens', body: {}, expect: adminOnly(400) },
    { route: 'DELETE /api/v1/tokens/{id}', url: '/api/v1/tokens/9999999', expect: adminOnly(404) },
    // The codec cookie: set for administrators only; clearing it needs no token (a revoked one signs out too).
    { route: 'POST /api/v1/session', url: '/api/v1/session', expect: adminOnly(204) },
    { route: 'DELETE /api/v1/session', url: '/api/v1/session', expect: all(204) },
    { route: 'POST /codec/decode', url: '/codec/decode', body: { payloads: [] }, expect: adminOnly(200) },
    { route: 'POST /codec/encode', url: '/codec/encode', body: { payloads: [] }, expect: adminOnly(200) },
    { route: 'OPTIONS /codec/{op}', url: '/codec/decode', expect: all(204) },
    { route: 'GET /api/v1/migrations', url: '/api/v1/migrations', expect: adminOnly(200) },
    { route: 'POST /api/v1/migrations', url: '/api/v1/migrations', body: {}, expect: adminOnly(400) },
    {
      route: 'POST /api/v1/migrations/{id}/resolve',
      url: `/api/v1/migrations/${wfA}/resolve`,
      body: { action: 'retry' },
      expect: adminOnly(404),
    },
    { route: 'POST /api/v1/migrations/{id}/cutover', url: `/api/v1/migrations/${wfA}/cutover`, expect: adminOnly(404) },
    {
      route: 'GET /api/v1/certificates',
      url: '/api/v1/certificates',
      expect: { anonymous: 401, customerA: 200, customerB: 200, admin: 200 },
    },
    // A customer may renew its own certificate; another account's domain looks like an unknown one.
    {
      route: 'POST /api/v1/certificates/{domain}/renew',
      url: `/api/v1/certificates/${A}.test/renew`,
      expect: { anonymous: 401, customerA: 202, customerB: 404, admin: 202 },
    },
    {
      route: 'POST /api/v1/certificates/{domain}/renew',
      url: '/api/v1/certificates/nosuch.test/renew',
      expect: { anonymous: 401, customerA: 404, customerB: 404, admin: 404 },
    },
    // The portal header nginx sets on role ports: the API refuses the other role's token there too.
    {
      route: 'GET /api/v1/me',
      url: '/api/v1/me',
      headers: { 'x-npanel-portal': 'admin' },
      expect: { anonymous: 401, customerA: 403, customerB: 403, admin: 200 },
    },
    {
      route: 'GET /api/v1/me',
      url: '/api/v1/me',
      headers: { 'x-npanel-portal': 'customer' },
      expect: { anonymous: 401, customerA: 200, customerB: 200, admin: 403 },
    },
  ];
}

async function documentedRoutes(): Promise<Set<string>> {
  const doc = (await apiCall(base, '/docs/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  return new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
}

test('every documented route has a row in the matrix, and every row names a real route', async () => {
  const documented = await documentedRoutes();
  const covered = new Set(
    cases()
      .map((c) => c.route)
      .filter((r): r is string => r !== null),
  );
  assert.deepEqual([...documented].filter((r) => !covered.has(r)).sort(), [], 'routes without an authorisation expectation');
  assert.deepEqual([...covered].filter((r) => !documented.has(r)).sort(), [], 'rows for routes the API does not have');
});

test('every route × {anonymous, customer A, customer B, admin} gives the expected status', async () => {
  const documented = await documentedRoutes();
  const wrong: string[] = [];
  for (const c of cases()) {
    if (c.route && !documented.has(c.route)) continue; // reported by the coverage test
    const method = c.route ? c.route.split(' ')[0]! : 'GET';
    for (const who of WHO) {
      const res = await apiCall(base, c.url, {
        method,
        token: tokens[who],
        body: c.body ?? (method === 'POST' ? {} : undefined),
        headers: c.headers,
      });
      const expected = [c.expect[who]].flat();
      if (!expected.includes(res.status))
        wrong.push(
          `${method} ${c.url}${c.headers ? ` ${JSON.stringify(c.headers)}` : ''} as ${who}: ${res.status}, expected ${expected.join(' or ')}`,
        );
    }
  }
  assert.deepEqual(wrong, []);
});

test('lists are scoped: a customer sees only its own account, workflows and certificates', async () => {
  const accounts = await apiCall(base, '/api/v1/accounts', { token: tokens.customerA });
  assert.deepEqual(
    accounts.body.accounts.map((a: { username: string }) => a.username),
    [A],
  );
  const workflows = await apiCall(base, '/api/v1/workflows?limit=500', { token: tokens.customerA });
  assert.ok(workflows.body.workflows.length >= 1);
  assert.ok(
    workflows.body.workflows.every((w: { account: string }) => w.account === A),
    'only account A workflows',
  );
  // Asking for B by filter does not widen the scope.
  const filtered = await apiCall(base, `/api/v1/workflows?account=${B}`, { token: tokens.customerA });
  assert.deepEqual(filtered.body.workflows, []);
  const certs = await apiCall(base, '/api/v1/certificates', { token: tokens.customerB });
  assert.ok(certs.body.certificates.every((c: { account: string | null }) => c.account === B));
  const me = await apiCall(base, '/api/v1/me', { token: tokens.customerA });
  assert.deepEqual(me.body, { role: 'customer', account: A });
});
