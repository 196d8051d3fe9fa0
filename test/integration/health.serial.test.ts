import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { until } from '../support/poll';
import { loadStack } from '../support/stack';

const stack = loadStack();

/** The stack's own mariadbd: its command line names the stack's config (never another stack's server). */
function mariadbPid(): number {
  const conf = `--defaults-file=${path.join(stack.home, 'mariadb', 'my.cnf')}`;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(conf) && /mariadbd|mysqld/.test(argv[0] ?? '')) return Number(entry);
    } catch {
      /* gone meanwhile */
    }
  }
  throw new Error(`no mariadbd with ${conf}`);
}

async function ready(): Promise<{ code: number; body: any }> {
  const res = await fetch(`${stack.file.api}/health/ready`, { signal: AbortSignal.timeout(15_000) });
  return { code: res.status, body: await res.json() };
}

/** Polls /health/ready until `pred` holds (test/support/poll.ts); the timeout names the last answer. */
function readyWhen(what: string, pred: (r: { code: number; body: any }) => boolean, timeoutMs = 30_000) {
  return until(
    what,
    async () => {
      const last = await ready();
      if (pred(last)) return last;
      throw new Error(`last answer ${last.code} ${JSON.stringify(last.body)}`);
    },
    timeoutMs,
    500,
  );
}

/**
 * MariaDB is stopped with SIGSTOP, not killed: the server is held (clients get no answer, exactly what a hung
 * or unreachable database looks like to the API) and SIGCONT gives the very same server back, so the stack's
 * own process handle and every later test keep working. Killing and restarting it from here would orphan the
 * new server from the harness that must stop it.
 */
test('/health/ready turns 503 naming the database while MariaDB is stopped, and 200 when it returns', async () => {
  const first = await ready();
  assert.equal(first.code, 200, JSON.stringify(first.body));
  assert.equal(first.body.checks.database.status, 'ok');
  assert.equal(first.body.checks.database.critical, true);
  for (const name of ['database', 'temporal', 'workers', 'disk', 'memory', 'ssh', 'dns']) {
    assert.equal(typeof first.body.checks[name]?.latencyMs, 'number', `check ${name} has a latency`);
  }

  const pid = mariadbPid();
  process.kill(pid, 'SIGSTOP');
  try {
    const down = await readyWhen('503 while MariaDB is stopped', (r) => r.code === 503);
    assert.match(down.body.status, /^failing: .*database/);
    assert.equal(down.body.checks.database.status, 'failing');
    assert.ok(down.body.checks.database.error, 'the failing check says why');
    assert.equal(down.body.checks.temporal.status, 'ok', 'only what is down is named failing');
    // Liveness is not readiness: the process still answers.
    assert.equal((await fetch(`${stack.file.api}/health`)).status, 200);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const back = await readyWhen('200 once MariaDB is back', (r) => r.code === 200);
  assert.equal(back.body.checks.database.status, 'ok');
  assert.equal(back.body.status, 'ok');
});
