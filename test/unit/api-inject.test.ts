import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp, type App } from '../../api/app';
import { PORTAL_HEADER } from '../../api/plugins/security';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { bearer, fakeApiDeps } from '../support/fake-api-deps';

/**
 * The HTTP layer alone, with `buildApp` + `app.inject` (no stack, no socket): authentication, roles, the
 * portal rule, error bodies naming the field, and the published schema. A fake Temporal client records the
 * workflows started; the in-memory inventory throws on calls a route should not make. What needs the real
 * inventory and Temporal (claims racing, the whole matrix on the running API) stays in test/integration.
 */

let app: App;
let fake: ReturnType<typeof fakeApiDeps>;
before(async () => {
  fake = fakeApiDeps([
    { username: 'alice', domain: 'alice.test', nodeId: 'n1', status: 'active' },
    { username: 'bob', domain: 'bob.test', nodeId: 'n1', status: 'active' },
  ]);
  app = await buildApp(fake.deps, { logger: false });
});
after(async () => {
  await app?.close();
});

const validAccount = { username: 'carol', domain: 'carol.test', mailboxes: [{ local: 'info', password: 'Mailbox-Pass-1' }] };

describe('authentication', () => {
  for (const [what, headers] of [
    ['no token', {}],
    ['a malformed header', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['an unknown token', bearer('nobody-token-1234')],
  ] as const) {
    test(`${what}: 401 unauthorized, JSON`, async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/accounts', headers });
      assert.equal(res.statusCode, 401);
      assert.match(res.headers['content-type'] as string, /^application\/json/);
      assert.equal(res.json().error, 'unauthorized');
    });
  }

  test('public routes need no token: the OpenAPI document', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.0.3');
    const post = doc.paths['/api/v1/accounts'].post;
    assert.ok(post.responses['202'] && post.responses['400'], 'POST /api/v1/accounts documents 202 and 400');
    assert.ok(post.requestBody.content['application/json'].schema.properties.username, 'the body schema is published');
  });
});

describe('roles', () => {
  test('a customer may not provision (admin route): 403, nothing started', async () => {
    const before = fake.started.length;
    const res = await app.inject({ method: 'POST', url: '/api/v1/accounts', headers: bearer('alice-token-1234'), payload: validAccount });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error, 'forbidden');
    assert.equal(fake.started.length, before);
  });

  test("a customer sees its own account and gets 404 for another's (no hint that it exists)", async () => {
    const own = await app.inject({ method: 'GET', url: '/api/v1/accounts/alice', headers: bearer('alice-token-1234') });
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().domain, 'alice.test');
    const other = await app.inject({ method: 'GET', url: '/api/v1/accounts/bob', headers: bearer('alice-token-1234') });
    const missing = await app.inject({ method: 'GET', url: '/api/v1/accounts/nosuch', headers: bearer('alice-token-1234') });
    assert.equal(other.statusCode, 404);
    assert.equal(missing.statusCode, 404);
    assert.equal(other.json().error, 'not_found');
  });

  test('a customer list holds only its own account; an admin sees all', async () => {
    const mine = await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: bearer('bob-token-12345') });
    assert.equal(mine.statusCode, 200);
    assert.deepEqual(
      mine.json().accounts.map((a: { username: string }) => a.username),
      ['bob'],
    );
    const all = await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: bearer('admin-token-1234') });
    assert.deepEqual(
      all
        .json()
        .accounts.map((a: { username: string }) => a.username)
        .sort(),
      ['alice', 'bob'],
    );
  });

  test('a customer may not suspend, even its own account: 403', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/accounts/alice/suspend', headers: bearer('alice-token-1234') });
    assert.equal(res.statusCode, 403);
  });

  test('portal rule: an admin token on the customer port and a customer token on the admin port are refused', async () => {
    const adminOnCustomer = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts',
      headers: { ...bearer('admin-token-1234'), [PORTAL_HEADER]: 'customer' },
    });
    const customerOnAdmin = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts/alice',
      headers: { ...bearer('alice-token-1234'), [PORTAL_HEADER]: 'admin' },
    });
    assert.equal(adminOnCustomer.statusCode, 403);
    assert.match(adminOnCustomer.json().message, /this port is for customers/);
    assert.equal(customerOnAdmin.statusCode, 403);
    assert.match(customerOnAdmin.json().message, /this port is for administrators/);
    const adminOnAdmin = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts',
      headers: { ...bearer('admin-token-1234'), [PORTAL_HEADER]: 'admin' },
    });
    assert.equal(adminOnAdmin.statusCode, 200);
  });
});

