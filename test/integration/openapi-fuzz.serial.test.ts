import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../config/load';
import { apiCall, createToken, until } from '../support/http';
import { loadStack } from '../support/stack';

/**
 * Issue 12, item 6: the OpenAPI document is the contract. schemathesis (PyPI, installed by `bin/npanel`) reads
 * /docs/openapi.json of the running stack and sends schema-valid and schema-violating requests to every
 * operation, checking: no server error, no undocumented status or media type, no response outside its schema,
 * no schema-valid request refused (less the few rules JSON Schema cannot state, listed in
 * test/fuzz/schemathesis_hooks.py), no invalid one accepted, and no route served without a valid token.
 *
 * Serial: it presents wrong tokens by the hundred, revokes a token and provisions a few accounts, so it runs
 * alone; what it created is removed afterwards. Settings (seed, examples per operation): test/fuzz/schemathesis.toml.
 */

const stack = loadStack();
const base = stack.file.api;
const FUZZ_DIR = path.join(repoRoot(), 'test', 'fuzz');
/**
 * The address this test's own calls come from (the API trusts X-Forwarded-For from loopback): the failed
 * authentications of the test before it (the hostile corpus) must not lock out its setup and clean-up. The
 * fuzzer's cases come from 198.18.0.0/15 one by one (test/fuzz/schemathesis_hooks.py), far below this one.
 */
const OWN = { 'x-forwarded-for': '198.19.255.254' };

/** The `st` of the pinned venv `bin/npanel` installs (NPANEL_SCHEMATHESIS). Missing is an error, never a skip. */
function schemathesisPath(): string {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const dir = path.join(cache, 'npanel');
  const venvs = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((d) => d.startsWith('schemathesis-'))
        .map((d) => path.join(dir, d, 'bin', 'st'))
    : [];
  const candidates = [process.env.NPANEL_SCHEMATHESIS, ...venvs].filter(Boolean) as string[];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(
      `schemathesis not found (looked at ${candidates.join(', ') || `${cache}/npanel`}): run bin/npanel test, which installs it`,
    );
  return found;
}

/** Runs `st` in a temporary folder (its hypothesis and schemathesis caches land there, not in the tree). */
function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'npanel-openapi-fuzz-'));
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      cwd,
      env: { ...process.env, SCHEMATHESIS_HOOKS: path.join(FUZZ_DIR, 'schemathesis_hooks.py'), ...env },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => {
      fs.rmSync(cwd, { recursive: true, force: true });
      resolve({ code: code ?? 1, out });
    });
  });
}

async function accountNames(token: string): Promise<Set<string>> {
  const names = new Set<string>();
  let cursor: string | null = null;
  do {
    const res = await apiCall(base, `/api/v1/accounts?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { token, headers: OWN });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const a of res.body.accounts as { username: string }[]) names.add(a.username);
    cursor = res.body.next;
  } while (cursor);
  return names;
}

/** What the fuzz run started: running workflows cancelled, accounts it provisioned deprovisioned. */
async function cleanUp(token: string, accountsBefore: Set<string>, since: Date): Promise<void> {
  // Open, whatever their status word (a migration waiting for the operator is `awaiting_operator`, not `running`).
  const open = async () =>
    ((await apiCall(base, '/api/v1/workflows?limit=500', { token, headers: OWN })).body?.workflows ?? []).filter(
      (w: { startedAt: string; closedAt: string | null; type: string }) =>
        w.closedAt === null && new Date(w.startedAt) >= since && w.type !== 'deprovisionAccount',
    ) as { workflowId: string }[];
  for (const w of await open()) await apiCall(base, `/api/v1/workflows/${w.workflowId}/cancel`, { method: 'POST', token, headers: OWN });
  await until('fuzz workflows closed', async () => ((await open()).length === 0 ? true : undefined), 120_000, 1000);
  for (const username of [...(await accountNames(token))].filter((n) => !accountsBefore.has(n))) {
    await until(
      `${username} settled`,
      async () => {
        const res = await apiCall(base, `/api/v1/accounts/${username}`, { method: 'DELETE', token, headers: OWN });
        return res.status === 202 || res.status === 404 || (res.status === 409 && /deprovisioned/.test(JSON.stringify(res.body)))
          ? true
          : undefined;
      },
      120_000,
      1000,
    );
  }
  await until(
    'fuzz accounts gone',
    async () => {
      const left = [...(await accountNames(token))].filter((n) => !accountsBefore.has(n));
      return left.length === 0 ? true : undefined;
    },
    180_000,
    1000,
  );
}

test('schemathesis finds no breach of the published OpenAPI contract', { timeout: 15 * 60_000 }, async () => {
  const st = schemathesisPath();
  const token = await createToken(stack, 'admin');
  // The one token the fuzzer may revoke (DELETE /api/v1/tokens/{id} is pinned to it in schemathesis.toml).
  const revocable = await apiCall(base, '/api/v1/tokens', {
    method: 'POST',
    token,
    body: { role: 'admin', label: 'openapi fuzz: revocable' },
    headers: OWN,
  });
  assert.equal(revocable.status, 201, JSON.stringify(revocable.body));
  const accountsBefore = await accountNames(token);
  const since = new Date();
  const started = performance.now();
  let failure: unknown;
  try {
    const { code, out } = await run(
      st,
      [
        '--config-file',
        path.join(FUZZ_DIR, 'schemathesis.toml'),
        '--no-color',
        'run',
        `${base}/docs/openapi.json`,
        '-H',
        `Authorization: Bearer ${token}`,
      ],
      {
        NPANEL_FUZZ_REVOCABLE_TOKEN_ID: String(revocable.body.id),
      },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    const summary = out.slice(out.lastIndexOf('SUMMARY'));
    assert.equal(code, 0, `schemathesis found breaches (${seconds} s):\n${out.slice(-20_000)}`);
    // A run that tested nothing would pass too: every operation of the document must have been exercised.
    const selected = /Selected: (\d+)\/(\d+)/.exec(summary);
    const tested = /Tested: (\d+)/.exec(summary);
    assert.ok(
      selected && tested && Number(tested[1]) === Number(selected[2]) && Number(tested[1]) >= 25,
      `not every operation was tested:\n${summary}`,
    );
    const cases = /(\d+) generated, (\d+) passed/.exec(summary);
    assert.ok(cases && cases[1] === cases[2] && Number(cases[1]) > 500, `not every generated case passed, or too few ran:\n${summary}`);
    process.stdout.write(`openapi fuzz: ${tested[1]} operations, ${cases[1]} cases in ${seconds} s\n`);
  } catch (err) {
    failure = err;
  }
  // Clean up either way; a clean-up error must not hide what schemathesis found.
  await cleanUp(token, accountsBefore, since).catch((err: unknown) => {
    failure ??= err;
  });
  if (failure) throw failure;
  // The fuzzer's wrong tokens came from its own addresses: the stack's loopback clients are not locked out.
  const after = await apiCall(base, '/api/v1/me', { token });
  assert.equal(after.status, 200, `loopback after the fuzz run: ${JSON.stringify(after.body)}`);
});
