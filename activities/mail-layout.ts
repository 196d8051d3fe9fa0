import path from 'node:path';

/**
 * Every path of one hosting node's mail service, under `<node.dir>/mail/` (`NPANEL_MAIL_LAYOUT_ROOT` in
 * production). The mail activities, and the stack's Dovecot and Exim, all read this one map, so a path is
 * named once.
 *
 * The mailbox database is a folder of small files, one per mailbox, domain or suspension (`db/`), not one
 * shared list: Dovecot reads a user's file on every login (dict `fs:posix`, no cache) and Exim checks a
 * recipient with `dsearch` (does a file of that name exist?), so a change is visible to both at once, and
 * concurrent activities on different mailboxes never rewrite the same file.
 */
export interface MailLayout {
  dir: string;
  /** Dovecot's own folder: config files, base_dir, state_dir. */
  dovecotDir: string;
  dovecotConf: string;
  /** dict config that maps a login to `db/users/<user>` (passdb + userdb). */
  dovecotUsersDict: string;
  /** dict config of the deny passdb: a login is refused while `db/suspended/<domain>` exists. */
  dovecotDenyDict: string;
  /** passwd-file holding only the readiness probe user (random password per start). */
  dovecotProbePasswd: string;
  dovecotBaseDir: string;
  dovecotStateDir: string;
  /** Root of the mailbox database (readable by the `dovecot` group; Exim only needs to traverse it). */
  dbDir: string;
  /** `<local>@<domain>`: JSON `{ password, home, uid, gid }`, the passdb and userdb record. */
  usersDir: string;
  /** `<domain>`: exists while the domain is a virtual mail domain (Exim's domain list). */
  domainsDir: string;
  /** `<domain>`: exists while the domain's mailboxes are suspended (deny passdb). */
  suspendedDir: string;
  /** Maildirs: `<vmailDir>/<domain>/<local>/Maildir`, owned by the virtual mail uid. */
  vmailDir: string;
  eximDir: string;
  eximConf: string;
  eximSpool: string;
  eximLogDir: string;
  eximPidFile: string;
  /** The pairs IMAP(S), SMTP/submission and FTPS present: `default.*` and one per domain (activities/mail-tls.ts). */
  tlsDir: string;
  /** Dovecot include: one `local_name` block per domain with a pair in `tlsDir`. */
  dovecotSniConf: string;
}

export function mailLayout(node: { dir: string }): MailLayout {
  const dir = path.join(node.dir, 'mail');
  const dovecotDir = path.join(dir, 'dovecot');
  const dbDir = path.join(dir, 'db');
  const eximDir = path.join(dir, 'exim');
  return {
    dir,
    dovecotDir,
    dovecotConf: path.join(dovecotDir, 'dovecot.conf'),
    dovecotUsersDict: path.join(dovecotDir, 'users-dict.conf.ext'),
    dovecotDenyDict: path.join(dovecotDir, 'deny-dict.conf.ext'),
    dovecotProbePasswd: path.join(dovecotDir, 'probe.passwd'),
    dovecotBaseDir: path.join(dovecotDir, 'run'),
    dovecotStateDir: path.join(dovecotDir, 'state'),
    dbDir,
    usersDir: path.join(dbDir, 'users'),
    domainsDir: path.join(dbDir, 'domains'),
    suspendedDir: path.join(dbDir, 'suspended'),
    vmailDir: path.join(dir, 'vmail'),
    eximDir,
    eximConf: path.join(eximDir, 'exim.conf'),
    eximSpool: path.join(eximDir, 'spool'),
    eximLogDir: path.join(eximDir, 'log'),
    eximPidFile: path.join(eximDir, 'exim.pid'),
    tlsDir: path.join(dir, 'tls'),
    dovecotSniConf: path.join(dovecotDir, 'sni.conf.ext'),
  };
}

/** Numeric owner of every maildir (no system account needed: Dovecot accepts a bare uid >= first_valid_uid). */
export const VMAIL_UID = 5000;
export const VMAIL_GID = 5000;
