import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Connection, type Client } from '@temporalio/client';
import { until as pollUntil } from '../support/http';
import { loadStack, stackClient } from '../support/stack';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';

/**
 * The generic workflow routes of the API against the harness stack, with workflows started by a real Temporal
 * client that uses the stack's payload codec (as the API and the worker do).
 */

const execFileP = promisify(execFile);
const stack = loadStack();
const token = fs.readFileSync(path.join(stack.home, 'admin-token'), 'utf8').trim();
const auth = { Authorization: `Bearer ${token}` };
const temporalBin = process.env.NPANEL_TEMPORAL_BIN || 'temporal';

let connection: Connection;
let client: Client;
const started: string[] = [];

before(async () => {
  connection = await Connection.connect({ address: stack.file.temporal.address });
  client = stackClient(connection, stack);
});

after(async () => {
  // Nothing of ours keeps running in the shared stack, even when an assertion failed half-way.
  for (const id of started)
    await client.workflow
      .getHandle(id)
      .terminate('test cleanup')
      .catch(() => undefined);
  await connection?.close();
});

const rand = () => crypto.randomBytes(6).toString('hex');

async function startTimer(ms: number, label: string): Promise<string> {
  const workflowId = `timer-${rand()}`;
  await client.workflow.start('waitForTimer', { taskQueue: CONTROL_TASK_QUEUE, workflowId, args: [{ ms, label }] });
  started.push(workflowId);
  return workflowId;
}

async function api(pathname: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${stack.file.api}${pathname}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** This file's waits: 15 s, polling every 100 ms, through the shared poller. */
const until = <T>(what: string, fn: () => Promise<T | undefined>) => pollUntil(what, fn, 15_000, 100);

test('/health answers 200 without a token', async () => {
  const res = await api('/health');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { status: 'ok' });
});

test('/api/v1/workflows refuses a missing or unknown token with a JSON error', async () => {
  const refused: Record<string, string>[] = [
    {},
    { Authorization: 'Bearer npa_not-a-real-token-0123456789' },
    { Authorization: 'Basic Zm9vOmJhcg==' },
  ];
  for (const headers of refused) {
    const res = await api('/api/v1/workflows', { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(res.body.error, 'unauthorized');
    assert.equal(typeof res.body.message, 'string');
    assert.ok(res.body.message.length > 0);
  }
  // The real token passes the same gate.
  assert.equal((await api('/api/v1/workflows', { headers: auth })).status, 200);
});

test('a running timer is described, listed, cancelled and then reported cancelled', async () => {
  const id = await startTimer(10 * 60_000, `label-${rand()}`);

  const running = await until('the workflow to be visible', async () => {
    const res = await api(`/api/v1/workflows/${id}`, { headers: auth });
    return res.status === 200 ? res : undefined;
  });
  assert.equal(running.headers.get('x-correlation-id'), id);
  assert.equal(running.body.workflowId, id);
  assert.equal(running.body.type, 'waitForTimer');
  assert.equal(running.body.status, 'running');
  assert.equal(running.body.closedAt, null);
  assert.equal(running.body.temporalUi, `${stack.file.temporal.ui}/namespaces/default/workflows/${id}`);
  // The progress query went through the worker (and the codec) and came back decoded.
  assert.equal(typeof running.body.progress?.fireAt, 'string');

  // Visibility lags a little behind the start: poll the filtered list.
  await until('the workflow in the filtered list', async () => {
    const res = await api('/api/v1/workflows?type=waitForTimer&limit=500', { headers: auth });
    assert.equal(res.status, 200);
    assert.ok(res.body.workflows.every((w: { type: string }) => w.type === 'waitForTimer'));
    return res.body.workflows.find((w: { workflowId: string }) => w.workflowId === id);
  });
  // The type filter really filters: another type's list does not hold our timer.
  const other = await api('/api/v1/workflows?type=provisionAccount&limit=500', { headers: auth });
  assert.equal(other.status, 200);
  assert.ok(!other.body.workflows.some((w: { workflowId: string }) => w.workflowId === id));

  const cancel = await api(`/api/v1/workflows/${id}/cancel`, { method: 'POST', headers: auth });
  assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
  assert.deepEqual(cancel.body, { workflowId: id });
  assert.equal(cancel.headers.get('x-correlation-id'), id);

  const cancelled = await until('status cancelled', async () => {
    const res = await api(`/api/v1/workflows/${id}`, { headers: auth });
    return res.body?.status === 'cancelled' ? res : undefined;
  });
  assert.notEqual(cancelled.body.closedAt, null);
  // Cancelling a closed workflow is a conflict, not a second 202.
  const again = await api(`/api/v1/workflows/${id}/cancel`, { method: 'POST', headers: auth });
  assert.equal(again.status, 409);
});

test('a 1-second timer completes and reports its result', async () => {
  const label = `done-${rand()}`;
  const id = await startTimer(1000, label);
  const done = await until('status completed', async () => {
    const res = await api(`/api/v1/workflows/${id}`, { headers: auth });
    return res.body?.status === 'completed' ? res : undefined;
  });
  assert.equal(done.body.result.label, label);
  assert.ok(done.body.result.firedAfterMs >= 1000, `fired after ${done.body.result.firedAfterMs} ms`);
  assert.equal(done.body.error, null);
});

test('a malformed workflow ID is a 400 naming params.id', async () => {
  // `..%2Fetc` reaches the route as the parameter `../etc` (a literal `../` would be resolved by the URL parser).
  const res = await api('/api/v1/workflows/..%2Fetc', { headers: auth });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error, 'bad_request');
  assert.match(res.body.message, /params\.id/);
  assert.equal(res.body.details?.[0]?.field, 'params.id');
});

test('an unknown workflow ID is a 404', async () => {
  const res = await api(`/api/v1/workflows/timer-unknown-${rand()}`, { headers: auth });
  assert.equal(res.status, 404);
  assert.equal(res.body.error, 'not_found');
  const cancel = await api(`/api/v1/workflows/timer-unknown-${rand()}/cancel`, { method: 'POST', headers: auth });
  assert.equal(cancel.status, 404);
});

/** Every string of the history, and the bytes of every base64 string, so an unencoded payload cannot hide. */
function historyTexts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    out.push(value);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) out.push(Buffer.from(value, 'base64').toString('latin1'));
  } else if (Array.isArray(value)) {
    for (const v of value) historyTexts(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) historyTexts(v, out);
  }
  return out;
}

test('the history in Temporal holds the timer label only encrypted (the codec is wired into client and worker)', async () => {
  const secret = `s3cr3t-${rand()}`;
  const id = await startTimer(300, secret);
  // The worker decoded the input (it ran the workflow with the label) and encoded the result: we read it back.
  const result = (await client.workflow.getHandle(id).result()) as { label: string };
  assert.equal(result.label, secret);

  const { stdout } = await execFileP(temporalBin, ['workflow', 'show', '-w', id, '--address', stack.file.temporal.address, '-o', 'json'], {
    timeout: 15_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  assert.match(stdout, /WorkflowExecutionCompleted|EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED/, 'history is complete');
  // The CLI prints payload data as base64: historyTexts decodes it, so a plain JSON payload would be caught
  // (checked by hand with a client without codec: its input `{"ms":…,"label":…}` is found).
  assert.ok(!historyTexts(JSON.parse(stdout)).some((s) => s.includes(secret)), 'the label appears in plain text in the history');
  // The payloads carry the codec's encoding (metadata values are base64 in the CLI's JSON).
  assert.ok(stdout.includes(Buffer.from('binary/encrypted').toString('base64')), 'payloads are not marked binary/encrypted');
});
