import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack } from '../support/stack';

/**
 * Issue 11, findings 3 and 7, as an attacker tries them against the running stack's API: a forged
 * cross-site request riding the console's cookie, and tokens that outlive their account.
 */

const stack = loadStack();
const base = stack.file.api;
const admin = adminToken(stack);
const tag = crypto.randomBytes(3).toString('hex');
const victim = `csrf${tag}`;

async function provision(username: string): Promise<void> {
  const res = await apiCall(base, '/api/v1/accounts', { method: 'POST', token: admin, body: { username, domain: `${username}.test` } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  await until(
    `${username} provisioned`,
    async () => {
      const wf = await apiCall(base, `/api/v1/workflows/${res.body.workflowId}`, { token: admin });
      if (wf.body.status === 'failed') throw new Error(JSON.stringify(wf.body));
      return wf.body.status === 'completed' ? true : undefined;
    },
    90_000,
  );
}

const accountStatus = async (username: string) => (await apiCall(base, `/api/v1/accounts/${username}`, { token: admin })).body.status;

before(async () => {
  await provision(victim);
});

test('finding 7: a cross-site POST carrying only the console cookie cannot suspend an account', async () => {
  // The exact reproduction: the cookie, a foreign Origin, no body.
  const forged = await apiCall(base, `/api/v1/accounts/${victim}/suspend`, {
    method: 'POST',
    headers: { cookie: `npanel_token=${admin}`, origin: 'http://evil.test' },
  });
  assert.equal(forged.status, 403, JSON.stringify(forged.body));
  assert.equal(forged.body.error, 'forbidden');
  assert.match(forged.body.message, /npanel_token cookie.*own origin/);
  // No Origin at all (an old browser, a stripped header) is refused the same way.
  const bare = await apiCall(base, `/api/v1/accounts/${victim}/suspend`, { method: 'POST', headers: { cookie: `npanel_token=${admin}` } });
  assert.equal(bare.status, 403, JSON.stringify(bare.body));
  // `Origin: null` (a sandboxed frame, a data: page) and a look-alike host are foreign too.
  for (const origin of ['null', `${base}.evil.test`, base.replace('http:', 'ftp:')]) {
    const res = await apiCall(base, `/api/v1/accounts/${victim}/suspend`, {
      method: 'POST',
      headers: { cookie: `npanel_token=${admin}`, origin },
    });
    assert.equal(res.status, 403, `${origin}: ${JSON.stringify(res.body)}`);
  }
  // Even from the console's own origin the cookie authenticates nothing outside the codec endpoint.
  const sameOrigin = await apiCall(base, `/api/v1/accounts/${victim}/suspend`, {
    method: 'POST',
    headers: { cookie: `npanel_token=${admin}`, origin: base },
  });
  assert.equal(sameOrigin.status, 401, JSON.stringify(sameOrigin.body));
  const cookieRead = await apiCall(base, '/api/v1/tokens', { headers: { cookie: `npanel_token=${admin}` } });
  assert.equal(cookieRead.status, 401, 'a cookie alone reads nothing either (cross-site GETs with it can still be made)');
  // Nothing changed: no workflow was started, the account stays active.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await accountStatus(victim), 'active');
  const started = await apiCall(base, `/api/v1/workflows?account=${victim}`, { token: admin });
  assert.ok(!JSON.stringify(started.body).includes('suspend-'), `no suspension workflow: ${JSON.stringify(started.body).slice(0, 300)}`);
});

test('finding 7: bearer-header requests are unaffected by Origin; the codec endpoint takes the cookie only from its own origins', async () => {
  const uiOrigin = new URL(stack.file.temporal.ui).origin;
  // A bearer header is never attached by a browser on its own: a foreign Origin does not matter.
  const bearer = await apiCall(base, '/api/v1/session', { method: 'POST', token: admin, headers: { origin: 'http://evil.test' } });
  assert.equal(bearer.status, 204, JSON.stringify(bearer.body));
  // Temporal Web (its own origin) decodes with the cookie; a foreign page cannot.
  const fromUi = await apiCall(base, '/codec/decode', {
    method: 'POST',
    body: { payloads: [] },
    headers: { cookie: `npanel_token=${admin}`, origin: uiOrigin },
  });
  assert.equal(fromUi.status, 200, JSON.stringify(fromUi.body));
  assert.equal(fromUi.headers.get('access-control-allow-origin'), uiOrigin);
  const fromEvil = await apiCall(base, '/codec/decode', {
    method: 'POST',
    body: { payloads: [] },
    headers: { cookie: `npanel_token=${admin}`, origin: 'http://evil.test' },
  });
  assert.equal(fromEvil.status, 403, JSON.stringify(fromEvil.body));
});

test('finding 7: the codec cookie is set by the server, HttpOnly, for /codec only, for administrators only', async () => {
  const set = await apiCall(base, '/api/v1/session', { method: 'POST', token: admin, headers: { origin: base } });
  assert.equal(set.status, 204);
  const cookie = set.headers.get('set-cookie') ?? '';
  assert.equal(cookie, `npanel_token=${admin}; Path=/codec; HttpOnly; SameSite=Strict`);
  const cleared = await apiCall(base, '/api/v1/session', { method: 'DELETE', headers: { origin: base } });
  assert.equal(cleared.status, 204);
  assert.match(cleared.headers.get('set-cookie') ?? '', /^npanel_token=; Max-Age=0; Path=\/codec; HttpOnly; SameSite=Strict$/);
  const customer = await createToken(stack, 'customer', victim);
  const refused = await apiCall(base, '/api/v1/session', { method: 'POST', token: customer, headers: { origin: base } });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('set-cookie'), null, 'no cookie for a customer');
});

async function waitWorkflow(workflowId: string): Promise<any> {
  return until(
    `${workflowId} closed`,
    async () => {
      const wf = await apiCall(base, `/api/v1/workflows/${workflowId}`, { token: admin });
      return ['completed', 'failed', 'cancelled', 'terminated'].includes(wf.body.status) ? wf.body : undefined;
    },
    90_000,
  );
}

test('finding 3: a customer token dies with its account and never reads the next account of that name', async () => {
  const carol = `carol${tag}`;
  await provision(carol);
  const made = await apiCall(base, '/api/v1/tokens', {
    method: 'POST',
    token: admin,
    body: { role: 'customer', account: carol, label: 'finding 3' },
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const old = made.body.token as string;
  // Remembered by the API's token cache (1 s): the deprovisioning must not be outlived by that memory.
  assert.equal((await apiCall(base, `/api/v1/accounts/${carol}`, { token: old })).status, 200);

  const del = await apiCall(base, `/api/v1/accounts/${carol}`, { method: 'DELETE', token: admin });
  assert.equal(del.status, 202, JSON.stringify(del.body));
  // From the moment the removal is accepted the token is refused; once refused, never accepted again.
  const seen: number[] = [];
  await until(
    'the old token refused',
    async () => {
      seen.push((await apiCall(base, '/api/v1/me', { token: old })).status);
      return seen.at(-1) === 401 ? true : undefined;
    },
    30_000,
    20,
  );
  const wf = await waitWorkflow(del.body.workflowId);
  assert.equal(wf.status, 'completed', JSON.stringify(wf));
  for (let i = 0; i < 5; i++) assert.equal((await apiCall(base, '/api/v1/me', { token: old })).status, 401);
  // Revoked inside the workflow (its own step), not only refused for want of an account.
  const listed = (await apiCall(base, '/api/v1/tokens', { token: admin })).body.tokens.find((t: { id: number }) => t.id === made.body.id);
  assert.ok(listed.revokedAt, `token row revoked: ${JSON.stringify(listed)}`);
  assert.ok(wf.steps ? JSON.stringify(wf.steps).includes('tokens') : true);

  // The same name provisioned again: the old token reads nothing of the new carol.
  await provision(carol);
  for (const url of ['/api/v1/me', `/api/v1/accounts/${carol}`, '/api/v1/workflows', '/api/v1/certificates']) {
    const res = await apiCall(base, url, { token: old });
    assert.equal(res.status, 401, `${url}: ${JSON.stringify(res.body).slice(0, 200)}`);
    assert.equal(res.body.error, 'unauthorized');
  }
  // A new token for the new carol works: the refusal is about the old token, not the name.
  const fresh = await createToken(stack, 'customer', carol);
  assert.deepEqual((await apiCall(base, '/api/v1/me', { token: fresh })).body, { role: 'customer', account: carol });
});

test('finding 3: customer tokens only for existing accounts (API 404 naming the field, CLI refuses too)', async () => {
  const ghost = `ghost${tag}`;
  const res = await apiCall(base, '/api/v1/tokens', { method: 'POST', token: admin, body: { role: 'customer', account: ghost } });
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.equal(res.body.error, 'not_found');
  assert.deepEqual(res.body.details, [{ field: 'body.account', message: 'no such account' }]);
  await assert.rejects(createToken(stack, 'customer', ghost), /does not exist/);
  const tokens = (await apiCall(base, '/api/v1/tokens', { token: admin })).body.tokens as { account: string | null }[];
  assert.ok(!tokens.some((t) => t.account === ghost), 'no token row was made for the ghost account');
});
