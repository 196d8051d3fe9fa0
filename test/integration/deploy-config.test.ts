import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import YAML from 'yaml';
import { loadConfig, repoRoot } from '../../config/load';
import { temporalYamlSchema } from '../../config/schema';

const execFileP = promisify(execFile);
const root = repoRoot();
const deploy = path.join(root, 'deploy');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-deploy-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const yaml = (rel: string) => YAML.parse(fs.readFileSync(path.join(deploy, rel), 'utf8'));

/** Reads an env file the way systemd's EnvironmentFile does for these simple KEY=value lines. */
function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

test('the installer lays out a production server (into a prefix) whose config NPanel accepts', async () => {
  const prefix = path.join(tmp, 'root');
  await execFileP(
    'bash',
    [
      path.join(deploy, 'install.sh'),
      '--prefix',
      prefix,
      '--no-code',
      '--node',
      'n1',
      '--node-ip',
      '10.0.0.5',
      '--panel-host',
      'panel.example.net',
    ],
    { timeout: 60_000 },
  );
  for (const f of [
    'etc/npanel/npanel.env',
    'etc/npanel/node-n1.env',
    'etc/npanel/temporal.yaml',
    'etc/npanel/admin-token',
    'etc/systemd/system/npanel-api.service',
    'etc/systemd/system/npanel-worker@.service',
    'etc/systemd/system/temporal-server.service',
    'etc/systemd/system/temporal-ui.service',
    'etc/temporal/config/production.yaml',
    'etc/temporal/config/ui-production.yaml',
    'etc/prometheus/prometheus.yml',
    'etc/prometheus/rules/npanel.rules.yml',
    'etc/prometheus/npanel-workers/n1.yml',
    'etc/loki/config.yml',
    'etc/promtail/config.yml',
    'etc/logrotate.d/npanel',
    'var/lib/grafana/dashboards/npanel/npanel-api-red.json',
  ]) {
    assert.ok(fs.existsSync(path.join(prefix, f)), `installed ${f}`);
  }
  assert.equal(fs.statSync(path.join(prefix, 'etc/npanel/npanel.env')).mode & 0o777, 0o640, 'the env file is not world-readable');

  const env = {
    ...envFile(path.join(prefix, 'etc/npanel/npanel.env')),
    ...envFile(path.join(prefix, 'etc/npanel/node-n1.env')),
    NPANEL_TEMPORAL_YAML: path.join(prefix, 'etc/npanel/temporal.yaml'),
  };
  const config = loadConfig(env);
  assert.equal(config.node.id, 'n1');
  assert.equal(config.temporal.namespace, 'npanel');
  assert.deepEqual(config.workerRoles, ['control', 'node']);
  assert.equal(config.metrics.sdkPort, 9465);
  assert.equal(config.api.host, '127.0.0.1', 'the API listens on loopback behind nginx');

  // Idempotent: a second run keeps the generated secrets.
  const before = fs.readFileSync(path.join(prefix, 'etc/npanel/npanel.env'), 'utf8');
  await execFileP(
    'bash',
    [
      path.join(deploy, 'install.sh'),
      '--prefix',
      prefix,
      '--no-code',
      '--node',
      'n1',
      '--node-ip',
      '10.0.0.5',
      '--panel-host',
      'panel.example.net',
    ],
    { timeout: 60_000 },
  );
  assert.equal(fs.readFileSync(path.join(prefix, 'etc/npanel/npanel.env'), 'utf8'), before);
  const worker = YAML.parse(fs.readFileSync(path.join(prefix, 'etc/prometheus/npanel-workers/n1.yml'), 'utf8'));
  assert.deepEqual(worker[0].targets, ['10.0.0.5:9464']);

  // Refuses names that would become file names or task queues unchecked.
  await assert.rejects(
    execFileP('bash', [path.join(deploy, 'install.sh'), '--prefix', prefix, '--no-code', '--node', '../x']),
    /--node must be/,
  );
});

