import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import * as acme from 'acme-client';
import { forgetAccount, readAccount, writeAccount } from './acme-account';

/**
 * One HTTP-01 order with acme-client: account (per directory, encrypted on disk), order for the domain and
 * www, challenge files in the node's challenge folder (served by nginx for every host, even a vhost that
 * redirects to HTTPS or is suspended), CSR from a fresh key, certificate. Errors keep the CA's problem detail.
 */

export interface AcmeSettings {
  directory: string;
  caFile?: string;
  accountEmail?: string;
  /** Where the sealed account files live (node-local, 0700). */
  accountDir: string;
  challengeDir: string;
  codecKey: string;
}

/** The CA answered 429: its Retry-After (seconds) is what the sweep waits before ordering again. */
export class AcmeRateLimitError extends Error {
  override name = 'AcmeRateLimitError';
  constructor(
    readonly retryAfterSeconds: number,
    detail: string,
  ) {
    super(`CA rate limit: ${detail} (retry after ${retryAfterSeconds} s)`);
  }
}

/**
 * The CA does not know (or no longer accepts) the account the request was signed with: a test CA that forgot
 * its accounts at a restart (Pebble), or an account the CA or its owner deactivated. A new registration helps;
 * retrying with the same account never does.
 */
export class AcmeAccountUnknownError extends Error {
  override name = 'AcmeAccountUnknownError';
}

const ACCOUNT_DOES_NOT_EXIST = 'urn:ietf:params:acme:error:accountDoesNotExist';
const UNAUTHORIZED = 'urn:ietf:params:acme:error:unauthorized';

/** RFC 8555 §7.3 (an unknown account) and §7.3.6 (a deactivated one answers `unauthorized`). */
function refusesAccount(status: number, problem: { type?: string; detail?: string } | undefined): boolean {
  if (status < 400 || !problem) return false;
  if (problem.type === ACCOUNT_DOES_NOT_EXIST) return true;
  return (
    problem.type === UNAUTHORIZED &&
    /account/i.test(problem.detail ?? '') &&
    /deactivated|not valid|not found|does not exist/i.test(problem.detail ?? '')
  );
}

/** The CA's 5xx: transient, the activity retry policy handles it. */
export class AcmeServerError extends Error {
  override name = 'AcmeServerError';
}

const DEFAULT_RETRY_AFTER_S = 3600;

