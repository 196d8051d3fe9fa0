import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const api = `${stack.file.dns.api.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1/servers/localhost`;
const headers = { 'X-API-Key': stack.secrets.pdnsApiKey, 'Content-Type': 'application/json' };

async function dig(name: string, type: string): Promise<string[]> {
  const { stdout } = await execFileP('dig', [
    `@${stack.file.dns.host}`,
    '-p',
    String(stack.file.dns.port),
    '+short',
    '+time=2',
    '+tries=1',
    name,
    type,
  ]);
  return stdout.trim().split('\n').filter(Boolean);
}

test('a zone created through the API answers SOA and NS to dig', async () => {
  const zone = `pdns-${crypto.randomBytes(4).toString('hex')}.test.`;
  const res = await fetch(`${api}/zones`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: zone, kind: 'Native', nameservers: ['ns1.npanel.test.', 'ns2.npanel.test.'] }),
  });
  assert.equal(res.status, 201, await res.text());
  try {
    const [soa] = await dig(zone, 'SOA');
    // The stack's default-soa-content, not PowerDNS's placeholder (a.misconfigured.dns.server.invalid).
    assert.match(soa ?? '', /^ns1\.npanel\.test\. hostmaster\.npanel\.test\. \d+ 10800 3600 604800 3600$/);
    assert.deepEqual((await dig(zone, 'NS')).sort(), ['ns1.npanel.test.', 'ns2.npanel.test.']);
  } finally {
    await fetch(`${api}/zones/${zone}`, { method: 'DELETE', headers });
  }
});

test('the API refuses a wrong key', async () => {
  const res = await fetch(`${api}/zones`, { headers: { 'X-API-Key': 'not-the-key' } });
  assert.equal(res.status, 401);
});
