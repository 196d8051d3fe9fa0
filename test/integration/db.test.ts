import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { createDb, type DbHandle } from '../../db/client';
import { applyMigrations, defaultMigrationsFolder } from '../../db/migrate';
import { AccountConflictError, createRepositories, ResourceConflictError, type Repositories } from '../../db/repositories';
import { loadStack } from '../support/stack';

const stack = loadStack();
/** Unique per run, short enough for varchar(16) usernames once prefixed. */
const run = crypto.randomBytes(4).toString('hex');
const SHA512 = `$6$saltsalt$${'a'.repeat(86)}`;

let handle: DbHandle;
let repos: Repositories;
const nodeId = `t${run}`;

async function sql<T extends RowDataPacket>(query: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await handle.pool.query<T[]>(query, params);
  return rows;
}

function connect(): DbHandle {
  return createDb({
    host: stack.file.mysql.host,
    port: stack.file.mysql.port,
    user: 'npanel',
    password: stack.secrets.inventoryPassword,
    database: 'npanel',
  });
}

before(async () => {
  handle = connect();
  repos = createRepositories(handle.db);
  await applyMigrations(handle.db);
  await repos.nodes.upsert({ id: nodeId, ip: '127.0.0.1' });
});

after(async () => {
  // Leave the shared inventory as it was: this file's accounts and its made-up node go, so the health
  // checks of the stack do not wait for a worker on a node that never existed.
  if (repos) {
    for (const a of await repos.accounts.list({ nodeId })) await repos.accounts.remove(a.username);
    await handle.pool.query('DELETE FROM nodes WHERE id = ?', [nodeId]).catch(() => undefined);
  }
  await handle?.close();
});

describe('migrations', () => {
  test('apply again, also from two processes at once, without error and without re-running', async () => {
    const other = connect();
    try {
      await Promise.all([applyMigrations(handle.db), applyMigrations(other.db), applyMigrations(handle.db)]);
    } finally {
      await other.close();
    }
    const journal = JSON.parse(fs.readFileSync(path.join(defaultMigrationsFolder(), 'meta', '_journal.json'), 'utf8'));
    const [applied] = await sql<RowDataPacket>('SELECT COUNT(*) AS n FROM __drizzle_migrations');
    assert.equal(Number(applied!.n), journal.entries.length);
    const tables = await sql<RowDataPacket>(
      'SELECT table_name AS t, table_collation AS c FROM information_schema.tables WHERE table_schema = DATABASE()',
    );
    const names = tables.map((r) => r.t as string);
    for (const t of [
      'nodes',
      'accounts',
      'domains',
      'mailboxes',
      'ftp_users',
      'customer_databases',
      'certificates',
      'migrations',
      'api_tokens',
      'audit_events',
    ]) {
      assert.ok(names.includes(t), `table ${t} exists`);
      assert.match(tables.find((r) => r.t === t)!.c as string, /^utf8mb4/, `${t} is utf8mb4`);
    }
  });

  test('audit_events has no foreign key in either direction', async () => {
    const fks = await sql<RowDataPacket>(
      `SELECT constraint_name FROM information_schema.referential_constraints
       WHERE constraint_schema = DATABASE() AND (table_name = 'audit_events' OR referenced_table_name = 'audit_events')`,
    );
    assert.deepEqual(fks, []);
  });
});

