import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../config/load';
import type { LoadedStack } from './stack';

/** A JSON call to the stack's API: status, headers and parsed body (null when empty). */
export async function apiCall(
  base: string,
  pathname: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${pathname}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body };
}

export { until } from './poll';

export const adminToken = (stack: LoadedStack) => fs.readFileSync(path.join(stack.home, 'admin-token'), 'utf8').trim();

const execFileP = promisify(execFile);

/** `npanel token create` against the stack (the real CLI, as an operator runs it): the token it printed. */
export async function createToken(stack: LoadedStack, role: 'admin' | 'customer', account?: string): Promise<string> {
  const args = [path.join(repoRoot(), 'dist', 'cli', 'main.js'), 'token', 'create', '--home', stack.home, '--role', role];
  if (account) args.push('--account', account);
  const { stdout } = await execFileP(process.execPath, args, { timeout: 30_000 });
  if (!/^npa_[A-Za-z0-9_-]{43}\n$/.test(stdout)) throw new Error(`token create printed more than a token: ${JSON.stringify(stdout)}`);
  return stdout.trim();
}
