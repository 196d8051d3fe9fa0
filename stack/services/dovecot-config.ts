import type { MailLayout } from '../../activities/mail-layout';

export interface DovecotConfigInput {
  layout: MailLayout;
  /** Unique per stack and node: `doveadm` and the log prefix find this instance by it. */
  instanceName: string;
  /** Name in the LMTP greeting and in Received headers (the machine's own name means nothing here). */
  hostname: string;
  imapPort: number;
  /** IMAP over TLS from the first byte. */
  imapsPort: number;
  lmtpPort: number;
  /** The pair for names without one of their own (and clients without SNI). */
  defaultCert: string;
  defaultKey: string;
  /** Group of the Exim daemon, which reads the mailbox records too (submission logins). */
  eximGroup: string;
  vmailUid: number;
  vmailGid: number;
  /**
   * Slow down failed logins (auth_failure_delay 2 s plus anvil's per-IP penalty growing to 15 s). Right for
   * production; the dev stack turns it off because every client there is 127.0.0.1 and tests refuse logins
   * on purpose (four refusals in a row would otherwise cost ~15 s).
   */
  bruteForceDelays: boolean;
}

/** Paths go into the config verbatim: refuse anything that could break out of a value (quotes, newlines). */
function safePath(p: string): string {
  if (!/^\/[A-Za-z0-9._/@+-]*$/.test(p)) throw new Error(`unsafe path for dovecot config: ${JSON.stringify(p)}`);
  return p;
}

/** Host names and the instance name: lowercase letters, digits, dots and dashes only. */
function safeToken(h: string): string {
  if (!/^[a-z0-9.-]+$/.test(h)) throw new Error(`unsafe name for dovecot config: ${JSON.stringify(h)}`);
  return h;
}

/** A system group name (Debian's Exim group has a capital letter). */
function safeGroup(g: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(g)) throw new Error(`unsafe group for dovecot config: ${JSON.stringify(g)}`);
  return g;
}

/**
 * The standalone Dovecot config of one node (`dovecot -F -c <conf>`): IMAP and LMTP on loopback only, virtual
 * users from the file-per-user database the mail activities keep.
 *
 * Why the `dict` driver over `fs:posix` and not `passwd-file`: Dovecot re-checks a passwd-file at most once
 * per second, so a mailbox added or a password changed in the same second as an earlier lookup
 * stays invisible for up to a second. Worse, per Dovecot's source it then reloads only when the mtime (whole
 * seconds) or the size changed, and a `$6$` hash has a fixed length: a password change written in the same
 * second as a read could go unseen until the next change. The fs dict opens the user's file on every lookup
 * (no cache: auth_cache_size stays 0), so a mailbox works the moment its file is renamed into place
 * (measured: a login 16 ms after ensureMailbox, in the same second as a failed lookup of that user).
 */
export function renderDovecotConfig(i: DovecotConfigInput): string {
  const l = i.layout;
  return `# Written by npanel at every start: edit stack/services/dovecot-config.ts, not this file.
instance_name = ${safeToken(i.instanceName)}
base_dir = ${safePath(l.dovecotBaseDir)}
state_dir = ${safePath(l.dovecotStateDir)}
listen = 127.0.0.1
hostname = ${safeToken(i.hostname)}
protocols = imap lmtp
# Logs go to stderr, which startDaemon sends to <logDir>/<name>.log.
log_path = /dev/stderr
info_log_path = /dev/stderr
# TLS on both ports: STARTTLS on IMAP, TLS from the first byte on IMAPS; each domain's own pair by SNI
# (local_name blocks in the include below), the node's pair otherwise. Without TLS no login is offered
# (LOGINDISABLED), except where Dovecot calls the connection secure: local and remote address equal.
ssl = yes
ssl_cert = <${safePath(i.defaultCert)}
ssl_key = <${safePath(i.defaultKey)}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
# Logins are case-insensitive: every lookup key (file name) is the lowercased user@domain.
auth_username_format = %Lu
# Even at 0 a refusal takes ~0.5 s: Dovecot sends failures from a 500 ms timer.
auth_failure_delay = ${i.bruteForceDelays ? 2 : 0} secs
auth_cache_size = 0

mail_location = maildir:~/Maildir
mail_uid = ${i.vmailUid}
mail_gid = ${i.vmailGid}
first_valid_uid = ${i.vmailUid}
last_valid_uid = ${i.vmailUid}
first_valid_gid = ${i.vmailGid}
last_valid_gid = ${i.vmailGid}

namespace inbox {
  inbox = yes
  separator = /
}

# Deny first: while <suspended>/<domain> exists no mailbox of that domain may log in (mail still arrives).
passdb {
  driver = dict
  args = ${safePath(l.dovecotDenyDict)}
  deny = yes
}
# The readiness probe user only (its random password is written at each start, before the daemon starts).
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT ${safePath(l.dovecotProbePasswd)}
}
passdb {
  driver = dict
  args = ${safePath(l.dovecotUsersDict)}
}
userdb {
  driver = dict
  args = ${safePath(l.dovecotUsersDict)}
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${i.imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${i.imapsPort}
    ssl = yes
  }
  # A dev stack: few idle processes keep the resident set small.
  process_min_avail = 0
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${i.lmtpPort}
  }
  unix_listener lmtp {
    mode = 0600
  }
}
service imap {
  process_limit = 64
}
${
  i.bruteForceDelays
    ? ''
    : `# Auth can not reach anvil's penalty socket, which turns the per-IP penalty off (Dovecot's documented way).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`
}service auth {
  # The mailbox records are group Exim (it checks submission logins against them, activities/mail.ts).
  extra_groups = ${safeGroup(i.eximGroup)}
  unix_listener auth-userdb {
    mode = 0600
  }
}
protocol lmtp {
  # Deliver to user@domain as given by Exim (no domain stripping).
  lmtp_save_to_detail_mailbox = no
}
# One local_name block per domain with its own certificate (rewritten and reloaded when one changes).
!include_try ${safePath(l.dovecotSniConf)}
`;
}

/**
 * dict config mapping a login to its record `<usersDir>/<user@domain>`: JSON `{ password, home }`, used whole
 * by both passdb and userdb. `passdb_fields`/`userdb_fields` with `%{dict:user.x}` would pick single fields,
 * but they crash the auth worker of Dovecot 2.3.19 (SIGSEGV, measured), so both take the whole object: the
 * userdb then also carries `password`, which Dovecot keeps as a hidden plugin setting of the user's own
 * session (logged as `<hidden>`), and the passdb carries `home`, which it ignores.
 */
export function renderUsersDict(l: MailLayout): string {
  return `uri = fs:posix:prefix=${safePath(l.usersDir)}/
iterate_disable = yes
default_pass_scheme = SHA512-CRYPT
key user {
  key = %u
  format = json
}
passdb_objects = user
userdb_objects = user
`;
}

/** dict config of the deny passdb: found (so refused) while `<suspendedDir>/<domain>` exists. */
export function renderDenyDict(l: MailLayout): string {
  return `uri = fs:posix:prefix=${safePath(l.suspendedDir)}/
iterate_disable = yes
key suspended {
  key = %d
  format = json
}
passdb_objects = suspended
`;
}
