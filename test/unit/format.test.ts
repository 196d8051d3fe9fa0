import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../config/load';

const execFileP = promisify(execFile);

/**
 * The formatter (prettier, line width in .prettierrc.json) is the one layout of the code: a file it would
 * change fails here, in `bin/npanel test` and so in CI. Fix with `npx prettier --write <file>`.
 */
test('every source file is as the formatter writes it', { timeout: 120_000 }, async () => {
  const root = repoRoot();
  const prettier = path.join(root, 'node_modules', '.bin', 'prettier');
  // Exit 0: all formatted; 1: the list on stdout; anything else (2, a missing binary) is a broken check.
  const res = await execFileP(prettier, ['--list-different', '.'], { cwd: root }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (err: { code?: number | string; stdout?: string; stderr?: string }) => ({
      code: err.code,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );
  assert.ok(res.code === 0 || res.code === 1, `prettier did not run: ${res.code} ${res.stderr}`);
  const unformatted = res.stdout.trim();
  assert.equal(unformatted, '', `files the formatter would change (npx prettier --write them):\n${unformatted}`);
});
