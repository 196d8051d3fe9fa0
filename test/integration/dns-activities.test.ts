import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createDnsActivities } from '../../activities/dns';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const dns = createDnsActivities({
  apiUrl: stack.file.dns.api,
  apiKey: stack.secrets.pdnsApiKey,
  nameservers: ['ns1.npanel.test.', 'ns2.npanel.test.'],
  hostmaster: 'hostmaster@npanel.test',
  defaultTtl: 3600,
});
const run = crypto.randomBytes(4).toString('hex');
const made: string[] = [];
function domain(label: string): string {
  const d = `${label}-${run}.test`;
  made.push(d);
  return d;
}
after(async () => {
  for (const d of made) await dns.deleteDnsZone({ domain: d });
});

/** Answer lines of `dig +noall +answer`: [name, ttl, class, type, data...]. */
async function answers(name: string, type: string): Promise<{ ttl: number; data: string }[]> {
  const { stdout } = await execFileP('dig', digArgs(name, type, '+noall', '+answer'));
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(/\s+/))
    .filter((f) => f[3] === type)
    .map((f) => ({ ttl: Number(f[1]), data: f.slice(4).join(' ') }))
    .sort((a, b) => a.data.localeCompare(b.data));
}
async function status(name: string): Promise<string> {
  const { stdout } = await execFileP('dig', digArgs(name, 'A'));
  return /status: ([A-Z]+)/.exec(stdout)?.[1] ?? 'none';
}
function digArgs(name: string, type: string, ...extra: string[]): string[] {
  return [`@${stack.file.dns.host}`, '-p', String(stack.file.dns.port), '+time=2', '+tries=1', ...extra, name, type];
}
function isDnsInvalid(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'DnsInvalid' && err.nonRetryable === true;
}

test('ensureDnsZone publishes A, www, mail, MX, NS, SPF and SOA; twice is the same as once', async () => {
  const d = domain('site');
  assert.deepEqual(await dns.ensureDnsZone({ domain: d, ip: '127.0.0.1' }), { created: true });
  for (let pass = 0; pass < 2; pass++) {
    assert.deepEqual(await answers(d, 'A'), [{ ttl: 3600, data: '127.0.0.1' }]);
    assert.deepEqual(await answers(`www.${d}`, 'A'), [{ ttl: 3600, data: '127.0.0.1' }]);
    assert.deepEqual(await answers(`mail.${d}`, 'A'), [{ ttl: 3600, data: '127.0.0.1' }]);
    assert.deepEqual(await answers(d, 'MX'), [{ ttl: 3600, data: `10 mail.${d}.` }]);
    assert.deepEqual(
      (await answers(d, 'NS')).map((a) => a.data),
      ['ns1.npanel.test.', 'ns2.npanel.test.'],
    );
    assert.deepEqual(await answers(d, 'TXT'), [{ ttl: 3600, data: '"v=spf1 a mx -all"' }]);
    const [soa] = await answers(d, 'SOA');
    assert.match(soa?.data ?? '', /^ns1\.npanel\.test\. hostmaster\.npanel\.test\. \d+ /);
    if (pass === 0) assert.deepEqual(await dns.ensureDnsZone({ domain: `${d}.`, ip: '127.0.0.1' }), { created: false });
  }
});

test('ensureDnsZone on an existing zone brings it back to the desired state', async () => {
  const d = domain('drift');
  await dns.ensureDnsZone({ domain: d, ip: '127.0.0.1' });
  await dns.setDnsRecords({ domain: d, records: [{ name: 'www', type: 'A', ttl: 60, contents: ['127.0.0.9', '127.0.0.8'] }] });
  assert.equal((await answers(`www.${d}`, 'A')).length, 2);
  assert.deepEqual(await dns.ensureDnsZone({ domain: d, ip: '127.0.0.2' }), { created: false });
  assert.deepEqual(await answers(`www.${d}`, 'A'), [{ ttl: 3600, data: '127.0.0.2' }]);
  assert.deepEqual(await answers(d, 'A'), [{ ttl: 3600, data: '127.0.0.2' }]);
});

