import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { repoRoot } from '../../config/load';
import { apiClient, uniqueName } from '../support/accounts';
import { loadStack } from '../support/stack';

const execFileP = promisify(execFile);
const stack = loadStack();
const RUNBOOK = path.join(repoRoot(), 'runbooks', 'failed-migration.md');

/** The ```sh blocks of a runbook marked `<!-- test: NAME -->` on the line before (blank lines allowed), in order. */
export function testedBlocks(markdown: string, name: string): string[] {
  const blocks: string[] = [];
  const re = new RegExp(`<!-- test: ${name} -->\\s*\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  for (const m of markdown.matchAll(re)) blocks.push(m[1]!);
  return blocks;
}

/**
 * An operator follows runbooks/failed-migration.md alone: the test makes a migration stop at the gate the way
 * production does (a source database that cannot be read: preflight fails and waits for an operator), fixes
 * the cause on the source as the operator would (out of NPanel's hands: the source belongs to the customer),
 * then runs exactly the runbook's marked commands in one shell. Only the variables of the runbook's "shell
 * every page assumes" differ from production: this stack's API, token, Temporal address and namespace.
 */
test('the failed-migration runbook, run as written, resumes a migration stopped at the gate', async () => {
  const blocks = testedBlocks(fs.readFileSync(RUNBOOK, 'utf8'), 'failed-migration');
  assert.ok(blocks.length >= 5, `runbook blocks marked for the test: ${blocks.length}`);
  assert.ok(
    blocks.some((b) => b.includes('/resolve')),
    'the runbook resolves through the API',
  );

  const { api } = apiClient(stack);
  const account = uniqueName('rb');
  const missingDb = `${account}_legacy`;
  const src = stack.file.migrationSource;
  const privateKey = fs.existsSync(src.privateKey) ? fs.readFileSync(src.privateKey, 'utf8') : src.privateKey;
  const started = await api('POST', '/api/v1/migrations', {
    domain: `${account}.test`,
    account,
    cutover: 'auto',
    source: {
      host: src.host,
      port: src.port,
      user: src.user,
      privateKey,
      hostKeyFingerprint: src.hostKeyFingerprint,
      docroot: src.docroot,
      ip: '127.0.0.1',
      databases: [{ name: 'shop' }, { name: missingDb }],
    },
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const workflowId: string = started.body.workflowId;
  for (const deadline = Date.now() + 120_000; ;) {
    const d = await api('GET', `/api/v1/workflows/${workflowId}`);
    if (d.body.status === 'awaiting_operator') {
      assert.equal(d.body.progress?.operator?.step, 'preflight', JSON.stringify(d.body.progress));
      break;
    }
    assert.ok(!d.body.closedAt && Date.now() < deadline, `migration never reached the gate: ${JSON.stringify(d.body)}`);
    await new Promise((r) => setTimeout(r, 500));
  }

  // The operator's fix on the source server: the database the migration names exists and is readable.
  const admin = await mysql.createConnection({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: 'npanel_admin',
    password: stack.secrets.mysqlAdminPassword,
  });
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${missingDb}\``);
    await admin.query(`CREATE TABLE IF NOT EXISTS \`${missingDb}\`.notes (id INT PRIMARY KEY, body TEXT)`);
    await admin.query(`INSERT IGNORE INTO \`${missingDb}\`.notes VALUES (1, 'kept')`);
    await admin.query(`GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT ON \`${missingDb}\`.* TO ?@?`, [src.user, '127.0.0.1']);
  } finally {
    await admin.end();
  }

  const token = fs.readFileSync(path.join(stack.home, 'admin-token'), 'utf8').trim();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NPANEL_API: stack.file.api,
    TOKEN: token,
    TEMPORAL_ADDRESS: stack.file.temporal.address,
    TEMPORAL_NAMESPACE: stack.file.temporal.namespace,
    TEMPORAL_CODEC_ENDPOINT: `${stack.file.api}/codec`,
    TEMPORAL_CODEC_AUTH: `Bearer ${token}`,
  };
  const script = ['set -euo pipefail', ...blocks].join('\n');
  const run = await execFileP('bash', ['-c', script], { env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (e) => e as { code: number; stdout: string; stderr: string },
  );
  const out = `${run.stdout}\n${run.stderr}`;
  assert.ok(!('code' in run) || run.code === 0, `runbook commands failed:\n${out}`);
  assert.ok(out.includes(workflowId), 'the runbook found the waiting migration');
  assert.match(out, /"action": "retry"/);
  assert.ok(out.includes(`${workflowId}: completed`), out);

  const done = await api('GET', `/api/v1/workflows/${workflowId}`);
  assert.equal(done.body.status, 'completed');
});