describe('api tokens', () => {
  test('round-trip: only the SHA-256 is stored, and the token verifies', async () => {
    // A customer token needs an existing account (issue 11): reserve one first.
    await repos.accounts.reserve({ username: `c${run}`, domain: `c${run}.test`, nodeId, workflowId: `provision-c${run}-1` });
    const { id, token } = await repos.tokens.create({ role: 'customer', account: `c${run}`, label: `test ${run}` });
    assert.match(token, /^npa_[A-Za-z0-9_-]{43}$/);
    const [row] = await sql<RowDataPacket>('SELECT * FROM api_tokens WHERE id = ?', [id]);
    assert.equal(row!.token_hash, crypto.createHash('sha256').update(token).digest('hex'));
    // No column holds the token or its random part.
    const secretPart = token.slice(4);
    assert.ok(!Object.values(row!).some((v) => String(v).includes(secretPart)));
    assert.deepEqual(await repos.tokens.verify(token), { id, role: 'customer', account: `c${run}` });
    const [used] = await sql<RowDataPacket>('SELECT UNIX_TIMESTAMP(last_used_at) AS t FROM api_tokens WHERE id = ?', [id]);
    // Checked in the server's own terms, so a session time zone mix-up would show as hours of drift.
    assert.ok(Math.abs(Number(used!.t) * 1000 - Date.now()) < 60_000, 'last_used_at is now');
    assert.equal(await repos.tokens.verify(`${token.slice(0, -1)}x`), null);
    const listed = (await repos.tokens.list()).find((t) => t.id === id)!;
    assert.ok(!('tokenHash' in listed));
    assert.equal(listed.fingerprint, row!.token_hash.slice(0, 12));
  });

  test('a revoked token no longer verifies', async () => {
    const a = await repos.tokens.create({ role: 'admin', label: `revoke ${run}` });
    const b = await repos.tokens.create({ role: 'admin', label: `revoke by fingerprint ${run}` });
    assert.ok(await repos.tokens.verify(a.token));
    assert.equal(await repos.tokens.revoke(a.id), true);
    assert.equal(await repos.tokens.verify(a.token), null);
    assert.equal(await repos.tokens.revoke(a.id), false, 'revoking twice is a no-op');
    const fp = (await repos.tokens.list()).find((t) => t.id === b.id)!.fingerprint;
    assert.equal(await repos.tokens.revoke(fp), true);
    assert.equal(await repos.tokens.verify(b.token), null);
  });

  test('the bootstrap admin token is stored once and stays revoked once revoked', async () => {
    const plain = `npa_${crypto.randomBytes(32).toString('base64url')}`;
    const first = await repos.tokens.ensureBootstrapAdmin(plain);
    const second = await repos.tokens.ensureBootstrapAdmin(plain);
    assert.equal(first.created, true);
    assert.deepEqual(second, { id: first.id, created: false });
    assert.equal((await repos.tokens.verify(plain))?.role, 'admin');
    await repos.tokens.revoke(first.id);
    await repos.tokens.ensureBootstrapAdmin(plain);
    assert.equal(await repos.tokens.verify(plain), null);
  });
});