describe('errors and schemas', () => {
  const post = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/api/v1/accounts', headers: bearer('admin-token-1234'), payload: payload as object });

  for (const [what, body, field] of [
    ['a username with shell characters', { ...validAccount, username: 'carol;id' }, 'body.username'],
    ['a domain with a control character', { ...validAccount, domain: 'carol\u0007.test' }, 'body.domain'],
    [
      'a mailbox local part with a space',
      { ...validAccount, mailboxes: [{ local: 'in fo', password: 'Mailbox-Pass-1' }] },
      'body.mailboxes.0.local',
    ],
    ['an unknown field', { ...validAccount, shell: '/bin/sh' }, 'body.shell'],
    ['a missing domain', { username: 'carol', mailboxes: [] }, 'body.domain'],
  ] as const) {
    test(`${what}: 400 naming ${field}, nothing reserved or started`, async () => {
      const started = fake.started.length;
      const calls = fake.repoCalls.length;
      const res = await post(body);
      assert.equal(res.statusCode, 400);
      const json = res.json();
      assert.equal(json.error, 'bad_request');
      assert.ok(
        json.details.some((d: { field: string }) => d.field === field),
        `details name ${field}: ${JSON.stringify(json.details)}`,
      );
      assert.equal(fake.started.length, started, 'no workflow started');
      assert.equal(fake.repoCalls.length, calls, 'the inventory was not touched');
    });
  }

  test('an invalid path parameter: 400 naming params.username', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/accounts/..%2Fetc', headers: bearer('admin-token-1234') });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().details[0].field, 'params.username');
  });

  test('an unknown node: 400 naming body.node, nothing started', async () => {
    const started = fake.started.length;
    const res = await post({ ...validAccount, node: 'n9' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().details[0].field, 'body.node');
    assert.equal(fake.started.length, started);
  });

  test('broken JSON: a 400 JSON body, not a stack trace', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: { ...bearer('admin-token-1234'), 'content-type': 'application/json' },
      payload: '{"username":',
    });
    assert.equal(res.statusCode, 400);
    assert.doesNotMatch(res.body, /at .*\.js:\d+/);
    assert.equal(typeof res.json().message, 'string');
  });

  test('an unknown route: 404 JSON naming it', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: bearer('admin-token-1234') });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'not_found', message: 'no route GET /api/v1/nothing-here' });
  });

  test('a taken domain: 409 naming body.domain and the account holding it, nothing started', async () => {
    const started = fake.started.length;
    const res = await post({ ...validAccount, username: 'dave', domain: 'bob.test' });
    assert.equal(res.statusCode, 409);
    const json = res.json();
    assert.equal(json.error, 'conflict');
    assert.match(json.message, /domain bob\.test is taken by account bob/);
    assert.deepEqual(json.details, [{ field: 'body.domain', message: 'already taken' }]);
    assert.equal(json.correlationId, 'provision-bob');
    assert.equal(fake.started.length, started);
  });

  const migration = {
    domain: 'shop.test',
    account: 'erin',
    source: {
      host: 'old.example.test',
      user: 'erin',
      password: 'source-pass',
      hostKeyFingerprint: `SHA256:${'A'.repeat(43)}`,
      docroot: '/home/erin/public_html',
      ip: '198.51.100.7',
    },
  };
  for (const [what, source, field] of [
    // No credential shape fits both: the published schema (anyOf of two closed shapes) names the source itself.
    ['both a key and a password', { ...migration.source, privateKey: 'k'.repeat(64) }, 'body.source'],
    ['a source host with shell characters', { ...migration.source, host: 'old.example.test;id' }, 'body.source.host'],
    ['a relative docroot', { ...migration.source, docroot: 'public_html' }, 'body.source.docroot'],
    ['a fingerprint that is not SHA256', { ...migration.source, hostKeyFingerprint: 'MD5:aa:bb' }, 'body.source.hostKeyFingerprint'],
  ] as const) {
    test(`a migration with ${what}: 400 naming ${field}, nothing started`, async () => {
      const started = fake.started.length;
      const calls = fake.repoCalls.length;
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/migrations',
        headers: bearer('admin-token-1234'),
        payload: { ...migration, source },
      });
      assert.equal(res.statusCode, 400);
      assert.ok(
        res.json().details.some((d: { field: string }) => d.field === field),
        JSON.stringify(res.json().details),
      );
      assert.equal(fake.started.length, started);
      assert.equal(fake.repoCalls.length, calls);
    });
  }

  test('a valid provisioning: 202 with the workflow ID, provisionAccount started on the control queue with the node resolved', async () => {
    const res = await post(validAccount);
    assert.equal(res.statusCode, 202);
    const { workflowId } = res.json();
    assert.equal(res.headers['x-correlation-id'], workflowId);
    const start = fake.started.at(-1)!;
    assert.equal(start.type, 'provisionAccount');
    assert.equal(start.options.taskQueue, CONTROL_TASK_QUEUE);
    assert.equal(start.options.workflowId, workflowId);
    assert.deepEqual(start.options.args, [
      { username: 'carol', domain: 'carol.test', node: 'n1', nodeIp: '192.0.2.10', mailboxes: validAccount.mailboxes, tls: false },
    ]);
    assert.ok(fake.rows.has('carol'), 'the account was reserved before the start');
  });
});
