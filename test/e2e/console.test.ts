import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openFromNav } from '../support/browser';
import { adminToken, apiCall, createToken, until } from '../support/http';
import { loadStack } from '../support/stack';
import { WORKFLOW_STATUSES } from '../../common/constants';
import { WORKFLOW_TYPES } from '../../common/workflow-types';

/**
 * The web console in a real Chromium against the test stack: what an operator and a customer do by hand.
 */

const stack = loadStack();
const admin = adminToken(stack);
const base = stack.file.api;
let browser: Browser;

before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const rand = () => crypto.randomBytes(3).toString('hex');

async function signIn(token: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // A refused request (404, 403) is logged by Chromium as a console error: that is the API answering, not a bug.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text());
  });
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

const jsErrors = (page: Page) => (page as Page & { jsErrors: string[] }).jsErrors;

async function provisionByApi(username: string): Promise<string> {
  const res = await apiCall(base, '/api/v1/accounts', { method: 'POST', token: admin, body: { username, domain: `${username}.test` } });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  await until(`${username} provisioned`, async () => {
    const wf = await apiCall(base, `/api/v1/workflows/${res.body.workflowId}`, { token: admin });
    if (wf.body.status === 'failed') throw new Error(`provisioning failed: ${wf.body.error?.message}`);
    return wf.body.status === 'completed' ? true : undefined;
  });
  return res.body.workflowId as string;
}

