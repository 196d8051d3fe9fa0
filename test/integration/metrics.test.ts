import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, uniqueName } from '../support/accounts';
import { deployExpressions, exposedNames, metricNamesIn } from '../support/metric-names';
import { promtool } from '../support/promtool';
import { loadStack } from '../support/stack';

const stack = loadStack();

async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `${url} answered ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

/** Sum of the samples of `name` whose labels include every `labels` pair. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test('RED and workflow metrics move after a provisioning; promtool accepts both expositions', async () => {
  const urls = stack.file.metrics!;
  assert.ok(urls, 'stack.json names the metrics endpoints');
  const { api, waitClosed } = apiClient(stack);
  const beforeApi = await scrape(urls.api);
  const beforeWorker = await scrape(urls.workers.a!);

  const username = uniqueName('met');
  const started = await api('POST', '/api/v1/accounts', { username, domain: `${username}.test` });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const done = await waitClosed(started.body.workflowId);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));

  const afterApi = await scrape(urls.api);
  const afterWorker = await scrape(urls.workers.a!);
  const red = { route: '/api/v1/accounts', method: 'POST', status_code: '202' };
  assert.equal(value(afterApi, 'npanel_http_requests_total', red) - value(beforeApi, 'npanel_http_requests_total', red), 1);
  assert.ok(
    value(afterApi, 'npanel_http_request_duration_seconds_count', red) >
      value(beforeApi, 'npanel_http_request_duration_seconds_count', red),
  );
  // The route pattern, never the raw URL: the describe polls of waitClosed share one series.
  assert.ok(value(afterApi, 'npanel_http_requests_total', { route: '/api/v1/workflows/:id', method: 'GET' }) >= 1);
  assert.ok(!afterApi.includes(`route="/api/v1/workflows/${started.body.workflowId}"`));

  const type = { type: 'provisionAccount' };
  assert.ok(value(afterWorker, 'npanel_workflows_started_total', type) > value(beforeWorker, 'npanel_workflows_started_total', type));
  const completed = { type: 'provisionAccount', outcome: 'completed' };
  assert.ok(
    value(afterWorker, 'npanel_workflows_closed_total', completed) > value(beforeWorker, 'npanel_workflows_closed_total', completed),
  );
  assert.ok(
    value(afterWorker, 'npanel_workflow_duration_seconds_count', completed) >
      value(beforeWorker, 'npanel_workflow_duration_seconds_count', completed),
  );
  const reserve = { type: 'reserveAccount', outcome: 'ok' };
  assert.ok(
    value(afterWorker, 'npanel_activity_duration_seconds_count', reserve) >
      value(beforeWorker, 'npanel_activity_duration_seconds_count', reserve),
  );
  assert.ok(
    value(afterWorker, 'npanel_nginx_reloads_total', { node: 'a' }) > value(beforeWorker, 'npanel_nginx_reloads_total', { node: 'a' }),
  );
  assert.equal(value(afterWorker, 'npanel_worker_sdk_metrics_up'), 1, 'the SDK runtime metrics are merged in');
  assert.ok(value(afterWorker, 'temporal_num_pollers') > 0);

  for (const [name, text] of [
    ['api', afterApi],
    ['worker', afterWorker],
  ] as const) {
    const { code, out } = await promtool(['check', 'metrics'], { input: text });
    assert.equal(code, 0, `promtool check metrics (${name}): ${out}`);
  }
});

test('every Temporal SDK metric used by an alert or a dashboard is in a live worker exposition', async () => {
  const exposed = exposedNames(await scrape(stack.file.metrics!.workers.a!));
  const used = new Set(
    deployExpressions()
      .flatMap((e) => metricNamesIn(e.expr))
      .filter((n) => n.startsWith('temporal_')),
  );
  assert.ok(used.size >= 2);
  assert.deepEqual(
    [...used].filter((n) => !exposed.has(n)),
    [],
  );
});

test('the health checks report into /metrics', async () => {
  await fetch(`${stack.file.api}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  const text = await scrape(stack.file.metrics!.api);
  for (const check of ['database', 'temporal', 'workers', 'disk', 'memory', 'ssh', 'dns']) {
    assert.equal(value(text, 'npanel_health_check_up', { check }), 1, `check ${check}`);
  }
  assert.ok(value(text, 'npanel_task_queue_pollers', { task_queue: 'npanel-node-b', kind: 'activity' }) >= 1);
  assert.ok(value(text, 'npanel_db_max_connections') > 0);
  assert.ok(value(text, 'npanel_host_disk_free_ratio') > 0);
});
