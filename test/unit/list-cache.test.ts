import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createListCache } from '../../api/list-cache';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('identical requests within the TTL share one load', async () => {
  const cache = createListCache<number>({ ttlMs: 100, staleMs: 1000 });
  let loads = 0;
  const load = async () => ++loads;
  assert.deepEqual(await Promise.all([cache('k', load), cache('k', load), cache('k', load)]), [1, 1, 1]);
  assert.equal(loads, 1);
});

test('after the TTL a stale answer is served at once while one refresh runs; then the fresh one', async () => {
  const cache = createListCache<number>({ ttlMs: 50, staleMs: 1000 });
  let loads = 0;
  let release: () => void = () => undefined;
  const slow = () =>
    new Promise<number>((resolve) => {
      const n = ++loads;
      release = () => resolve(n);
      if (n === 1) resolve(n);
    });
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
  const cache = createListCache<number>({ ttlMs: 10, staleMs: 40 });
  let loads = 0;
  assert.equal(await cache('k', async () => ++loads), 1);
  await sleep(60);
  assert.equal(await cache('k', async () => ++loads), 2);
  await assert.rejects(
    cache('x', async () => {
      throw new Error('down');
    }),
  );
  assert.equal(await cache('x', async () => 7), 7);
});

test('a key asked for recently is refreshed ahead in the background; one nobody asks for goes cold', async () => {
  const cache = createListCache<number>({ ttlMs: 20, staleMs: 60, keepWarmMs: 100 });
  try {
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await cache('k', load), 1);
    await sleep(70);
    // Past staleMs since the first load: without refresh-ahead this caller would wait for a load of its own.
    const fresh = await cache('k', load);
    assert.ok(fresh >= 2, `refreshed ahead while the key was warm (got answer ${fresh})`);
    const before = loads;
    await sleep(250);
    const cold = loads;
    assert.ok(cold - before <= 6, `refreshes stop once nobody asks (${cold - before} after the last request)`);
    await sleep(100);
    assert.equal(loads, cold, 'no refresh of a cold key');
  } finally {
    cache.close();
  }
});

test('refresh-ahead refreshes an answer only after it has been served: one request costs one refresh', async () => {
  const cache = createListCache<number>({ ttlMs: 10, staleMs: 1000, keepWarmMs: 1000 });
  try {
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await cache('k', load), 1);
    await sleep(300);
    assert.equal(loads, 2, 'the served answer was refreshed once, then left alone (nobody asked again)');
    assert.equal(await cache('k', load), 2);
    await sleep(300);
    assert.equal(loads, 3, 'served again: refreshed once more');
  } finally {
    cache.close();
  }
});
