import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createListCache } from '../../api/list-cache';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('identical requests within the TTL share one load', async () => {
  const cache = createListCache<number>(100, 1000);
  let loads = 0;
  const load = async () => ++loads;
  assert.deepEqual(await Promise.all([cache('k', load), cache('k', load), cache('k', load)]), [1, 1, 1]);
  assert.equal(loads, 1);
});

test('after the TTL a stale answer is served at once while one refresh runs; then the fresh one', async () => {
  const cache = createListCache<number>(50, 1000);
  let loads = 0;
  let release: () => void = () => undefined;
  const slow = () => new Promise<number>((resolve) => { const n = ++loads; release = () => resolve(n); if (n === 1) resolve(n); });
  assert.equal(await cache('k', slow), 1);
  await sleep(70);
  assert.equal(await cache('k', slow), 1, 'stale answer, no waiting');
  assert.equal(await cache('k', slow), 1, 'still one refresh in flight');
  assert.equal(loads, 2);
  release();
  await sleep(5);
  assert.equal(await cache('k', slow), 2, 'the refreshed answer replaces the stale one');
});

test('past the stale bound the caller waits for a fresh load; failures are not cached', async () => {
  const cache = createListCache<number>(10, 40);
  let loads = 0;
  assert.equal(await cache('k', async () => ++loads), 1);
  await sleep(60);
  assert.equal(await cache('k', async () => ++loads), 2);
  await assert.rejects(cache('x', async () => { throw new Error('down'); }));
  assert.equal(await cache('x', async () => 7), 7);
});
