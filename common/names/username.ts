import { z } from 'zod';
import { publishedRefusal, typedName } from './characters';

/**
 * The one rule for an account's username: short and starting with a letter, since it is also the FTP login,
 * a folder name and the prefix of the account's database names.
 */
export const USERNAME_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
export const USERNAME_RULE = 'must be 1-16 lowercase letters and digits, starting with a letter';

/** Names a customer may not take: system users, daemons and NPanel's own. */
export const RESERVED_USERNAMES = new Set([
  'root',
  'admin',
  'administrator',
  'daemon',
  'bin',
  'sys',
  'sync',
  'games',
  'man',
  'lp',
  'mail',
  'news',
  'uucp',
  'proxy',
  'www',
  'wwwdata',
  'backup',
  'list',
  'irc',
  'gnats',
  'nobody',
  'systemd',
  'messagebus',
  'sshd',
  'mysql',
  'mariadb',
  'postgres',
  'nginx',
  'apache',
  'httpd',
  'dovecot',
  'dovenull',
  'exim',
  'debian',
  'pdns',
  'powerdns',
  'ftp',
  'pureftpd',
  'vmail',
  'postmaster',
  'hostmaster',
  'webmaster',
  'abuse',
  'npanel',
  'npanelsrc',
  'temporal',
  'localhost',
  'operator',
]);

/** A username as the API receives it (trimmed, lowercased); the pattern stays visible in the OpenAPI document. */
export const usernameSchema = typedName()
  .regex(USERNAME_PATTERN, USERNAME_RULE)
  .refine((v) => !RESERVED_USERNAMES.has(v), 'is a reserved name')
  .meta(publishedRefusal(RESERVED_USERNAMES));

/** A username in its stored form (what activities receive): the same rule, nothing folded. */
export function isUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME_PATTERN.test(value) && !RESERVED_USERNAMES.has(value);
}
