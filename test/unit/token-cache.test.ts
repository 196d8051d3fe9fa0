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

test("forgetAccount: that account's tokens are dropped and looked up every time during the fence; others stay remembered", async () => {
  const carol: Principal = { tokenId: 7, role: 'customer', account: 'carol' };
  const table = new Map<string, Principal>([
    ['np_c', carol],
    ['np_a', admin],
  ]);
  const { verify, calls } = counting(table);
  const cached = cachedTokenVerifier(verify, 10_000, 1000, 80);
  assert.ok(await cached('np_c'));
  assert.ok(await cached('np_a'));
  calls.length = 0;
  cached.forgetAccount('carol');
  assert.ok(await cached('np_c'), 'still valid in the inventory: looked up again');
  assert.ok(await cached('np_c'));
  assert.deepEqual(calls, ['np_c', 'np_c'], 'not remembered while fenced');
  table.delete('np_c'); // the workflow revoked it
  assert.equal(await cached('np_c'), null, 'the revocation holds at once, without waiting for the TTL');
  await cached('np_a');
  assert.deepEqual(calls, ['np_c', 'np_c', 'np_c'], 'the admin token stayed remembered');
  await sleep(100);
  table.set('np_c', carol);
  await cached('np_c');
  await cached('np_c');
  assert.equal(calls.length, 4, "after the fence the account's tokens are remembered again");
});