test('an admin provisions an account from the form, sees field errors, and watches it finish live', async () => {
  const page = await signIn(admin);
  await openFromNav(page, 'New account', 'Provision an account');
  await page.getByLabel('Username').fill('Root');
  await page.getByLabel('Domain').fill('not a domain');
  await page.getByRole('button', { name: 'Provision' }).click();
  // The API's field errors appear next to their fields, and the inputs are marked invalid.
  const usernameError = page.locator('[data-field="username"] > .field-error');
  await usernameError.waitFor();
  assert.match(await usernameError.innerText(), /reserved/);
  assert.match(await page.locator('[data-field="domain"] > .field-error').innerText(), /domain/);
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');

  const user = `ui${rand()}`;
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Domain').fill(`${user}.test`);
  await page.getByRole('button', { name: 'Add mailbox' }).click();
  const mailbox = page.getByRole('group', { name: 'Mailbox 1' });
  await mailbox.getByLabel('Local').fill('info');
  await mailbox.getByLabel('Password').fill('Tr0ub4dor-&-3x');
  let navigations = 0;
  await page.getByRole('button', { name: 'Provision' }).click();
  await page.waitForURL(/#\/workflow\/provision-/);
  page.on('framenavigated', () => navigations++);

  // Live: the status goes from running to completed on the same page, steps filling in as they finish.
  // Each sample pairs the badge with the number of finished steps. How many intermediate counts a poll catches
  // depends on the machine's speed, so the check is the one a user makes: while the badge still said running,
  // some steps were done and others not yet, and later all of them were, on the same page.
  const samples: { status: string; done: number }[] = [];
  await until(
    'the status badge to say completed',
    async () => {
      const status = (await page.locator('#wf-status').innerText()).trim();
      const done = await page.locator('.timeline li .badge', { hasText: /^done$/ }).count();
      const last = samples[samples.length - 1];
      if (last?.status !== status || last.done !== done) samples.push({ status, done });
      return status === 'completed' ? status : undefined;
    },
    30_000,
    50,
  );
  const finalDone = samples[samples.length - 1]!.done;
  const described = samples.map((s) => `${s.status}:${s.done}`).join(', ');
  assert.ok(
    samples.some((s) => s.status === 'running'),
    `saw only ${described}`,
  );
  assert.ok(
    samples.some((s) => s.status === 'running' && s.done < finalDone),
    `the timeline filled in live (${described})`,
  );
  assert.equal(navigations, 0, 'no reload: the page was updated by the event stream');
  const id = decodeURIComponent(page.url().split('#/workflow/')[1]!);
  assert.equal(await page.locator('#wf-id').innerText(), id);
  const statuses = await page.locator('.timeline li .badge').allInnerTexts();
  assert.ok(
    statuses.every((s) => s === 'done' || s === 'skipped'),
    statuses.join(','),
  );
  const temporalLink = page.getByRole('link', { name: 'Open in Temporal Web' });
  assert.equal(
    await temporalLink.getAttribute('href'),
    `${stack.file.temporal.ui}/namespaces/${stack.file.temporal.namespace}/workflows/${id}`,
  );

  // The list finds it by ID search and by account filter.
  await openFromNav(page, 'Workflows', 'Workflows');
  await page.getByLabel('Workflow ID').fill(id);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('link', { name: id }).waitFor();
  await openFromNav(page, 'Accounts', 'Accounts');
  await page.getByRole('cell', { name: user, exact: true }).waitFor();
  assert.deepEqual(jsErrors(page), []);
  await page.close();
});

test('a customer signs in and sees only its own account and workflows', async () => {
  const mine = `cu${rand()}`;
  const other = `ot${rand()}`;
  const [myWorkflow, otherWorkflow] = await Promise.all([provisionByApi(mine), provisionByApi(other)]);
  const token = await createToken(stack, 'customer', mine);
  const page = await signIn(token);
  assert.equal((await page.locator('.who').innerText()).trim(), `customer ${mine}`);
  assert.equal(await page.getByRole('link', { name: 'New account' }).count(), 0, 'no admin forms for a customer');

  await openFromNav(page, 'Accounts', 'Accounts');
  await page.getByRole('cell', { name: mine, exact: true }).waitFor();
  const accounts = await page.locator('tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(accounts, [mine]);

  await openFromNav(page, 'Workflows', 'Workflows');
  await page.getByRole('link', { name: myWorkflow }).waitFor();
  const listed = await page.locator('tbody tr td:first-child').allInnerTexts();
  assert.ok(listed.length >= 1 && listed.every((id) => id.includes(`-${mine}-`)), listed.join(', '));

  // Another account's workflow by its URL: not found, and no operator actions anywhere.
  await page.goto(`${base}/#/workflow/${otherWorkflow}`);
  await page.getByText(/not found/).waitFor();
  await page.goto(`${base}/#/workflow/${myWorkflow}`);
  await page.locator('#wf-status', { hasText: 'completed' }).waitFor();
  assert.equal(await page.getByRole('button', { name: /Retry|Cancel/ }).count(), 0);
  assert.deepEqual(jsErrors(page), []);
  await page.close();
});

test('the codec cookie: set by the API for an admin, HttpOnly and for /codec only, decodes there, cleared on sign-out; none for a customer', async () => {
  const page = await signIn(admin);
  const cookies = () =>
    page
      .context()
      .cookies(base)
      .then((all) => all.filter((c) => c.name === 'npanel_token'));
  await until(
    'the codec cookie',
    async () => ((await page.context().cookies(`${base}/codec/decode`)).some((c) => c.name === 'npanel_token') ? true : undefined),
    5000,
  );
  const [cookie] = await page.context().cookies(`${base}/codec/decode`);
  assert.equal(cookie!.httpOnly, true);
  assert.equal(cookie!.path, '/codec');
  assert.equal(cookie!.sameSite, 'Strict');
  assert.deepEqual(await cookies(), [], 'not sent to the API routes (path /codec)');
  assert.ok(!((await page.evaluate('document.cookie')) as string).includes('npa_'), 'page script cannot read the token from a cookie');
  // What Temporal Web does, from the console's own origin: the cookie alone authenticates the codec call.
  const status = await page.evaluate(
    "fetch('/codec/decode', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{\"payloads\":[]}' }).then((r) => r.status)",
  );
  assert.equal(status, 200);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await until(
    'the cookie cleared',
    async () => ((await page.context().cookies(`${base}/codec/decode`)).length === 0 ? true : undefined),
    5000,
  );
  assert.deepEqual(jsErrors(page), []);
  await page.close();

  const customer = `ck${rand()}`;
  await provisionByApi(customer);
  const customerPage = await signIn(await createToken(stack, 'customer', customer));
  assert.deepEqual(await customerPage.context().cookies(`${base}/codec/decode`), []);
  await customerPage.close();
});

test('the workflow filter offers every registered type and status, read from the API', async () => {
  const page = await signIn(admin);
  await page.goto(`${base}/#/workflows`);
  await page.locator('#q-type option').nth(1).waitFor({ state: 'attached' });
  const options = async (id: string) =>
    (await page.locator(`#${id} option`).evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value))).filter(Boolean);
  assert.deepEqual(await options('q-type'), [...WORKFLOW_TYPES]);
  assert.deepEqual(await options('q-status'), [...WORKFLOW_STATUSES]);
  assert.deepEqual(jsErrors(page), []);
  await page.close();
});
