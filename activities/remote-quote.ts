import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../common/failure-types';

/**
 * The ONE way a command reaches a remote shell (ssh2 exec runs it through the login shell of the source).
 * Every remote command is an argv array: the program must be a plain name from a short allowlist, and every
 * argument is validated (string, no NUL, bounded length) and wrapped in POSIX single quotes, where nothing is
 * special except the single quote itself, which is written as '\''. No caller pastes strings together.
 */

/** Programs a migration runs on a source; anything else is a programming error, refused before it leaves. */
const PROGRAMS = new Set(['find', 'df', 'du', 'sha256sum', 'xargs', 'mysqldump', 'mysql', 'test', 'cat', 'tar', 'true', 'printf', 'stat']);
const MAX_ARG = 64 * 1024;

function refuse(message: string): never {
  throw ApplicationFailure.nonRetryable(message, FAILURE.RemoteCommandInvalid);
}

/** Quotes one argument for a POSIX shell; throws for anything a shell cannot carry as a literal word. */
export function quoteArg(arg: unknown): string {
  if (typeof arg !== 'string') refuse(`remote argument must be a string, got ${typeof arg}`);
  if (arg.includes('\0')) refuse('remote argument contains a NUL byte');
  if (arg.length > MAX_ARG) refuse(`remote argument longer than ${MAX_ARG} characters`);
  // Plain words are left bare only for readability in logs; quoting them would be just as safe.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * One remote command line from a program and its arguments. `pipeTo` chains a second argv with `|` (the only
 * operator we need: `xargs -0 sha256sum` reading a list from stdin is a single argv, so this stays rare).
 */
export function remoteCommand(argv: readonly string[], ...pipeTo: (readonly string[])[]): string {
  return [argv, ...pipeTo].map(commandWords).join(' | ');
}

function commandWords(argv: readonly string[]): string {
  if (!Array.isArray(argv) || argv.length === 0) refuse('remote command must be a non-empty argv array');
  const [program, ...args] = argv;
  if (typeof program !== 'string' || !PROGRAMS.has(program)) refuse(`remote program ${JSON.stringify(program)} is not allowed`);
  return [program, ...args.map(quoteArg)].join(' ');
}

/** An absolute POSIX path with no `..` component and no control characters: what a source docroot may be. */
export function checkRemotePath(value: unknown, what: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > 4096) refuse(`${what} must be an absolute path`);
  if (/[\x00-\x1f\x7f]/.test(value)) refuse(`${what} contains control characters`);
  if (value.split('/').some((part) => part === '..')) refuse(`${what} must not contain '..'`);
  return value.replace(/\/+$/, '') || '/';
}
