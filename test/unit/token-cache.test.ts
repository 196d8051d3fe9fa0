import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Principal } from '../../api/auth';
import { cachedTokenVerifier } from '../../api/token-cache';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin: Principal = { tokenId: 1, role: 'admin', account: null };

function counting(table: Map<string, Principal>) {
  const calls: string[] = [];
  const verify = async (plain: string) => {
    calls.push(plain);
    return table.get(plain) ?? null;
  };
  return { verify, calls };
}

test('a known token is looked up once within the TTL, and again after it', async () => {
  const { verify, calls } = counting(new Map([['np_a', admin]]));
  const cached = cachedTokenVerifier(verify, 50);
  assert.deepEqual(await cached('np_a'), admin);
  assert.deepEqual(await cached('np_a'), admin);
  assert.equal(calls.length, 1);
  await sleep(70);
  assert.deepEqual(await cached('np_a'), admin);
  assert.equal(calls.length, 2);
});

test('an unknown token is never remembered: every attempt is looked up', async () => {
  const { verify, calls } = counting(new Map());
  const cached = cachedTokenVerifier(verify, 10_000);
  assert.equal(await cached('np_nope'), null);
  assert.equal(await cached('np_nope'), null);
  assert.equal(calls.length, 2);
});

test('a token revoked after it was remembered is refused once the TTL has passed, or at once after forgetAll', async () => {
  const table = new Map([['np_a', admin]]);
  const { verify } = counting(table);
  const cached = cachedTokenVerifier(verify, 50);
  assert.ok(await cached('np_a'));
  table.delete('np_a');
  assert.ok(await cached('np_a'), 'within the TTL the remembered answer stands');
  cached.forgetAll();
  assert.equal(await cached('np_a'), null, 'forgetAll makes a revocation immediate');
  table.set('np_a', admin);
  assert.ok(await cached('np_a'));
  table.delete('np_a');
  await sleep(70);
  assert.equal(await cached('np_a'), null, 'after the TTL the revocation holds');
});

test('the cache holds at most maxEntries tokens, dropping the oldest', async () => {
  const table = new Map(Array.from({ length: 5 }, (_, i) => [`np_${i}`, { ...admin, tokenId: i }] as const));
  const { verify, calls } = counting(table);
  const cached = cachedTokenVerifier(verify, 10_000, 3);
  for (let i = 0; i < 5; i++) await cached(`np_${i}`);
  calls.length = 0;
  await cached('np_4');
  await cached('np_0');
  assert.deepEqual(calls, ['np_0'], 'the newest is remembered, the oldest was dropped');
});

test('simultaneous requests with the same token share one lookup', async () => {
  const { verify, calls } = counting(new Map([['np_a', admin]]));
  const cached = cachedTokenVerifier(verify, 1000);
  const all = await Promise.all(Array.from({ length: 10 }, () => cached('np_a')));
  assert.ok(all.every((p) => p?.tokenId === 1));
  assert.equal(calls.length, 1);
});
