import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, inventoryPool, pdnsZones } from '../support/accounts';
import { adminToken } from '../support/http';
import { buildCorpus, type HostileCase, type OpenApi } from '../support/hostile-corpus';
import { loadStack } from '../support/stack';

/**
 * Hostile input over every route of the OpenAPI document (test/support/hostile-corpus.ts makes the corpus):
 * every request is answered 4xx with a JSON error, never 5xx, and afterwards nothing changed — the inventory
 * tables, PowerDNS zones, every node's vhosts, mail users and domains, FTP passwd files and customer
 * databases, the workflows Temporal knows, and the stack still answers ready. Serial: "nothing changed" needs
 * a stack no other test is changing at the same time.
 */
const stack = loadStack();
const { api } = apiClient(stack);
const token = adminToken(stack);
const base = new URL(stack.file.api);

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * The corpus's forged credentials trip the API's failed-authentication limit (per client address). Sent as
 * from an address of their own (the API trusts X-Forwarded-For from loopback), they lock out only that
 * address, not loopback, which the tests after this one use.
 */
const CORPUS_ADDRESS = '198.18.254.1';

function send(c: HostileCase): Promise<Answer> {
  if (c.raw) return sendRaw(c.raw);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...c.headers };
    if (headers['x-no-token']) delete headers['x-no-token'];
    else headers.authorization = `Bearer ${token}`;
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'x-forwarded-for')) headers['x-forwarded-for'] = CORPUS_ADDRESS;
    const req = http.request(
      { host: base.hostname, port: base.port, method: c.method, path: c.path, headers, timeout: 15_000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (c.body !== undefined) req.end(c.body);
    else req.end();
  });
}

/** The first response on a raw connection (status line, content-type, body up to the socket's end). */
function sendRaw(request: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: base.hostname, port: Number(base.port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.end());
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? '';
      let body = rest.join('\r\n\r\n');
      if (/\r\ntransfer-encoding: chunked/i.test(head)) body = body.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n[\s\S]*$/, '');
      // Only the first response counts: a smuggled second request must not have been answered on its own.
      resolve({ status, contentType, body: body.split(/\r\nHTTP\/1\.1 /)[0]! });
    });
    socket.write(request, 'latin1');
  });
}

const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 16);

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isFile()) out[path.relative(dir, p)] = sha(fs.readFileSync(p));
  }
  return out;
}

/** Everything hostile input could have changed, as comparable values. */
async function snapshot(): Promise<Record<string, unknown>> {
  const pool = inventoryPool(stack);
  const tables: Record<string, string> = {};
  try {
    const [rows] = await pool.query('SHOW TABLES');
    for (const r of rows as Record<string, string>[]) {
      const table = Object.values(r)[0]!;
      // last_used_at of the admin token moves with every request we make: it is use, not change.
      const [data] = await pool.query(`SELECT * FROM \`${table}\``);
      tables[table] = sha(JSON.stringify(data, (k, v) => (k === 'lastUsedAt' || k === 'last_used_at' ? undefined : v)));
    }
  } finally {
    await pool.end();
  }
  const nodes: Record<string, unknown> = {};
  for (const id of fs.readdirSync(path.join(stack.home, 'nodes'))) {
    const dir = path.join(stack.home, 'nodes', id);
    // Sites, mail, FTP, certificates: every file under the node's folder except logs, runtime and maildirs.
    nodes[id] = Object.fromEntries(
      Object.entries(files(dir)).filter(
        ([f]) =>
          !/(^|\/)(logs?|run|tmp|temp|vmail|client_body_temp|proxy_temp|fastcgi_temp|uwsgi_temp|scgi_temp)\//.test(f) &&
          !/\.(log|pid)$/.test(f),
      ),
    );
  }
  const workflows = await api('GET', '/api/v1/workflows?limit=500');
  return {
    tables,
    zones: (await pdnsZones(stack)).sort(),
    nodes,
    workflows: (workflows.body.workflows as { workflowId: string }[]).map((w) => w.workflowId).sort(),
  };
}

test('every hostile request is a 4xx with a JSON error, and nothing changes', { timeout: 600_000 }, async (t) => {
  const doc = (await api('GET', '/docs/openapi.json')).body as OpenApi;
  assert.ok(doc?.paths && Object.keys(doc.paths).length >= 15, 'the OpenAPI document lists the routes');
  const s = stack.file.migrationSource;
  const corpus = buildCorpus(doc, { host: s.host, port: s.port, user: s.user, fingerprint: s.hostKeyFingerprint, docroot: s.docroot });
  const routes = new Set(corpus.map((c) => c.name.split(' ').slice(0, 2).join(' ')));
  t.diagnostic(
    `${corpus.length} hostile requests over ${Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0)} documented operations`,
  );
  assert.ok(corpus.length >= 300, `corpus of ${corpus.length}`);
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const m of Object.keys(ops))
      if (m !== 'options')
        assert.ok(routes.has(`${m.toUpperCase()} ${p}`) || !/\{|post|put|delete/i.test(`${m}${p}`), `no case for ${m} ${p}`);
  }

  const before = await snapshot();
  const ready = await api('GET', '/health/ready');
  const bad: string[] = [];
  const statuses: Record<number, number> = {};
  for (const c of corpus) {
    let a: Answer;
    try {
      a = await send(c);
    } catch (err) {
      bad.push(`${c.name}: no answer (${(err as Error).message})`);
      continue;
    }
    statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    let parsed: { error?: unknown; message?: unknown } | null = null;
    try {
      parsed = JSON.parse(a.body);
    } catch {
      /* not JSON */
    }
    if (a.status < 400 || a.status >= 500) bad.push(`${c.name}: ${a.status} ${a.body.slice(0, 200)}`);
    else if (!/application\/json/.test(a.contentType) || typeof parsed?.error !== 'string' || typeof parsed?.message !== 'string') {
      bad.push(`${c.name}: ${a.status} without a JSON error (${a.contentType}): ${a.body.slice(0, 120)}`);
    }
  }
  t.diagnostic(`statuses ${JSON.stringify(statuses)}`);
  assert.deepEqual(bad, [], `${bad.length} of ${corpus.length} requests answered wrongly`);

  assert.deepEqual(await snapshot(), before, 'hostile input changed state');
  const after = await api('GET', '/health/ready');
  assert.equal(after.status, ready.status, JSON.stringify(after.body));
  assert.equal(after.status, 200, JSON.stringify(after.body));
});
