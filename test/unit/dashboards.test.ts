import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import type { Client } from '@temporalio/client';
import { repoRoot } from '../../config/load';
import { createApiMetrics } from '../../lib/metrics-api';
import { createWorkerTelemetry } from '../../worker/metrics';
import { deployExpressions, exposedNames, metricNamesIn, SYNTHETIC_NAMES } from '../support/metric-names';

/**
 * Every metric an alert rule or a dashboard reads must be one NPanel exports: built here from the same
 * registry code the API and the worker run (with stand-in sources so every scrape-time gauge reports). The
 * Temporal SDK's temporal_* metrics come from its native exporter and are checked against a live worker in
 * test/integration/metrics.test.ts.
 */
async function npanelExposition(): Promise<Set<string>> {
  const fakeTemporal = {
    workflow: { count: async () => ({ count: 1, groups: [] }) },
    workflowService: { describeTaskQueue: async () => ({ pollers: [{}] }) },
  } as unknown as Client;
  const api = createApiMetrics({
    temporal: fakeTemporal,
    taskQueues: async () => [{ queue: 'npanel', kind: 'workflow' }],
    inventory: {
      certificates: async () => [{ domain: 'a.example', notAfter: new Date(Date.now() + 86_400_000), lastOutcome: 'issued' }],
      migrations: async () => ({ bytes: 10, byStatus: { completed: 1 } }),
      dbConnections: async () => ({ connected: 3, max: 60 }),
    },
    diskPaths: ['/'],
  });
  const worker = createWorkerTelemetry({ node: 'a', nginxConf: '/nonexistent/nginx.conf' });
  return new Set([...exposedNames(await api.registry.metrics()), ...exposedNames(await worker.registry.metrics())]);
}

test('every metric used by an alert rule or a dashboard is exported by the API or a worker', async () => {
  const exported = await npanelExposition();
  const expressions = deployExpressions();
  assert.ok(expressions.length >= 40, `expected the rules and five dashboards, found ${expressions.length} expressions`);
  const missing: string[] = [];
  let checked = 0;
  for (const { where, expr } of expressions) {
    const names = metricNamesIn(expr);
    assert.ok(names.length > 0, `${where}: no metric found in ${expr}`);
    for (const name of names) {
      if (name.startsWith('temporal_')) continue; // live worker check (integration)
      checked++;
      if (!exported.has(name) && !SYNTHETIC_NAMES.has(name)) missing.push(`${where}: ${name}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(checked > 40);
});

test('the name extractor sees through PromQL syntax', () => {
  assert.deepEqual(
    metricNamesIn(
      'histogram_quantile(0.95, sum by (le, route) (rate(npanel_http_request_duration_seconds_bucket{route=~"/a.*"}[$__rate_interval])))',
    ),
    ['npanel_http_request_duration_seconds_bucket'],
  );
  assert.deepEqual(metricNamesIn('npanel_db_connections / npanel_db_max_connections > 0.9').sort(), [
    'npanel_db_connections',
    'npanel_db_max_connections',
  ]);
  assert.deepEqual(metricNamesIn('(npanel_certificate_expiry_timestamp_seconds - time()) < 7 * 86400'), [
    'npanel_certificate_expiry_timestamp_seconds',
  ]);
  // A misspelt metric is caught, not filtered away.
  assert.deepEqual(metricNamesIn('sum(rate(npanel_http_request_total[5m]))'), ['npanel_http_request_total']);
});

test('the five dashboards are importable Grafana JSON on the provisioned data source', () => {
  const dir = path.join(repoRoot(), 'deploy', 'grafana');
  const provisioning = YAML.parse(fs.readFileSync(path.join(dir, 'provisioning', 'datasources', 'npanel.yaml'), 'utf8')) as {
    datasources: { uid: string; type: string }[];
  };
  const promUid = provisioning.datasources.find((d) => d.type === 'prometheus')!.uid;
  const files = fs
    .readdirSync(path.join(dir, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(files, [
    'npanel-api-red.json',
    'npanel-certificates.json',
    'npanel-migrations.json',
    'npanel-system-health.json',
    'npanel-workflows.json',
  ]);
  const uids = new Set<string>();
  for (const file of files) {
    const d = JSON.parse(fs.readFileSync(path.join(dir, 'dashboards', file), 'utf8'));
    assert.match(d.uid, /^[a-z0-9-]{1,40}$/, `${file}: uid`);
    assert.ok(!uids.has(d.uid), `${file}: duplicate uid`);
    uids.add(d.uid);
    assert.equal(typeof d.title, 'string');
    assert.equal(typeof d.schemaVersion, 'number');
    assert.ok(Array.isArray(d.panels) && d.panels.length >= 4, `${file}: panels`);
    const ids = new Set<number>();
    for (const p of d.panels) {
      assert.ok(Number.isInteger(p.id) && !ids.has(p.id), `${file}: panel ids unique`);
      ids.add(p.id);
      assert.ok(
        p.type && p.title && p.gridPos && Number.isInteger(p.gridPos.w) && Number.isInteger(p.gridPos.h),
        `${file}: ${p.title} layout`,
      );
      assert.equal(p.datasource.uid, promUid, `${file}: ${p.title} data source`);
      for (const t of p.targets) assert.ok(t.refId && t.expr, `${file}: ${p.title} target`);
    }
  }
});
