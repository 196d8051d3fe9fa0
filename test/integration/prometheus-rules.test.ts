import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../config/load';
import { promtool } from '../support/promtool';

const dir = path.join(repoRoot(), 'deploy', 'prometheus');

test('promtool check rules accepts the alert rules', async () => {
  const { code, out } = await promtool(['check', 'rules', 'rules/npanel.rules.yml'], { cwd: dir });
  assert.equal(code, 0, out);
  assert.match(out, /SUCCESS: \d+ rules found/);
  const count = Number(/SUCCESS: (\d+) rules/.exec(out)![1]);
  assert.ok(count >= 13, `the seed's eight alerts and ours: ${count}`);
});

test('promtool test rules: every alert fires on its bad case and stays quiet on the good one', async () => {
  const { code, out } = await promtool(['test', 'rules', 'tests/alerts.test.yml'], { cwd: dir });
  assert.equal(code, 0, out);
  assert.match(out, /SUCCESS/);
  // Each alert of the rules file has at least one test case naming it.
  const rules = fs.readFileSync(path.join(dir, 'rules', 'npanel.rules.yml'), 'utf8');
  const tests = fs.readFileSync(path.join(dir, 'tests', 'alerts.test.yml'), 'utf8');
  const alerts = [...rules.matchAll(/- alert: (\S+)/g)].map((m) => m[1]!);
  const untested = alerts.filter((a) => !new RegExp(`alertname: ${a}\\b`).test(tests));
  assert.deepEqual(untested, []);
});

test('promtool test rules fails when an alert stops firing (the tests can fail)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-rules-'));
  try {
    fs.mkdirSync(path.join(tmp, 'rules'));
    fs.mkdirSync(path.join(tmp, 'tests'));
    const broken = fs
      .readFileSync(path.join(dir, 'rules', 'npanel.rules.yml'), 'utf8')
      .replace('npanel_host_disk_free_ratio < 0.10', 'npanel_host_disk_free_ratio < 0.01');
    fs.writeFileSync(path.join(tmp, 'rules', 'npanel.rules.yml'), broken);
    fs.copyFileSync(path.join(dir, 'tests', 'alerts.test.yml'), path.join(tmp, 'tests', 'alerts.test.yml'));
    const { code, out } = await promtool(['test', 'rules', 'tests/alerts.test.yml'], { cwd: tmp });
    assert.notEqual(code, 0);
    assert.match(out, /NpanelDiskAlmostFull/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('promtool check config accepts the scrape config with its rule file', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-prom-'));
  try {
    // As install.sh writes it (the ports filled in from the env files), with the installed paths
    // (/etc/prometheus/...) pointed at the repository's files.
    execFileSync('bash', [path.join(repoRoot(), 'deploy', 'install.sh'), '--prefix', path.join(tmp, 'root'), '--no-code'], {
      stdio: 'ignore',
      timeout: 60_000,
    });
    const config = fs
      .readFileSync(path.join(tmp, 'root', 'etc', 'prometheus', 'prometheus.yml'), 'utf8')
      .replace('/etc/prometheus/rules/npanel.rules.yml', path.join(dir, 'rules', 'npanel.rules.yml'))
      .replace('/etc/prometheus/npanel-workers/*.yml', path.join(dir, '*.example.yml'));
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), config);
    const { code, out } = await promtool(['check', 'config', 'prometheus.yml'], { cwd: tmp });
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
