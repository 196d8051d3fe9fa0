import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { CONTROL_TASK_QUEUE } from '../../common/task-queues';
import { apiClient, inventoryPool, uniqueName } from '../support/accounts';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack, stackClient } from '../support/stack';

/**
 * Issue 11, bounds: inventory lists come in pages read in SQL (limit <= 200, default 50, opaque cursor), and
 * event streams are bounded per token (10, then 429). Against the running stack's API and inventory.
 */

const stack = loadStack();
const { api, waitClosed } = apiClient(stack);
const pool = inventoryPool(stack);
const prefix = `pg${crypto.randomBytes(4).toString('hex')}`;
after(async () => {
  await pool.query('DELETE FROM certificates WHERE domain LIKE ?', [`${prefix}-%`]);
  await pool.end();
});

/** Every page of a list, following `next`; asserts each page's size bound on the way. */
async function walk(path: string, key: string, limit?: number): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q = new URLSearchParams();
    if (limit !== undefined) q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    const res = await api('GET', `${path}?${q}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body[key].length <= (limit ?? 50), `a page holds at most ${limit ?? 50}`);
    assert.ok('next' in res.body, 'the response carries next');
    items.push(...res.body[key]);
    cursor = res.body.next;
    pages++;
  } while (cursor);
  return { items, pages };
}

test('certificates are paged: default 50, stable order, every row exactly once across pages', { timeout: 60_000 }, async () => {
  const domains = Array.from({ length: 130 }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}.test`);
  // Issued far in the future: no sweep of another test takes them for due.
  await pool.query('INSERT INTO certificates (domain, serial, issuer, not_before, not_after) VALUES ?', [
    domains.map((d, i) => [d, `AB${i}`, 'Pebble', new Date(), new Date('2099-01-01T00:00:00Z')]),
  ]);
  const first = await api('GET', '/api/v1/certificates');
  assert.equal(first.status, 200);
  assert.equal(first.body.certificates.length, 50, 'default page size 50');
  assert.equal(typeof first.body.next, 'string');

  const { items, pages } = await walk('/api/v1/certificates', 'certificates', 37);
  const names = items.map((c) => c.domain as string);
  assert.equal(new Set(names).size, names.length, 'no row twice');
  assert.deepEqual(names, [...names].sort(), 'ordered by domain');
  assert.deepEqual(
    names.filter((n) => n.startsWith(prefix)),
    domains,
    'every inserted row, once',
  );
  assert.ok(pages >= 4);

  const max = await api('GET', '/api/v1/certificates?limit=200');
  assert.equal(max.status, 200);
  assert.ok(max.body.certificates.length <= 200);
});

test('accounts are paged the same way (limit 1 walks every account once)', { timeout: 120_000 }, async () => {
  const made: string[] = [];
  for (let i = 0; i < 3; i++) {
    const username = uniqueName('pa');
    const res = await api('POST', '/api/v1/accounts', { username, domain: `${username}.test` });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal((await waitClosed(res.body.workflowId, 90_000)).status, 'completed');
    made.push(username);
  }
  const { items } = await walk('/api/v1/accounts', 'accounts', 1);
  const names = items.map((a) => a.username as string);
  assert.equal(new Set(names).size, names.length, 'no account twice');
  assert.deepEqual(names, [...names].sort(), 'ordered by username');
  for (const u of made) assert.ok(names.includes(u), `${u} listed`);
  // A customer's list is its own account only, paged too.
  const token = await createToken(stack, 'customer', made[0]);
  const own = await apiCall(stack.file.api, '/api/v1/accounts', { token });
  assert.equal(own.status, 200);
  assert.deepEqual(
    own.body.accounts.map((a: { username: string }) => a.username),
    [made[0]],
  );
  assert.equal(own.body.next, null);
});

test('bad limit or cursor → 400 naming the field', async () => {
  const forged = Buffer.from('k2:zzz').toString('base64url');
  for (const [path, field] of [
    ['/api/v1/certificates?limit=201', 'querystring.limit'],
    ['/api/v1/certificates?limit=0', 'querystring.limit'],
    ['/api/v1/certificates?limit=abc', 'querystring.limit'],
    ['/api/v1/certificates?limit=1.5', 'querystring.limit'],
    ['/api/v1/accounts?limit=-1', 'querystring.limit'],
    ['/api/v1/certificates?cursor=not%20a%20cursor', 'querystring.cursor'],
    [`/api/v1/accounts?cursor=${forged}`, 'querystring.cursor'],
    [`/api/v1/accounts?cursor=${Buffer.from('k1:a\nb').toString('base64url')}`, 'querystring.cursor'],
  ] as const) {
    const res = await api('GET', path);
    assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'bad_request');
    assert.ok(
      res.body.details.some((d: { field: string }) => d.field === field),
      `${path} names ${field}: ${JSON.stringify(res.body)}`,
    );
  }
});

/** Opens an event stream and resolves once the snapshot arrived (the stream stays open), or with the refusal. */
function openStream(token: string, workflowId: string): Promise<{ status: number; body: any; close: () => void; text: () => string }> {
  const url = new URL(`${stack.file.api}/api/v1/workflows/${encodeURIComponent(workflowId)}/events`);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (res.statusCode === 200 && text.includes('event: snapshot'))
            resolve({ status: 200, body: null, close: () => req.destroy(), text: () => text });
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: res.statusCode === 200 ? null : JSON.parse(text),
            close: () => undefined,
            text: () => text,
          }),
        );
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('stream timeout')));
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
  });
}

test(
  'event streams: the 11th concurrent stream of one token is a 429 JSON; a closed stream frees its slot; other tokens are not bounded by it',
  { timeout: 60_000 },
  async () => {
    const connection = await Connection.connect({ address: stack.file.temporal.address });
    const workflowId = `timer-sse-${crypto.randomUUID()}`;
    try {
      const client = stackClient(connection, stack);
      await client.workflow.start('waitForTimer', {
        taskQueue: CONTROL_TASK_QUEUE,
        workflowId,
        args: [{ ms: 120_000, label: 'sse bound' }],
      });
      const token = await createToken(stack, 'admin');
      const streams = [];
      for (let i = 0; i < 10; i++) {
        const s = await openStream(token, workflowId);
        assert.equal(s.status, 200, `stream ${i + 1} opens`);
        streams.push(s);
      }
      const refused = await openStream(token, workflowId);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error, 'too_many_streams');
      assert.match(refused.body.message, /10 open event streams/);

      const other = await openStream(adminToken(stack), workflowId);
      assert.equal(other.status, 200, 'another token has its own slots');
      other.close();

      streams.pop()!.close();
      const reopened = await until(
        'a slot freed by the closed stream',
        async () => {
          const s = await openStream(token, workflowId);
          return s.status === 200 ? s : undefined;
        },
        10_000,
        100,
      );
      streams.push(reopened);
      // The streams still follow the workflow (one shared poll): its end reaches every one of them.
      await stackClient(connection, stack).workflow.getHandle(workflowId).terminate('test done');
      for (const s of streams)
        await until('done event on every stream', async () => (s.text().includes('event: done') ? true : undefined), 10_000, 100);
      for (const s of streams) s.close();
    } finally {
      await stackClient(connection, stack)
        .workflow.getHandle(workflowId)
        .terminate('test done')
        .catch(() => undefined);
      await connection.close();
    }
  },
);
