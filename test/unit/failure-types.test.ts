import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../config/load';
import { FAILURE, FAILURE_TYPES, failureKind, GATE_FATAL_TYPES, isBadInput } from '../../common/failure-types';

/** Production sources that may throw an ApplicationFailure. */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const dir of ['activities', 'workflows', 'api', 'common', 'worker', 'lib']) {
    for (const name of fs.readdirSync(path.join(repoRoot(), dir), { recursive: true }) as string[]) {
      if (!name.endsWith('.ts')) continue;
      const file = path.join(dir, name);
      out.push({ file, text: fs.readFileSync(path.join(repoRoot(), file), 'utf8') });
    }
  }
  return out;
}

test('no failure type is spelled as a string literal outside the registry', () => {
  // A failure type is CamelCase with lower-case letters (DNS record types like 'AAAA' are not).
  const literal = /nonRetryable\([^;]*?,\s*'[A-Za-z]+'\s*\)|\btype:\s*'[A-Z][a-z][A-Za-z]*'|\.type === '[A-Z][a-z][A-Za-z]*'/;
  const offenders = sources()
    .filter((s) => s.file !== path.join('common', 'failure-types.ts') && literal.test(s.text))
    .map((s) => s.file);
  assert.deepEqual(offenders, [], `use FAILURE.<Type> from common/failure-types.ts in ${offenders.join(', ')}`);
});

test('every FAILURE.<Type> used in the code is in the registry, and the registry holds nothing unused', () => {
  const used = new Set<string>();
  for (const s of sources())
    if (!s.file.endsWith('failure-types.ts')) for (const m of s.text.matchAll(/FAILURE\.([A-Za-z]+)/g)) used.add(m[1]!);
  const unknown = [...used].filter((t) => !(FAILURE_TYPES as string[]).includes(t));
  const unused = FAILURE_TYPES.filter((t) => !used.has(t));
  assert.deepEqual(unknown, []);
  assert.deepEqual(unused, [], `registered but never thrown: ${unused.join(', ')}`);
  for (const t of FAILURE_TYPES) assert.equal(FAILURE[t], t);
});

test('every bad-input type skips the operator gate (the migration rolls back at once)', () => {
  const badInput = FAILURE_TYPES.filter(isBadInput);
  // The eleven name/password/input types of the activities, and the migration's own.
  for (const t of [
    'InvalidInput',
    'DnsInvalid',
    'MailInvalidName',
    'MailInvalidPassword',
    'MailInvalidInput',
    'FtpInvalidName',
    'FtpInvalidPassword',
    'FtpInvalidHome',
    'FtpInvalidInput',
    'MysqlInvalidName',
    'MysqlInvalidPassword',
    'MigrationSourceInvalid',
    'RemoteCommandInvalid',
  ]) {
    assert.ok(badInput.includes(t as never), `${t} is bad input`);
  }
  for (const t of badInput) assert.ok(GATE_FATAL_TYPES.includes(t), `${t} is bad input but would wait for an operator`);
  // Safety refusals fail through too; a missing vhost or a CA refusal is for the operator.
  for (const t of ['HostKeyMismatch', 'SourceAuthFailed', 'AccountConflict', 'NameConflict', 'DumpStatementRefused', 'DumpDefinerForeign'])
    assert.ok(GATE_FATAL_TYPES.includes(t as never), t);
  for (const t of ['VhostNotFound', 'AcmeOrderRefused', 'SourceDatabaseMissing', 'ProvisionRolledBack'])
    assert.ok(!GATE_FATAL_TYPES.includes(t as never), t);
  assert.equal(failureKind('SomethingForeign'), null);
  assert.equal(failureKind('constructor'), null);
});
