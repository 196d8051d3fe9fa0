import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const root = process.env.NPANEL_REPO_ROOT ?? path.resolve(__dirname, '..', '..', '..');
const eslint = path.join(root, 'node_modules', '.bin', 'eslint');

function lint(source: string): string {
  const dir = fs.mkdtempSync(path.join(root, 'workflows', '.lint-probe-'));
  const file = path.join(dir, 'probe.ts');
  fs.writeFileSync(file, source);
  try {
    execFileSync(eslint, ['--no-warn-ignored', file], { cwd: root, encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the lint rule rejects Node built-ins, drivers and activity values in workflow files', () => {
  assert.match(lint(`import fs from 'node:fs';\nexport const x = fs;\n`), /deterministic/);
  assert.match(lint(`import fs from 'fs';\nexport const x = fs;\n`), /deterministic/);
  assert.match(lint(`import mysql from 'mysql2';\nexport const x = mysql;\n`), /no drivers/);
  assert.match(lint(`import pino from 'pino';\nexport const x = pino;\n`), /no drivers/);
  assert.match(lint(`import { createDnsActivities } from '../../activities/dns';\nexport const x = createDnsActivities;\n`), /import type/);
});

test('the lint rule accepts @temporalio/workflow and type-only activity imports', () => {
  assert.equal(
    lint(
      `import { sleep } from '@temporalio/workflow';\nimport type { DnsActivities } from '../../activities/dns';\nexport type X = DnsActivities;\nexport const s = sleep;\n`,
    ),
    '',
  );
  assert.ok(os.EOL);
});

test('the workflows folder itself passes the purity lint', () => {
  execFileSync(eslint, ['workflows'], { cwd: root, encoding: 'utf8' });
});