describe('accounts', () => {
  const reserve = (username: string, domain: string, workflowId: string) =>
    repos.accounts.reserve({ username, domain, nodeId, workflowId });

  test('reserve conflicts on a taken username or domain, names the holder, and is idempotent per workflow', async () => {
    const user = `r${run}`;
    const domain = `r${run}.test`;
    const first = await reserve(user, domain, `provision-${user}-1`);
    assert.equal(first.status, 'provisioning');
    assert.equal((await reserve(user, domain, `provision-${user}-1`)).id, first.id, 'a retry gets the same row');
    await assert.rejects(reserve(user, `other${run}.test`, `provision-${user}-2`), (err) => {
      assert.ok(err instanceof AccountConflictError);
      assert.equal(err.field, 'username');
      assert.equal(err.workflowId, `provision-${user}-1`);
      return true;
    });
    await assert.rejects(reserve(`o${run}`, domain, `provision-o${run}-1`), (err) => {
      assert.ok(err instanceof AccountConflictError);
      assert.equal(err.field, 'domain');
      return true;
    });
    // A rolled-back account frees its names.
    await repos.accounts.setStatus(user, 'rolled_back', `provision-${user}-1`);
    const again = await reserve(user, domain, `provision-${user}-3`);
    assert.notEqual(again.id, first.id);
    assert.equal(again.workflowId, `provision-${user}-3`);
  });

  test('concurrent reservations of one username: exactly one wins', async () => {
    const user = `k${run}`;
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => reserve(user, `k${i}${run}.test`, `provision-${user}-${i}`)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AccountConflictError, String(r.reason));
    const [count] = await sql<RowDataPacket>('SELECT COUNT(*) AS n FROM accounts WHERE username = ?', [user]);
    assert.equal(Number(count!.n), 1);
  });

  test('resources are recorded, owned, and removed with the account while the audit trail stays', async () => {
    const user = `d${run}`;
    const wf = `provision-${user}-1`;
    await reserve(user, `d${run}.test`, wf);
    await repos.accounts.recordDomain(user, { name: `d${run}.test`, docroot: `/srv/${user}/public` });
    await repos.accounts.recordMailbox(user, { address: `info@d${run}.test`, passwordHash: SHA512 });
    await repos.accounts.recordMailbox(user, { address: `info@d${run}.test`, passwordHash: SHA512 }); // retry
    await repos.accounts.recordFtpUser(user, { username: `${user}ftp`, homeDir: `/srv/${user}`, passwordHash: SHA512 });
    await repos.accounts.recordDatabase(user, { name: `${user}_wp`, dbUser: `${user}_wp` });
    await assert.rejects(repos.accounts.recordMailbox(user, { address: `x@d${run}.test`, passwordHash: 'plain-password' }), /SHA512-crypt/);
    await reserve(`e${run}`, `e${run}.test`, `provision-e${run}-1`);
    await assert.rejects(
      repos.accounts.recordMailbox(`e${run}`, { address: `info@d${run}.test`, passwordHash: SHA512 }),
      ResourceConflictError,
    );
    const res = (await repos.accounts.getResources(user))!;
    assert.deepEqual([res.domains.length, res.mailboxes.length, res.ftpUsers.length, res.databases.length], [1, 1, 1, 1]);
    await repos.audit.append({
      workflowId: wf,
      workflowType: 'provisionAccount',
      step: 'reserve',
      action: 'do',
      outcome: 'ok',
      actor: 'test',
      account: user,
      details: { n: 1, note: 'é' },
    });
    await repos.audit.append({
      workflowId: wf,
      workflowType: 'deprovisionAccount',
      step: 'remove',
      action: 'do',
      outcome: 'ok',
      actor: 'test',
      account: user,
    });

    assert.equal(await repos.accounts.remove(user), true);
    assert.equal(await repos.accounts.get(user), null);
    assert.equal(await repos.accounts.remove(user), false, 'idempotent');
    const [left] = await sql<RowDataPacket>(
      `SELECT (SELECT COUNT(*) FROM domains WHERE name = ?) + (SELECT COUNT(*) FROM mailboxes WHERE address = ?)
        + (SELECT COUNT(*) FROM ftp_users WHERE username = ?) + (SELECT COUNT(*) FROM customer_databases WHERE name = ?) AS n`,
      [`d${run}.test`, `info@d${run}.test`, `${user}ftp`, `${user}_wp`],
    );
    assert.equal(Number(left!.n), 0);
    const trail = await repos.audit.listByWorkflow(wf);
    assert.deepEqual(
      trail.map((e) => e.step),
      ['reserve', 'remove'],
    );
    assert.deepEqual(trail[0]!.details, { n: 1, note: 'é' }, 'JSON reads back as a value');
  });
});

describe('audit retention', () => {
  test('pruneOlderThan deletes only rows before the cutoff, batch by batch', async () => {
    // Far in the past, so rows other tests write now are never in the way.
    const cutoff = new Date('2001-06-01T00:00:00.000Z');
    while ((await repos.audit.pruneOlderThan(cutoff, 1000)) > 0);
    const wf = `prune-${run}`;
    const at = (iso: string) => new Date(iso);
    for (const t of ['2001-01-01', '2001-01-02', '2001-01-03', '2001-01-04', '2001-01-05']) {
      await repos.audit.append({
        workflowId: wf,
        workflowType: 'x',
        step: `old ${t}`,
        action: 'info',
        outcome: 'ok',
        actor: 'test',
        at: at(`${t}T00:00:00Z`),
      });
    }
    await repos.audit.append({
      workflowId: wf,
      workflowType: 'x',
      step: 'at cutoff',
      action: 'info',
      outcome: 'ok',
      actor: 'test',
      at: cutoff,
    });
    await repos.audit.append({
      workflowId: wf,
      workflowType: 'x',
      step: 'recent',
      action: 'info',
      outcome: 'ok',
      actor: 'test',
      at: at('2001-07-01T00:00:00Z'),
    });

    const batches: number[] = [];
    for (let n = -1; n !== 0;) batches.push((n = await repos.audit.pruneOlderThan(cutoff, 2)));
    assert.deepEqual(batches, [2, 2, 1, 0]);
    const kept = await repos.audit.listByWorkflow(wf);
    assert.deepEqual(
      kept.map((e) => e.step),
      ['at cutoff', 'recent'],
    );
    assert.equal(kept[0]!.at.toISOString(), cutoff.toISOString(), 'timestamps round-trip to the millisecond');
  });
});

