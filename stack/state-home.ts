import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../config/load';

/**
 * Where a stack keeps its daemons' state. The daemons do not run as root: MariaDB runs as `mysql`, nginx's
 * workers as `nobody`, and sshd (the migration source) refuses keys below a folder others may write
 * (StrictModes). So every folder above a stack home must be owned by root, traversable by everyone and
 * writable by no one else. A clone in /root (0700) or /tmp (1777) is not such a place; its stacks then live in
 * a folder of its own under CLONES_STATE_DIR (a file `clone` in it names the clone), and `up` says so.
 */

/** Why the daemons cannot use `dir` (the first folder above it that stops them), or null when they can. */
export function daemonPathProblem(dir: string): string | null {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.uid !== 0) return `${d} is owned by uid ${st.uid}, not root (sshd StrictModes refuses keys below it)`;
      if ((st.mode & 0o022) !== 0) return `${d} is writable by group or others (mode ${mode}; sshd StrictModes refuses keys below it)`;
      if ((st.mode & 0o001) === 0)
        return `${d} cannot be traversed by others (mode ${mode}; MariaDB runs as mysql, nginx workers as nobody)`;
    }
    if (d === path.dirname(d)) return null;
  }
}

/** Short on purpose: a home's longest Unix socket path must stay within the kernel's 108 bytes (see below). */
export const CLONES_STATE_DIR = '/var/lib/npanel/c';

/**
 * The longest socket below a home is Dovecot's `<home>/nodes/b/mail/dovecot/run/token-login/imap-urlauth`
 * (50 bytes after the home); sun_path holds 107 plus the NUL. A longer home fails at Dovecot's start with
 * "File name too long", so it is refused before anything starts.
 */
const MAX_HOME_LENGTH = 107 - '/nodes/b/mail/dovecot/run/token-login/imap-urlauth'.length;

let cached: { root: string; reason: string | null } | undefined;

/** The folder stack homes go in: the clone itself when the daemons can reach it, else one under CLONES_STATE_DIR. */
export function stateRoot(): { root: string; reason: string | null } {
  if (cached) return cached;
  const repo = fs.realpathSync(repoRoot());
  const reason = daemonPathProblem(repo);
  if (reason === null) return (cached = { root: repo, reason });
  // One folder per clone (two clones never share state); its `clone` file tells an operator whose it is.
  const id = crypto.createHash('sha256').update(repo).digest('hex').slice(0, 8);
  const root = path.join(CLONES_STATE_DIR, id);
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(root, 'clone'), `${repo}\n`);
  return (cached = { root, reason });
}

/** A named stack home (`.npanel`, `.npanel-test`, …) of this clone. */
export function stackHome(name: string): string {
  return path.join(stateRoot().root, name);
}

/** Before any daemon starts: a home the daemons cannot use is one clear error saying what to change. */
export function assertDaemonsCanUse(home: string): void {
  const problem =
    home.length > MAX_HOME_LENGTH
      ? `the path is ${home.length} bytes long; Unix sockets below it need it within ${MAX_HOME_LENGTH}`
      : daemonPathProblem(home);
  if (problem)
    throw new Error(
      `the stack home ${home} cannot hold daemon state: ${problem}. Choose another --home (for example under /var/lib), or leave --home out`,
    );
}