test('getDnsRecords snapshots A rrsets; setDnsRecords changes the TTL dig sees and can roll back', async () => {
  const d = domain('ttl');
  await dns.ensureDnsZone({ domain: d, ip: '127.0.0.1', ttl: 1800 });
  const snapshot = await dns.getDnsRecords({ domain: d });
  assert.deepEqual(
    [...snapshot!].sort((a, b) => a.name.length - b.name.length || a.name.localeCompare(b.name)),
    [
      { name: `${d}.`, type: 'A', ttl: 1800, contents: ['127.0.0.1'] },
      { name: `www.${d}.`, type: 'A', ttl: 1800, contents: ['127.0.0.1'] },
      { name: `mail.${d}.`, type: 'A', ttl: 1800, contents: ['127.0.0.1'] },
    ],
  );
  // TTL lowering before a cut-over, then the cut-over itself.
  await dns.setDnsRecords({ domain: d, records: snapshot!.map((r) => ({ ...r, ttl: 60 })) });
  assert.deepEqual(await answers(`www.${d}`, 'A'), [{ ttl: 60, data: '127.0.0.1' }]);
  await dns.setDnsRecords({ domain: d, records: [{ name: '@', type: 'A', ttl: 60, contents: ['127.0.0.5'] }] });
  assert.deepEqual(await answers(d, 'A'), [{ ttl: 60, data: '127.0.0.5' }]);
  // Rollback from the snapshot restores addresses and TTLs.
  await dns.setDnsRecords({ domain: d, records: snapshot! });
  assert.deepEqual(await answers(d, 'A'), [{ ttl: 1800, data: '127.0.0.1' }]);
  assert.deepEqual(await answers(`www.${d}`, 'A'), [{ ttl: 1800, data: '127.0.0.1' }]);
});

test('deleteDnsZone removes the zone from DNS; deleting again is fine', async () => {
  const d = domain('gone');
  await dns.ensureDnsZone({ domain: d, ip: '127.0.0.1' });
  assert.equal(await status(d), 'NOERROR');
  assert.deepEqual(await dns.deleteDnsZone({ domain: d }), { deleted: true });
  assert.match(await status(d), /^(NXDOMAIN|REFUSED)$/);
  assert.deepEqual(await dns.deleteDnsZone({ domain: d }), { deleted: false });
  assert.equal(await dns.getDnsRecords({ domain: d }), null);
});

test('bad input fails for good (DnsInvalid), not for a retry', async () => {
  await assert.rejects(dns.ensureDnsZone({ domain: 'bad..name', ip: '127.0.0.1' }), isDnsInvalid);
  await assert.rejects(dns.ensureDnsZone({ domain: 'x.test; rm -rf /', ip: '127.0.0.1' }), isDnsInvalid);
  await assert.rejects(dns.ensureDnsZone({ domain: domain('badip'), ip: '999.1.1.1' }), isDnsInvalid);
  await assert.rejects(
    dns.setDnsRecords({ domain: domain('absent'), records: [{ name: '@', type: 'A', ttl: 60, contents: ['127.0.0.1'] }] }),
    isDnsInvalid,
  );
  const d = domain('outside');
  await dns.ensureDnsZone({ domain: d, ip: '127.0.0.1' });
  await assert.rejects(
    dns.setDnsRecords({ domain: d, records: [{ name: 'www.other.test.', type: 'A', ttl: 60, contents: ['127.0.0.1'] }] }),
    isDnsInvalid,
  );
  // PowerDNS itself refuses a malformed MX: that 422 must come back as DnsInvalid too.
  await assert.rejects(
    dns.setDnsRecords({ domain: d, records: [{ name: '@', type: 'MX', ttl: 60, contents: ['not an mx'] }] }),
    isDnsInvalid,
  );
});

test('an unreachable API is a retryable error', async () => {
  const down = createDnsActivities({
    apiUrl: 'http://127.0.0.1:1',
    apiKey: 'k',
    nameservers: ['ns1.npanel.test.'],
    hostmaster: 'h.test.',
    defaultTtl: 60,
  });
  await assert.rejects(
    down.getDnsRecords({ domain: 'example.test' }),
    (err) => !(err instanceof ApplicationFailure) && /unreachable/.test(String(err)),
  );
});
