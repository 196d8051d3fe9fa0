import type { MailLayout } from '../../activities/mail-layout';

export interface EximConfigInput {
  layout: MailLayout;
  smtpPort: number;
  lmtpPort: number;
  /** Name in the greeting and Received headers; set so Exim never asks DNS for its own name. */
  hostname: string;
}

/** Paths and names go into the config verbatim: refuse anything that could end a value or start a new line. */
function safe(value: string, what: string): string {
  if (!/^[A-Za-z0-9._/@+-]+$/.test(value)) throw new Error(`unsafe ${what} for exim config: ${JSON.stringify(value)}`);
  return value;
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
 * - Delivery is LMTP to Dovecot, not a maildir transport: under `-C` Exim drops root, so it could not write
 *   maildirs as the virtual uid; Dovecot's LMTP does that for it and applies its own userdb.
 */
export function renderEximConfig(i: EximConfigInput): string {
  const l = i.layout;
  return `# Written by npanel at every start: edit stack/services/exim-config.ts, not this file.
primary_hostname = ${safe(i.hostname, 'hostname')}
qualify_domain = ${safe(i.hostname, 'hostname')}
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = ${i.smtpPort}
spool_directory = ${safe(l.eximSpool, 'path')}
log_file_path = ${safe(l.eximLogDir, 'path')}/%slog
pid_file_path = ${safe(l.eximPidFile, 'path')}
# No DNS on loopback: no reverse lookups of clients, no ident queries, no TLS offered.
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
# Never offered (above), but Exim 4.96 loads server TLS credentials at start anyway and, without these,
# generates a self-signed RSA pair each time: ~220 ms of a ~250 ms start (measured).
tls_certificate = ${safe(l.eximTlsCert, 'path')}
tls_privatekey = ${safe(l.eximTlsKey, 'path')}
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

begin transports

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
`;
}
