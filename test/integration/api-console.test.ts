import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { repoRoot } from '../../config/load';
import { apiClient } from '../support/accounts';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack, stackClient } from '../support/stack';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * The console's API: OpenAPI docs, the SSE stream of a workflow, retry, token management (CLI and API),
 * security headers and the failed-authentication limit, against the harness stack.
 */

const execFileP = promisify(execFile);
const stack = loadStack();
const base = stack.file.api;
const admin = adminToken(stack);
let connection: Connection;
let client: Client;
const started: string[] = [];
const rand = () => crypto.randomBytes(3).toString('hex');

before(async () => {
  connection = await Connection.connect({ address: stack.file.temporal.address });
  client = stackClient(connection, stack);
});
after(async () => {
  for (const id of started)
    await client.workflow
      .getHandle(id)
      .terminate('test cleanup')
      .catch(() => undefined);
  await connection?.close();
});

interface SseEvent {
  event: string;
  data: any;
  at: number;
}

/** Reads the SSE stream to its end, stamping each event with its arrival time. */
async function readEvents(id: string, token = admin): Promise<SseEvent[]> {
  const res = await fetch(`${base}/api/v1/workflows/${id}/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: SseEvent[] = [];
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
    }
  }
  return events;
}

test('GET /api/v1/workflows/:id/events streams steps and done within 1 s of the change', async () => {
  const user = `ev${rand()}`;
  const res = await apiCall(base, '/api/v1/accounts', { method: 'POST', token: admin, body: { username: user, domain: `${user}.test` } });
  assert.equal(res.status, 202);
  const events = await readEvents(res.body.workflowId);
  assert.equal(events[0]!.event, 'snapshot');
  const steps = events.filter((e) => e.event === 'step');
  // A step already finished when the stream opened is in the snapshot; every later change is a `step` event.
  const inSnapshot = (events[0]!.data.progress?.steps ?? []) as { name: string; status: string }[];
  for (const name of ['reserve', 'docroot', 'vhost', 'dns', 'record', 'activate']) {
    const seen =
      inSnapshot.some((s) => s.name === name && s.status === 'done') || steps.some((e) => e.data.name === name && e.data.status === 'done');
    assert.ok(seen, `step ${name} finished`);
  }
  assert.ok(
    steps.some((e) => e.data.name === 'activate' && e.data.status === 'done'),
    'the last step came as a live event',
  );
  // Every "finished" reached us within 1 s of the moment the workflow recorded it (same machine clock).
  for (const e of steps.filter((s) => s.data.finishedAt)) {
    const lag = e.at - Date.parse(e.data.finishedAt);
    assert.ok(lag < 1000, `step ${e.data.name} arrived ${lag} ms after it finished`);
  }
  const done = events.at(-1)!;
  assert.equal(done.event, 'done');
  assert.equal(done.data.status, 'completed');
  assert.ok(done.at - Date.parse(done.data.closedAt) < 1000, `done arrived ${done.at - Date.parse(done.data.closedAt)} ms after close`);
});

test('the events stream of an unknown workflow is a JSON 404', async () => {
  const missing = await apiCall(base, '/api/v1/workflows/provision-nosuch-0000/events', { token: admin });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error, 'not_found');
});

test('POST /api/v1/workflows/:id/retry starts the same input under a new ID linked to the old one', async () => {
  const oldId = `timer-${rand()}`;
  await client.workflow.start('waitForTimer', {
    taskQueue: CONTROL_TASK_QUEUE,
    workflowId: oldId,
    args: [{ ms: 60_000, label: 'retry me' }],
  });
  started.push(oldId);
  const early = await apiCall(base, `/api/v1/workflows/${oldId}/retry`, { method: 'POST', token: admin, body: {} });
  assert.equal(early.status, 409, 'a running workflow is not retried');
  await client.workflow.getHandle(oldId).terminate('test: make it retryable');
  const res = await apiCall(base, `/api/v1/workflows/${oldId}/retry`, { method: 'POST', token: admin, body: {} });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const newId = res.body.workflowId as string;
  started.push(newId);
  assert.equal(res.body.retryOf, oldId);
  assert.equal(res.headers.get('x-correlation-id'), newId);
  assert.match(newId, /^timer-[0-9a-z]+$/);
  assert.notEqual(newId, oldId);
  const handle = client.workflow.getHandle(newId);
  const desc = await handle.describe();
  assert.equal(desc.memo?.retryOf, oldId);
  const history = await handle.fetchHistory();
  const startedEvent = history.events![0]!.workflowExecutionStartedEventAttributes!;
  const { decodeArrayFromPayloads } = await import('@temporalio/common/lib/internal-non-workflow');
  assert.deepEqual(await decodeArrayFromPayloads(client.workflow.options.loadedDataConverter, startedEvent.input!.payloads), [
    { ms: 60_000, label: 'retry me' },
  ]);
  assert.equal((await apiCall(base, '/api/v1/workflows/timer-nosuch/retry', { method: 'POST', token: admin, body: {} })).status, 404);
});

test('a cancelled provisioning retried from the API provisions the same account', async () => {
  const user = `rt${rand()}`;
  const body = { username: user, domain: `${user}.test`, mailboxes: [{ local: 'info', password: 'Gr8-Secret-99' }] };
  const first = await apiCall(base, '/api/v1/accounts', { method: 'POST', token: admin, body });
  assert.equal(first.status, 202);
  await apiCall(base, `/api/v1/workflows/${first.body.workflowId}/cancel`, { method: 'POST', token: admin, body: {} });
  await until('the cancelled provisioning to finish rolling back', async () => {
    const wf = await apiCall(base, `/api/v1/workflows/${first.body.workflowId}`, { token: admin });
    return wf.body.closedAt ? wf.body.status : undefined;
  });
  const retry = await apiCall(base, `/api/v1/workflows/${first.body.workflowId}/retry`, { method: 'POST', token: admin, body: {} });
  assert.equal(retry.status, 202, JSON.stringify(retry.body));
  assert.match(retry.body.workflowId, new RegExp(`^provision-${user}-`));
  await until('the retry to complete', async () => {
    const wf = await apiCall(base, `/api/v1/workflows/${retry.body.workflowId}`, { token: admin });
    if (wf.body.status === 'failed') throw new Error(wf.body.error?.message);
    return wf.body.status === 'completed' ? true : undefined;
  });
  const account = await apiCall(base, `/api/v1/accounts/${user}`, { token: admin });
  assert.equal(account.body.status, 'active');
  assert.deepEqual(account.body.mailboxes, [`info@${user}.test`], 'the retry had the original input, secrets included');
  assert.equal(account.body.workflowId, retry.body.workflowId);
});

test('OpenAPI at /docs/openapi.json is generated from the zod schemas; /docs is a page', async () => {
  const doc = await apiCall(base, '/docs/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, '3.0.3');
  const provision = doc.body.paths['/api/v1/accounts'].post;
  assert.equal(provision['x-access'], 'admin');
  assert.deepEqual(provision.requestBody.content['application/json'].schema.required, ['username', 'domain']);
  // Every rule of the name is published (zod lists several patterns under allOf).
  const username = provision.requestBody.content['application/json'].schema.properties.username;
  const patterns = [username.pattern, ...(username.allOf ?? []).map((p: { pattern?: string }) => p.pattern)].filter(Boolean);
  assert.ok(patterns.includes('^[a-z][a-z0-9]{0,15}$'), `username patterns: ${JSON.stringify(username)}`);
  assert.ok(doc.body.paths['/api/v1/workflows/{id}/events'].get);
  assert.ok(
    doc.body.paths['/api/v1/workflows'].get.parameters.some((p: { name: string; in: string }) => p.name === 'status' && p.in === 'query'),
  );
  const page = await fetch(`${base}/docs`);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /\/api\/v1\/workflows\/:id\/retry/);
});

test('bin/npanel token create prints only a token; revoke makes it useless; the API manages tokens too', async () => {
  const user = `tk${rand()}`;
  // A customer token is made only for an account that exists (issue 11, finding 3).
  const { api, waitClosed } = apiClient(stack);
  const made = await api('POST', '/api/v1/accounts', { username: user, domain: `${user}.test` });
  assert.equal(made.status, 202, JSON.stringify(made.body));
  assert.equal((await waitClosed(made.body.workflowId)).status, 'completed');
  const token = await createToken(stack, 'customer', user);
  const me = await apiCall(base, '/api/v1/me', { token });
  assert.deepEqual(me.body, { role: 'customer', account: user });
  const cli = path.join(repoRoot(), 'dist', 'cli', 'main.js');
  const revoked = await execFileP(process.execPath, [cli, 'token', 'revoke', token, '--home', stack.home]);
  assert.equal(revoked.stdout, '');
  // The API remembers a verified token for 1 s (api/token-cache.ts): a revocation on the shell holds within that.
  const revokedAt = Date.now();
  await until(
    'the API to refuse the revoked token',
    async () => ((await apiCall(base, '/api/v1/me', { token })).status === 401 ? true : undefined),
    3000,
    50,
  );
  assert.ok(Date.now() - revokedAt <= 1500, `refused ${Date.now() - revokedAt} ms after the revocation`);
  await assert.rejects(
    execFileP(process.execPath, [cli, 'token', 'create', '--role', 'customer', '--home', stack.home]),
    (err: { code: number; stdout: string; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.equal(err.stdout, '');
      assert.match(err.stderr, /--account: a customer token needs an account/);
      return true;
    },
  );

  const created = await apiCall(base, '/api/v1/tokens', {
    method: 'POST',
    token: admin,
    body: { role: 'customer', account: user, label: 'api test' },
  });
  assert.equal(created.status, 201);
  const listed = await apiCall(base, '/api/v1/tokens', { token: admin });
  const row = listed.body.tokens.find((t: { id: number }) => t.id === created.body.id);
  assert.equal(row.account, user);
  assert.ok(!JSON.stringify(listed.body).includes(created.body.token), 'a list never shows a token');
  // Used just before, so remembered: a revocation through the API still holds at once.
  assert.equal((await apiCall(base, '/api/v1/me', { token: created.body.token })).status, 200);
  assert.equal((await apiCall(base, `/api/v1/tokens/${created.body.id}`, { method: 'DELETE', token: admin })).status, 204);
  assert.equal((await apiCall(base, '/api/v1/me', { token: created.body.token })).status, 401);
});

test('security headers on API answers, errors and the UI', async () => {
  for (const [url, token] of [
    ['/api/v1/workflows', admin],
    ['/api/v1/workflows', undefined],
    ['/', undefined],
    ['/web/app.js', undefined],
    ['/nope', undefined],
  ] as const) {
    const res = await apiCall(base, url, { token });
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/, url);
    assert.match(csp, /frame-ancestors 'none'/, url);
    assert.ok(!/https?:\/\//.test(csp), 'no external origin in the CSP');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', url);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', url);
  }
  assert.equal((await apiCall(base, '/api/v1/workflows', { token: admin })).headers.get('cache-control'), 'no-store');
});

test('20 failed authentications a minute from one address: 429 with Retry-After, even for a valid token', async () => {
  const ip = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
  const from = (extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra });
  // No credential at all is not a guess: it never counts.
  for (let i = 0; i < 25; i++) assert.equal((await apiCall(base, '/api/v1/me', { headers: from() })).status, 401);
  for (let i = 0; i < 20; i++) {
    assert.equal(
      (await apiCall(base, '/api/v1/me', { headers: from({ authorization: `Bearer npa_wrong${i}wrongwrongwrong` }) })).status,
      401,
    );
  }
  const blocked = await apiCall(base, '/api/v1/me', { headers: from({ authorization: `Bearer ${admin}` }) });
  assert.equal(blocked.status, 429);
  assert.equal(blocked.body.error, 'too_many_requests');
  const retryAfter = Number(blocked.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal((await apiCall(base, '/health', { headers: from() })).status, 200, 'public routes stay open');
  assert.equal(
    (
      await apiCall(base, '/api/v1/me', {
        token: admin,
        headers: { 'x-forwarded-for': '198.51.100.251' === ip ? '198.51.100.252' : '198.51.100.251' },
      })
    ).status,
    200,
    'other addresses are not affected',
  );
});