function retryAfterSeconds(header: unknown): number {
  if (typeof header !== 'string' || header.trim() === '') return DEFAULT_RETRY_AFTER_S;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_S : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

let configuredCa: string | undefined | null = null;

/**
 * acme-client's HTTP settings are process-wide (its axios instance). Two choices here, made once:
 * - its own retry loop is OFF: it would sleep on a 429 Retry-After inside the activity (up to 5 times), which
 *   hides the rate limit from the sweep and keeps hammering the CA. A 429 becomes AcmeRateLimitError instead;
 *   a 5xx becomes AcmeServerError, which Temporal's activity retry (with backoff) handles.
 * - the CA file (Pebble's) is trusted through an https.Agent on its axios defaults: a Client `httpsAgent`
 *   option is silently ignored.
 */
function configureHttp(caFile: string | undefined): void {
  if (configuredCa === (caFile ?? undefined)) return;
  const ax = acme.axios as unknown as {
    defaults: { acmeSettings: { retryMaxAttempts: number }; httpsAgent?: https.Agent };
    interceptors: { response: { use: (ok: (r: { status: number; headers: Record<string, unknown>; data: unknown }) => unknown) => void } };
  };
  if (configuredCa === null) {
    ax.defaults.acmeSettings.retryMaxAttempts = 0;
    ax.interceptors.response.use((resp) => {
      const detail = (resp.data as { detail?: string } | undefined)?.detail ?? `HTTP ${resp.status}`;
      if (resp.status === 429) throw new AcmeRateLimitError(retryAfterSeconds(resp.headers['retry-after']), detail);
      if (refusesAccount(resp.status, resp.data as { type?: string; detail?: string } | undefined))
        throw new AcmeAccountUnknownError(`the CA refuses this node's account: ${detail}`);
      if (resp.status >= 500) throw new AcmeServerError(`CA answered ${resp.status}: ${detail}`);
      return resp;
    });
  }
  ax.defaults.httpsAgent = caFile ? new https.Agent({ ca: fs.readFileSync(caFile), keepAlive: true }) : undefined;
  configuredCa = caFile ?? undefined;
}

/** One registration at a time per account folder and directory: concurrent first orders must share one key. */
const registering = new Map<string, Promise<unknown>>();

async function underRegistrationLock<T>(s: AcmeSettings, fn: () => Promise<T> | T): Promise<T> {
  const lockKey = `${s.accountDir}|${s.directory}`;
  const previous = registering.get(lockKey) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(fn);
  registering.set(lockKey, mine);
  try {
    return await mine;
  } finally {
    if (registering.get(lockKey) === mine) registering.delete(lockKey);
  }
}

/** The registered client of this node at `s.directory`; registers (and stores the URL) on first use. */
export function acmeClient(s: AcmeSettings): Promise<acme.Client> {
  return underRegistrationLock(s, () => registeredClient(s));
}

async function registeredClient(s: AcmeSettings): Promise<acme.Client> {
  configureHttp(s.caFile);
  let account = readAccount(s.accountDir, s.directory, s.codecKey);
  if (!account) {
    account = { directory: s.directory, keyPem: (await acme.crypto.createPrivateEcdsaKey('P-256')).toString() };
    writeAccount(s.accountDir, account, s.codecKey);
  }
  const client = new acme.Client({
    directoryUrl: s.directory,
    accountKey: account.keyPem,
    ...(account.accountUrl ? { accountUrl: account.accountUrl } : {}),
  });
  if (!account.accountUrl) {
    // A crash between registering and the write below leaves a key the CA already knows. Asking with
    // `onlyReturnExisting` first fetches that account instead of tripping the CA's "POST-as-GET" refusal of an
    // empty update; only a key the CA has never seen registers anew.
    try {
      await client.createAccount({ onlyReturnExisting: true });
    } catch {
      await client.createAccount({ termsOfServiceAgreed: true, ...(s.accountEmail ? { contact: [`mailto:${s.accountEmail}`] } : {}) });
    }
    writeAccount(s.accountDir, { ...account, accountUrl: client.getAccountUrl() }, s.codecKey);
  }
  return client;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{16,256}$/;

/**
 * Orders a certificate for `domain` and `www.domain`; returns the PEM chain and its fresh private key. An
 * account the CA no longer knows is registered again (a new key) and the order tried once more, instead of
 * failing every issuance until an operator deletes the account file.
 */
export async function orderHttp01(s: AcmeSettings, domain: string): Promise<{ certPem: string; keyPem: string }> {
  const client = await acmeClient(s);
  try {
    return await orderWith(client, s, domain);
  } catch (err) {
    if (!(err instanceof AcmeAccountUnknownError)) throw err;
    await forgetRefusedAccount(s, client.getAccountUrl());
    return orderWith(await acmeClient(s), s, domain);
  }
}

/** Under the registration lock, so it never removes an account a concurrent order has just registered. */
function forgetRefusedAccount(s: AcmeSettings, refusedUrl: string): Promise<void> {
  return underRegistrationLock(s, () => forgetAccount(s.accountDir, s.directory, s.codecKey, refusedUrl));
}

async function orderWith(client: acme.Client, s: AcmeSettings, domain: string): Promise<{ certPem: string; keyPem: string }> {
  const names = [domain, `www.${domain}`];
  const order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) });
  const authzs = await client.getAuthorizations(order);
  const written: string[] = [];
  try {
    const pending = [];
    for (const authz of authzs) {
      if (authz.status === 'valid') continue; // an authorization the CA still remembers: nothing to prove
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge) throw new Error(`the CA offers no http-01 challenge for ${authz.identifier.value}`);
      // The token becomes a file name: the CA chooses it, so it is checked like any other outside input.
      if (!TOKEN_RE.test(challenge.token)) throw new Error(`the CA sent an unusable challenge token ${JSON.stringify(challenge.token)}`);
      const file = path.join(s.challengeDir, challenge.token);
      fs.writeFileSync(file, await client.getChallengeKeyAuthorization(challenge), { mode: 0o644 });
      written.push(file);
      pending.push(challenge);
    }
    // acme-client's own pre-check (skipChallengeVerification in auto()) is not used: it fetches port 80.
    await Promise.all(
      pending.map(async (challenge) => {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      }),
    );
  } finally {
    for (const file of written) fs.rmSync(file, { force: true });
  }
  const [keyBuf, csr] = await acme.crypto.createCsr(
    { commonName: domain, altNames: names },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  const finalized = await client.finalizeOrder(order, csr);
  const certPem = await client.getCertificate(finalized);
  return { certPem, keyPem: keyBuf.toString() };
}
