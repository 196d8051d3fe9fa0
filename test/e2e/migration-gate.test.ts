import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, openFromNav } from '../support/browser';
import { adminToken, apiCall, until } from '../support/http';
import { loadStack } from '../support/stack';

/**
 * An operator starts a migration from the form; it stops at the operator gate (the source docroot is not there
 * yet), the operator fixes the source and answers "retry" from the workflow page, and the migration finishes.
 */

const execFileP = promisify(execFile);
const stack = loadStack();
const admin = adminToken(stack);
const base = stack.file.api;
const src = stack.file.migrationSource;
let browser: Browser;
let lateDocroot = '';

before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (lateDocroot) fs.rmSync(lateDocroot, { recursive: true, force: true });
});

test('a migration stops at the gate and an operator resolves it with retry from the UI', async () => {
  const tag = crypto.randomBytes(3).toString('hex');
  const account = `mg${tag}`;
  const domain = `mg${tag}.test`;
  lateDocroot = `${src.docroot.replace(/\/+$/, '')}-late-${tag}`;

  const page = await browser.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill(admin);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await openFromNav(page, 'Migrate a site', 'Migrate a site');
  await page.getByLabel('Domain').fill(domain);
  await page.getByLabel('Account').fill(account);
  const source = page.getByRole('group', { name: /^Source/ });
  await source.getByRole('textbox', { name: 'Host', exact: true }).fill(src.host);
  await source.getByLabel('Port').fill(String(src.port));
  await source.getByLabel('User').fill(src.user);
  await source.getByLabel('Private key').fill(fs.readFileSync(src.privateKey, 'utf8'));
  await source.getByLabel('Host key fingerprint').fill(src.hostKeyFingerprint);
  await source.getByLabel('Docroot').fill(lateDocroot);
  await source.getByRole('textbox', { name: 'IP', exact: true }).fill('127.0.0.1');
  await page.getByRole('button', { name: 'Start migration' }).click();
  await Promise.race([page.waitForURL(/#\/workflow\/migrate-/), page.locator('.form-error p').waitFor()]);
  const refused = await page.locator('.form-error p, .field-error:not(:empty)').allInnerTexts();
  assert.deepEqual(refused, [], 'the form was refused');
  const id = decodeURIComponent(page.url().split('#/workflow/')[1]!);

  // The preflight cannot read the docroot: after its retries the workflow waits for an operator, live.
  await page.locator('#wf-status', { hasText: 'awaiting operator' }).waitFor({ timeout: 60_000 });
  await page.getByText('Waiting for an operator').waitFor();
  const listed = await apiCall(base, `/api/v1/workflows?status=awaiting_operator&id=${id}`, { token: admin });
  assert.deepEqual(
    listed.body.workflows.map((w: { workflowId: string }) => w.workflowId),
    [id],
  );

  // The operator fixes the source (the sample site appears at the expected path) and presses Retry step.
  await execFileP('cp', ['-a', src.docroot, lateDocroot]);
  await page.getByRole('button', { name: 'Retry step' }).click();
  await page.locator('#wf-status', { hasText: 'completed' }).waitFor({ timeout: 120_000 });
  const detail = await apiCall(base, `/api/v1/workflows/${id}`, { token: admin });
  assert.equal(detail.body.status, 'completed', JSON.stringify(detail.body.error));
  const steps = await page.locator('.timeline li .badge').allInnerTexts();
  assert.ok(
    steps.every((s) => s === 'done' || s === 'skipped'),
    steps.join(','),
  );
  await until('the migrated account', async () =>
    (await apiCall(base, `/api/v1/accounts/${account}`, { token: admin })).status === 200 ? true : undefined,
  );
  await page.close();
});