test('systemd units pass systemd-analyze verify without a warning', async (t) => {
  let analyze = '';
  try {
    analyze = (await execFileP('sh', ['-c', 'command -v systemd-analyze'])).stdout.trim();
  } catch {
    t.diagnostic('systemd-analyze is not installed here');
  }
  assert.ok(analyze, 'systemd-analyze is needed for this check (package systemd)');
  const dir = path.join(tmp, 'units');
  fs.mkdirSync(dir);
  // Temporal's binaries are not installed on test machines: verify checks ExecStart is executable, so point
  // those at a stand-in. Everything else (keys, values, sections) is checked as shipped.
  const stub = path.join(dir, 'stub');
  fs.writeFileSync(stub, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  for (const unit of fs.readdirSync(path.join(deploy, 'systemd'))) {
    const text = fs
      .readFileSync(path.join(deploy, 'systemd', unit), 'utf8')
      .replace(/\/usr\/local\/bin\/temporal-(server|ui-server)/g, stub);
    fs.writeFileSync(path.join(dir, unit), text);
  }
  const units = ['npanel-api.service', 'npanel-worker@a.service', 'temporal-server.service', 'temporal-ui.service'];
  for (const unit of units) {
    const { stdout, stderr } = await execFileP(analyze, ['verify', '--man=no', path.join(dir, unit)]).catch(
      (e) => e as { stdout: string; stderr: string },
    );
    const problems = `${stdout}${stderr}`
      .split('\n')
      .filter((l) => l.trim() && !/Failed to load configuration for (temporal|mysql|mariadb|nginx)/.test(l));
    assert.deepEqual(problems, [], `${unit}`);
  }
  // The check can fail: an unknown key is reported.
  fs.writeFileSync(path.join(dir, 'broken.service'), '[Service]\nExecStart=/bin/true\nRestartt=always\n');
  const broken = await execFileP(analyze, ['verify', '--man=no', path.join(dir, 'broken.service')]).catch((e) => e as { stderr: string });
  assert.match(broken.stderr, /Unknown key/);
});

test('Temporal cluster, production temporal.yaml, Grafana, Loki and Promtail configs parse and say what they must', () => {
  const temporal = fs.readFileSync(path.join(deploy, 'temporal/config/production.yaml'), 'utf8');
  assert.match(temporal.split('\n')[0]!, /^# enable-template$/, 'env templating is enabled for the DB password');
  const server = YAML.parse(temporal);
  // PostgreSQL: Temporal does not support MariaDB (issue 13), and Debian ships no MySQL 8.
  for (const store of ['postgres-default', 'postgres-visibility'])
    assert.equal(server.persistence.datastores[store].sql.pluginName, 'postgres12');
  assert.equal(server.persistence.defaultStore, 'postgres-default');
  assert.equal(server.persistence.visibilityStore, 'postgres-visibility');
  assert.equal(server.global.tls.frontend.server.requireClientAuth, true, 'the frontend requires client certificates');
  assert.equal(server.services.frontend.rpc.grpcPort, 7233);
  assert.equal(
    server.global.metrics.prometheus.listenAddress,
    '127.0.0.1:{{ env "TEMPORAL_METRICS_PORT" }}',
    'the port comes from temporal.env',
  );
  const ui = yaml('temporal/config/ui-production.yaml');
  assert.match(ui.codec.endpoint, /\/codec$/, 'Temporal Web decodes payloads through the API codec endpoint');
  assert.equal(ui.temporalGrpcAddress, '127.0.0.1:7233');

  const prod = temporalYamlSchema.parse(yaml('temporal.production.yaml'));
  assert.equal(prod.schedules.auditRetention.keepDays, 365);

  const loki = yaml('loki/loki.yaml');
  assert.equal(loki.limits_config.retention_period, '30d');
  assert.deepEqual(loki.limits_config.retention_stream, [{ selector: '{stream="audit"}', priority: 1, period: '365d' }]);
  assert.equal(loki.compactor.retention_enabled, true);
  const rotate = fs.readFileSync(path.join(deploy, 'logrotate/npanel'), 'utf8');
  assert.match(rotate, /^\s+rotate 90$/m, 'archive: 90 days of compressed files');

  const promtail = yaml('loki/promtail.yaml');
  const stages = promtail.scrape_configs[0].pipeline_stages as Record<string, any>[];
  const labels = stages.find((s) => s.labels)!.labels;
  assert.deepEqual(Object.keys(labels).sort(), ['level', 'node', 'service']);
  assert.deepEqual(
    Object.keys(stages.find((s) => s.structured_metadata)!.structured_metadata),
    ['correlationId'],
    'correlationId is a field, not a label',
  );

  const ds = yaml('grafana/provisioning/datasources/npanel.yaml');
  assert.deepEqual(ds.datasources.map((d: { type: string }) => d.type).sort(), ['loki', 'prometheus']);
  const dashboards = yaml('grafana/provisioning/dashboards/npanel.yaml');
  assert.equal(dashboards.providers[0].type, 'file');
  for (const f of fs.readdirSync(path.join(deploy, 'grafana/dashboards')))
    JSON.parse(fs.readFileSync(path.join(deploy, 'grafana/dashboards', f), 'utf8'));

  const docs = fs.readFileSync(path.join(deploy, 'loki/README.md'), 'utf8');
  assert.match(docs, /\{job="npanel"\} \| correlationId="[^"]+"/, 'the docs show the LogQL for one workflow');
});