describe('certificates, migrations, nodes', () => {
  test('a renewal keeps the previous serial and the sweep pages by id', async () => {
    const domains = [1, 2, 3].map((i) => `c${i}${run}.test`);
    const base = { issuer: 'Pebble', notBefore: new Date(), certPath: '/x.crt', keyPath: '/x.key', workflowId: `renew-${run}` };
    for (const d of domains)
      await repos.certificates.recordIssued({ ...base, domain: d, serial: `s1-${d}`, notAfter: new Date('2030-01-01T00:00:00Z') });
    const renewed = await repos.certificates.recordIssued({
      ...base,
      domain: domains[0]!,
      serial: 'S2',
      notAfter: new Date('2040-06-01T00:00:00Z'),
    });
    assert.equal(renewed.previousSerial, `s1-${domains[0]}`);
    assert.equal(renewed.lastOutcome, 'renewed');
    assert.equal(renewed.notAfter?.toISOString(), '2040-06-01T00:00:00.000Z', 'DATETIME passes 2038');
    await repos.certificates.recordFailure({
      domain: domains[1]!,
      outcome: 'rolled_back',
      error: 'nginx -t failed',
      workflowId: `renew-${run}-b`,
    });
    assert.equal((await repos.certificates.get(domains[1]!))?.serial, `s1-${domains[1]}`, 'a failure keeps the served certificate');

    const seen: string[] = [];
    let afterId = 0;
    for (;;) {
      const page = await repos.certificates.listExpiring(new Date('2031-01-01T00:00:00Z'), 2, afterId);
      if (page.length === 0) break;
      assert.ok(page.length <= 2);
      seen.push(...page.map((c) => c.domain));
      afterId = page[page.length - 1]!.id;
    }
    assert.deepEqual(
      seen.filter((d) => domains.includes(d)),
      [domains[1], domains[2]],
    );
    for (const d of domains) await repos.certificates.remove(d);
  });

  test('a migration row is created once and tracks progress', async () => {
    const input = { workflowId: `migrate-${run}`, domain: `m${run}.test`, account: `m${run}`, nodeId, sourceHost: '127.0.0.1' };
    const a = await repos.migrations.create(input);
    const b = await repos.migrations.create(input);
    assert.equal(a.id, b.id);
    await repos.migrations.update(input.workflowId, { status: 'syncing', filesCopied: 10_000, bytesCopied: 5_000_000_000 });
    const row = (await repos.migrations.get(input.workflowId))!;
    assert.deepEqual([row.status, row.filesCopied, row.bytesCopied], ['syncing', 10_000, 5_000_000_000]);
  });

  test('a node registers with its task queue and re-registers idempotently', async () => {
    const first = (await repos.nodes.get(nodeId))!;
    assert.equal(first.taskQueue, `npanel-node-${nodeId}`);
    const again = await repos.nodes.upsert({ id: nodeId, ip: '127.0.0.2' });
    assert.equal(again.ip, '127.0.0.2');
    assert.equal(again.createdAt.getTime(), first.createdAt.getTime());
    await assert.rejects(
      repos.accounts.reserve({ username: `n${run}`, domain: `n${run}.test`, nodeId: `none${run}`, workflowId: 'w' }),
      /not registered/,
    );
  });
});
