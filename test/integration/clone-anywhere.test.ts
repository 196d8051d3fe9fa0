import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import mysql from 'mysql2/promise';
import { repoRoot } from '../../config/load';
import type { StackSecrets } from '../../stack/context';
import type { StackFile } from '../../stack/stack-file';
import { CLONES_STATE_DIR, daemonPathProblem } from '../../stack/state-home';

/**
 * A newcomer clones wherever they like (issue 12): in /root (0700: MariaDB as `mysql` and nginx's workers
 * cannot enter) or in /tmp (1777: sshd's StrictModes refuses the source's keys). Each copy of this clone is
 * brought up through the real CLI on ports of its own; the stack must come up with every service answering,
 * say where its state went, and stop cleanly.
 */

const execFileP = promisify(execFile);
const PORT_BASE = 28300;
const made: string[] = [];
after(() => {
  for (const dir of made.reverse()) fs.rmSync(dir, { recursive: true, force: true });
});

/** This clone (its build and a hard-linked node_modules, no stack state) copied to `dir`. */
function copyClone(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  made.push(dir);
  const root = repoRoot();
  execFileSync(
    'sh',
    ['-c', 'tar --exclude="./.npanel*" --exclude=./node_modules --exclude=./.git -cf - . | tar -xf - -C "$1"', 'sh', dir],
    { cwd: root },
  );
  execFileSync('cp', ['-al', path.join(root, 'node_modules'), path.join(dir, 'node_modules')]);
}

async function cli(clone: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.NPANEL_HOME; // the default home is what is under test
  return execFileP(process.execPath, [path.join(clone, 'dist', 'cli', 'main.js'), ...args], { env, timeout: 200_000 });
}

test('the rule: /root and /tmp are named with the reason, a root-owned 0755 path is fine', () => {
  assert.match(daemonPathProblem('/root/npanel') ?? '', /^\/root cannot be traversed by others \(mode 0700/);
  assert.match(daemonPathProblem('/tmp/npanel') ?? '', /^\/tmp is writable by group or others \(mode 1777/);
  assert.equal(daemonPathProblem('/var/lib/npanel/clones/x'), null);
});

for (const parent of ['/root', '/tmp']) {
  test(
    `a clone in ${parent} comes up, every service answers, its state lives where the daemons reach it, and it stops`,
    { timeout: 300_000 },
    async () => {
      const clone = path.join(parent, `npanel-clone-${crypto.randomBytes(3).toString('hex')}`);
      copyClone(clone);
      const up = await cli(clone, 'up', '--detach', '--port-base', String(PORT_BASE));
      const said = /stack state lives in (\S+) \(the daemons cannot use the clone: (.+)\)/.exec(up.stderr);
      assert.ok(said, `up did not say where the state went: ${up.stderr}`);
      const [, stateRoot, reason] = said;
      made.push(stateRoot!);
      assert.ok(stateRoot!.startsWith(`${CLONES_STATE_DIR}/`), stateRoot);
      assert.equal(fs.readFileSync(path.join(stateRoot!, 'clone'), 'utf8'), `${clone}\n`);
      assert.match(reason!, new RegExp(`^${parent} `));
      const home = path.join(stateRoot!, '.npanel');
      try {
        assert.match(up.stdout, new RegExp(`NPanel is up \\(state in ${home.replace(/[.]/g, '\\.')}\\)`));
        const status = await cli(clone, 'status');
        const lines = status.stdout.trim().split('\n');
        assert.ok(lines.length >= 10 && lines.every((l) => l.startsWith('up ')), status.stdout);
        // MariaDB (the daemon /root kept out) takes a real login with the stack's admin password.
        const stack = JSON.parse(fs.readFileSync(path.join(home, 'stack.json'), 'utf8')) as StackFile;
        const secrets = JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')) as StackSecrets;
        const conn = await mysql.createConnection({
          host: '127.0.0.1',
          port: stack.mysql.port,
          user: 'npanel_admin',
          password: secrets.mysqlAdminPassword,
        });
        assert.deepEqual((await conn.query('SELECT 1 AS one'))[0], [{ one: 1 }]);
        await conn.end();
      } finally {
        await cli(clone, 'down');
      }
      assert.equal(fs.existsSync(path.join(clone, '.npanel')), false, 'nothing of the stack was written into the clone');
    },
  );
}
