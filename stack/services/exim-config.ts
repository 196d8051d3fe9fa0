import type { MailLayout } from '../../activities/mail-layout';

export interface EximConfigInput {
  layout: MailLayout;
  smtpPort: number;
  /** Mail submission: STARTTLS, then AUTH; the only port that relays, and only after AUTH. */
  submissionPort: number;
  lmtpPort: number;
  /** Name in the greeting and Received headers; set so Exim never asks DNS for its own name. */
  hostname: string;
}

/** Paths and names go into the config verbatim: refuse anything that could end a value or start a new line. */
function safe(value: string, what: string): string {
  if (!/^[A-Za-z0-9._/@+-]+$/.test(value)) throw new Error(`unsafe ${what} for exim config: ${JSON.stringify(value)}`);
  return value;
}

/** Pair for the name the client asked for (SNI), from `tlsDir`; the node's default pair otherwise. */
function tlsFile(l: MailLayout, ext: 'crt' | 'key'): string {
  const dir = safe(l.tlsDir, 'path');
  // dsearch takes the tainted SNI as a key (it refuses `/`) and returns an untainted path (ret=full).
  return `\${if def:tls_in_sni {\${lookup{\${lc:$tls_in_sni}.${ext}}dsearch,ret=full,filter=file{${dir}}{$value}{${dir}/default.${ext}}}}{${dir}/default.${ext}}}`;
}

/**
 * True when `user` and `password` (expansion variables) are a mailbox's login: the address has a record in
 * `db/users/` whose SHA512-crypt hash matches, and its domain is not suspended. The same records and the
 * same deny rule Dovecot applies to IMAP logins (dovecot-config.ts): one mailbox database for both.
 */
function loginCondition(l: MailLayout, user: string, password: string): string {
  const users = safe(l.usersDir, 'path');
  const suspended = safe(l.suspendedDir, 'path');
  const hash = `\${extract jsons{password}{\${lookup{\${lc:${user}}}dsearch,ret=full,filter=file{${users}}{\${readfile{$value}}}{}}}}`;
  return `\${if and{ {match{${user}}{\\N^[^@/]+@[^@/]+$\\N}} {eq{\${lookup{\${lc:\${domain:${user}}}}dsearch{${suspended}}{yes}{no}}}{no}} {!eq{${hash}}{}} {crypteq{${password}}{\\{crypt\\}${hash}}} }}`;
}

/**
 * A private Exim config (`exim4 -C <conf> -bdf`) for one node: SMTP on loopback that accepts mail only for
 * mailboxes that exist and hands it to Dovecot over LMTP.
 *
 * - Recipients are checked at RCPT (`verify = recipient` runs the router): the domain must have a file in
 *   `db/domains/` and the mailbox a file in `db/users/` (`dsearch` = "does a file of that name exist?"). Both
 *   are read on every check, so a mailbox accepts mail as soon as the activity has written it. Anything else,
 *   relaying included, gets a 550 at RCPT: no bounce is ever made for an unknown address.
 * - Exim 4.96 refuses tainted data (what the client sent) in file names; `dsearch` takes the tainted address
 *   as a key (it rejects `/`) and the folder is a constant, so no taint error is possible.
 * - Port 25 takes mail for local mailboxes only, authenticated or not. The submission port takes nothing
 *   before AUTH, AUTH is offered only after STARTTLS, and after AUTH any recipient is accepted (relaying).
 * - TLS on both ports (STARTTLS), with the pair of the name the client asked for (SNI, `tlsFile`): Exim
 *   expands tls_certificate per connection, so a pair written into `tlsDir` is served at the next handshake.
 * - Delivery is LMTP to Dovecot, not a maildir transport: under `-C` Exim drops root, so it could not write
 *   maildirs as the virtual uid; Dovecot's LMTP does that for it and applies its own userdb.
 */
export function renderEximConfig(i: EximConfigInput): string {
  const l = i.layout;
  return `# Written by npanel at every start: edit stack/services/exim-config.ts, not this file.
primary_hostname = ${safe(i.hostname, 'hostname')}
qualify_domain = ${safe(i.hostname, 'hostname')}
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = ${i.smtpPort} : ${i.submissionPort}
spool_directory = ${safe(l.eximSpool, 'path')}
log_file_path = ${safe(l.eximLogDir, 'path')}/%slog
pid_file_path = ${safe(l.eximPidFile, 'path')}
# No DNS on loopback: no reverse lookups of clients, no ident queries.
host_lookup =
rfc1413_hosts =
tls_advertise_hosts = *
tls_certificate = ${tlsFile(l, 'crt')}
tls_privatekey = ${tlsFile(l, 'key')}
# Only submission offers AUTH (and only after STARTTLS: see the authenticators).
auth_advertise_hosts = *
keep_environment =
message_size_limit = 50M
smtp_accept_max = 20
smtp_banner = $smtp_active_hostname ESMTP npanel
# Deliver right after the message is accepted; a queue runner (-q) retries what LMTP deferred.
queue_only = false
never_users = root

domainlist virtual_domains = dsearch;${safe(l.domainsDir, 'path')}

acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl

acl_check_rcpt:
  deny    message = restricted characters in address
          local_parts = ^[./|] : ^.*[@%!/|] : ^.*/\\\\.\\\\./
  deny    message = authentication required
          condition = \${if eq{$received_port}{${i.submissionPort}}}
          !authenticated = *
  accept  condition = \${if eq{$received_port}{${i.submissionPort}}}
          authenticated = *
  accept  domains = +virtual_domains
          verify = recipient
  deny    message = no such mailbox or relay not permitted

acl_check_data:
  accept

begin routers

virtual_mailbox:
  driver = accept
  domains = +virtual_domains
  condition = \${lookup{\${lc:$local_part@$domain_data}}dsearch{${safe(l.usersDir, 'path')}}{yes}{no}}
  transport = dovecot_lmtp
  no_more

# Only authenticated submissions reach other domains (the RCPT ACL refuses them on port 25).
remote:
  driver = dnslookup
  domains = ! +virtual_domains
  ignore_target_hosts = 0.0.0.0 : 127.0.0.0/8
  transport = remote_smtp
  no_more

begin transports

remote_smtp:
  driver = smtp

dovecot_lmtp:
  driver = smtp
  protocol = lmtp
  hosts = 127.0.0.1
  port = ${i.lmtpPort}
  hosts_override
  # Dovecot listens on this very host: without this Exim would call it a mail loop.
  allow_localhost

begin retry

*   *   F,2h,1m; F,1d,15m

begin rewrite

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_advertise_condition = \${if and{ {def:tls_in_cipher} {eq{$received_port}{${i.submissionPort}}} }}
  server_condition = ${loginCondition(l, '$auth2', '$auth3')}
  server_set_id = \${lc:$auth2}

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_advertise_condition = \${if and{ {def:tls_in_cipher} {eq{$received_port}{${i.submissionPort}}} }}
  server_condition = ${loginCondition(l, '$auth1', '$auth2')}
  server_set_id = \${lc:$auth1}
`;
}
