import { Transform } from 'node:stream';
import { SYSTEM_DATABASES } from '../common/names/database';
import { DumpLexer, DumpRefused, type LexedStatement, type Token } from './sql-dump-lexer';

export { DumpRefused } from './sql-dump-lexer';

/**
 * The policy for SQL dumps from outside (a migration source, a customer's backup): every statement is read
 * (sql-dump-lexer), checked against an allowlist of what a dump of one database needs, and its DEFINER clauses are
 * rewritten to the account's own database user. Anything else — other databases, users, grants, files, global
 * settings, plugins, client commands, dynamic SQL at the top level — is refused with a DumpRefused naming the
 * statement kind, never its data. The login that runs the result can reach only the target database anyway; the
 * guard keeps a hostile dump from even trying, and says why it stopped.
 */

export interface DumpGuardOptions {
  /** The database the dump is loaded into. */
  database: string;
  /** The source's name for it: names qualified with it (views store them) are rewritten to `database`. */
  sourceDatabase?: string;
  /** Every DEFINER becomes this account. */
  definer: { user: string; host: string };
}

export interface GuardedStatement {
  /** One statement, no delimiter, latin1 (one char per byte: encode with 'latin1' to get the dump's bytes). */
  sql: string;
  /** What it is, from keywords only ("INSERT", "CREATE TABLE"): safe to put in an error message. */
  kind: string;
}

/** Objects a dump of one database creates, drops or alters. */
const OBJECTS = new Set(['TABLE', 'VIEW', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'INDEX', 'SEQUENCE']);
const OTHER_OBJECTS = new Set(['DATABASE', 'SCHEMA', 'USER', 'ROLE', 'SERVER', 'TABLESPACE', 'LOGFILE', 'PACKAGE', 'PLUGIN']);

/** Top-level statements that need nothing beyond the target database. */
const PLAIN_STATEMENTS = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE', 'SELECT', 'TRUNCATE', 'COMMIT', 'ROLLBACK', 'SAVEPOINT']);

/** mysql client commands: never SQL, and with a shell (`system`) or a file (`source`) behind some of them. */
const CLIENT_COMMANDS = new Set([
  'SOURCE',
  'SYSTEM',
  'CONNECT',
  'TEE',
  'NOTEE',
  'PAGER',
  'NOPAGER',
  'PROMPT',
  'REHASH',
  'CHARSET',
  'WARNINGS',
  'NOWARNING',
  'EGO',
  'GO',
  'PRINT',
  'CLEAR',
  'EDIT',
  'EXIT',
  'QUIT',
  'STATUS',
  'DELIMITER',
]);

/** Statement keywords a refusal may name (a word outside this list could be data: it is not echoed). */
const KNOWN_STATEMENTS = new Set([
  'CALL',
  'PREPARE',
  'EXECUTE',
  'DEALLOCATE',
  'DO',
  'HANDLER',
  'FLUSH',
  'SHUTDOWN',
  'KILL',
  'RESET',
  'PURGE',
  'CHANGE',
  'SHOW',
  'DESCRIBE',
  'DESC',
  'EXPLAIN',
  'ANALYZE',
  'OPTIMIZE',
  'REPAIR',
  'CHECK',
  'CHECKSUM',
  'BINLOG',
  'CACHE',
  'XA',
  'HELP',
  'BACKUP',
  'GET',
  'SIGNAL',
  'RESIGNAL',
  'VALUES',
  'WITH',
  'TABLE',
  'BEGIN',
  'START',
  'LOCK',
  'UNLOCK',
  'RENAME',
  'USE',
  'STOP',
  'RELEASE',
  'INSTALL',
  'UNINSTALL',
  'LOAD',
]);

/** Session variables mysqldump sets; any other system variable is refused. */
const SESSION_VARIABLES = new Set([
  'sql_mode',
  'character_set_client',
  'character_set_results',
  'character_set_connection',
  'collation_connection',
  'time_zone',
  'foreign_key_checks',
  'unique_checks',
  'sql_notes',
  'note_verbosity',
  'autocommit',
  'check_constraint_checks',
  'sql_quote_show_create',
]);

/**
 * sql_mode flags that leave the lexer's reading intact. NO_BACKSLASH_ESCAPES and ANSI_QUOTES (and the modes
 * that imply them, ORACLE among them) change where strings and names end: under them the server would read
 * the text differently from this guard.
 */
const SAFE_SQL_MODES = new Set([
  '',
  'NO_AUTO_VALUE_ON_ZERO',
  'STRICT_TRANS_TABLES',
  'STRICT_ALL_TABLES',
  'NO_ZERO_IN_DATE',
  'NO_ZERO_DATE',
  'ERROR_FOR_DIVISION_BY_ZERO',
  'NO_AUTO_CREATE_USER',
  'NO_ENGINE_SUBSTITUTION',
  'ONLY_FULL_GROUP_BY',
  'TRADITIONAL',
  'REAL_AS_FLOAT',
  'PIPES_AS_CONCAT',
  'IGNORE_SPACE',
  'NO_DIR_IN_CREATE',
  'NO_KEY_OPTIONS',
  'NO_TABLE_OPTIONS',
  'NO_FIELD_OPTIONS',
  'NO_UNSIGNED_SUBTRACTION',
  'HIGH_NOT_PRECEDENCE',
  'PAD_CHAR_TO_FULL_LENGTH',
  'SIMULTANEOUS_ASSIGNMENT',
  'TIME_ROUND_FRACTIONAL',
  'ALLOW_INVALID_DATES',
  'EMPTY_STRING_IS_NULL',
  'MYSQL323',
  'MYSQL40',
]);

/**
 * Client character sets in which every byte of a multi-byte character is ≥ 0x80: no quote or backslash can
 * hide inside one (GBK, Big5, SJIS and CP932 can: they are refused).
 */
const SAFE_CHARSETS = new Set([
  'utf8mb4',
  'utf8mb3',
  'utf8',
  'latin1',
  'latin2',
  'latin5',
  'latin7',
  'ascii',
  'binary',
  'cp1250',
  'cp1251',
  'cp1252',
  'cp1256',
  'cp1257',
  'cp850',
  'cp852',
  'cp866',
  'greek',
  'hebrew',
  'koi8r',
  'koi8u',
  'swe7',
  'armscii8',
  'geostd8',
  'keybcs2',
  'macce',
  'macroman',
  'dec8',
  'hp8',
  'tis620',
  'ujis',
  'euckr',
  'eucjpms',
]);

/** User variables mysqldump saves the parser state in: they may hold only what @@sql_mode or the charset held. */
const PARSER_STATE_SAVES: Record<string, string> = {
  OLD_SQL_MODE: 'SQL_MODE',
  SAVED_SQL_MODE: 'SQL_MODE',
  OLD_CHARACTER_SET_CLIENT: 'CHARACTER_SET_CLIENT',
  SAVED_CS_CLIENT: 'CHARACTER_SET_CLIENT',
};
const PARSER_STATE_VARIABLES = new Set(['SQL_MODE', 'CHARACTER_SET_CLIENT']);

/** Keywords after which a name is a table (or routine, view…), so `x.y` there is database `x`. */
const TABLE_POSITION = new Set([
  'FROM',
  'JOIN',
  'INTO',
  'UPDATE',
  'TABLE',
  'TABLES',
  'TO',
  'REFERENCES',
  'TRUNCATE',
  'VIEW',
  'TRIGGER',
  'PROCEDURE',
  'FUNCTION',
  'EVENT',
  'CALL',
  'LIKE',
  'DESCRIBE',
  'EXISTS',
  'SEQUENCE',
  'STRAIGHT_JOIN',
  'USE',
]);
/** Words inside a table list (`FROM a AS x, b`, `LOCK TABLES a WRITE, b READ`) that do not end it. */
const TABLE_LIST_WORDS = new Set(['AS', 'READ', 'WRITE', 'LOCAL', 'LOW_PRIORITY']);
/** Words that end a table list when walking back from a comma. */
const CLAUSE_WORDS = new Set([
  'SELECT',
  'WHERE',
  'ON',
  'BY',
  'SET',
  'VALUES',
  'VALUE',
  'HAVING',
  'AND',
  'OR',
  'XOR',
  'NOT',
  'WHEN',
  'THEN',
  'ELSE',
  'RETURN',
  'RETURNS',
  'IF',
  'IN',
  'IS',
  'NULL',
  'LIMIT',
  'GROUP',
  'ORDER',
  'CASE',
  'END',
  'DISTINCT',
  'USING',
  'KEY',
  'INDEX',
  'PRIMARY',
  'UNIQUE',
  'CONSTRAINT',
  'DEFAULT',
  'COLUMN',
  'ADD',
  'MODIFY',
  'WINDOW',
  'PARTITION',
  'DECLARE',
  'FETCH',
  'CURSOR',
  'LEAVE',
  'ITERATE',
  'CALL',
  'INSERT',
  'REPLACE',
  'DELETE',
  'BEGIN',
  'DO',
]);
/** Tokens after which a new statement starts inside a compound statement (for SET PASSWORD in a body). */
const BODY_STATEMENT_START = new Set(['BEGIN', 'THEN', 'ELSE', 'DO', 'LOOP', 'REPEAT']);

const up = (t: Token | undefined) => t?.upper;
const isPunct = (t: Token | undefined, p: string) => t?.type === 'punct' && t.text === p;
const isName = (t: Token | undefined) => t !== undefined && (t.type === 'word' || t.type === 'qid' || t.type === 'dqs');
const quoteId = (s: string) => `\`${s.replace(/`/g, '``')}\``;
const refuse = (kind: string): never => {
  throw new DumpRefused(kind);
};

interface Rewrite {
  start: number;
  end: number;
  text: string;
}

/** Checks one statement and returns it with its rewrites applied; throws DumpRefused. */
export function guardStatement(st: LexedStatement, opts: DumpGuardOptions): GuardedStatement {
  const t = st.tokens;
  const rewrites: Rewrite[] = [];
  scanEverywhere(t, opts, rewrites);
  const kind = checkStatementKind(t, opts, rewrites);
  rewrites.sort((a, b) => a.start - b.start);
  let sql = '';
  let at = 0;
  for (const r of rewrites) {
    sql += st.text.slice(at, r.start) + r.text;
    at = r.end;
  }
  sql += st.text.slice(at);
  return { sql: sql.trim(), kind };
}

/** Rules for every token of the statement, routine and trigger bodies included: they run later, as the definer. */
function scanEverywhere(t: Token[], opts: DumpGuardOptions, rewrites: Rewrite[]): void {
  const isSet = up(t[0]) === 'SET';
  for (let i = 0; i < t.length; i++) {
    const w = up(t[i]);
    const n1 = up(t[i + 1]);
    const n2 = up(t[i + 2]);
    if (w === 'GRANT' || w === 'REVOKE') refuse(`${w} statement`);
    if (w === 'CREATE' || w === 'ALTER' || w === 'DROP' || w === 'RENAME') {
      const obj = n1 === 'OR' && n2 === 'REPLACE' ? up(t[i + 3]) : n1;
      if (obj === 'USER' || obj === 'ROLE' || obj === 'SERVER') refuse(`${w} ${obj} statement`);
      if ((obj === 'DATABASE' || obj === 'SCHEMA') && !(i === 0 && charsetOnlyAlterDatabase(t, opts, rewrites)))
        refuse(`${w} DATABASE statement`);
    }
    if (w === 'SET' && (i === 0 || isPunct(t[i - 1], ';') || isPunct(t[i - 1], ':') || BODY_STATEMENT_START.has(up(t[i - 1]) ?? ''))) {
      if (n1 === 'PASSWORD') refuse('SET PASSWORD statement');
      if (n1 === 'ROLE' || (n1 === 'DEFAULT' && n2 === 'ROLE')) refuse('SET ROLE statement');
      if (n1 === 'STATEMENT') refuse('SET STATEMENT statement');
    }
    if (w === 'GLOBAL') refuse('SET GLOBAL statement');
    if (w === 'LOAD' && (n1 === 'DATA' || n1 === 'XML' || n1 === 'INDEX')) refuse(`LOAD ${n1} statement`);
    if (w === 'INTO' && (n1 === 'OUTFILE' || n1 === 'DUMPFILE')) refuse(`SELECT INTO ${n1} statement`);
    if ((w === 'INSTALL' || w === 'UNINSTALL') && (n1 === 'PLUGIN' || n1 === 'SONAME')) refuse(`${w} PLUGIN statement`);
    if (w === 'SONAME') refuse('CREATE FUNCTION SONAME statement');
    if (w === 'DIRECTORY' && (up(t[i - 1]) === 'DATA' || up(t[i - 1]) === 'INDEX')) refuse(`${up(t[i - 1])} DIRECTORY clause`);
    if (!isSet && w && PARSER_STATE_VARIABLES.has(w)) refuse('sql_mode or character set change outside SET');
    if (!isSet && isPunct(t[i], '@') && t[i + 1] && PARSER_STATE_SAVES[t[i + 1]!.text.toUpperCase()])
      refuse('sql_mode or character set change outside SET');
    if (w === 'DEFINER' && isPunct(t[i + 1], '=')) rewrites.push(definerRewrite(t, i, opts));
    if (isPunct(t[i + 1], '.') && isName(t[i]) && (isName(t[i + 2]) || isPunct(t[i + 2], '*'))) qualifiedName(t, i, opts, rewrites);
  }
}

/**
 * mysqldump brackets a routine whose database collation differs with `ALTER DATABASE db CHARACTER SET x COLLATE y`
 * and its undo. That one form, on this database (under either name), only sets its own defaults: allowed, with
 * the name made the target's. Any other ALTER DATABASE (another database, other options) is refused.
 */
function charsetOnlyAlterDatabase(t: Token[], opts: DumpGuardOptions, rewrites: Rewrite[]): boolean {
  if (up(t[0]) !== 'ALTER' || !['DATABASE', 'SCHEMA'].includes(up(t[1]) ?? '')) return false;
  const db = t[2];
  if (!isName(db) || (db!.text !== opts.database && db!.text !== opts.sourceDatabase)) return false;
  let k = 3;
  let seen = 0;
  while (k < t.length) {
    if (up(t[k]) === 'DEFAULT') k++;
    const head = up(t[k]);
    const n = head === 'CHARACTER' && up(t[k + 1]) === 'SET' ? k + 2 : head === 'CHARSET' || head === 'COLLATE' ? k + 1 : -1;
    if (n < 0) return false;
    const v = isPunct(t[n], '=') ? n + 1 : n;
    if (!t[v] || t[v]!.type === 'punct' || !/^[A-Za-z0-9_]{1,64}$/.test(t[v]!.text)) return false;
    k = v + 1;
    seen++;
  }
  if (seen === 0) return false;
  if (db!.text !== opts.database) rewrites.push({ start: db!.start, end: db!.end, text: quoteId(opts.database) });
  return true;
}

/** `DEFINER = user` (any form: quoted, bare, CURRENT_USER[()], a role) becomes the account's own user. */
function definerRewrite(t: Token[], i: number, opts: DumpGuardOptions): Rewrite {
  let end = i + 2;
  const first = t[end];
  const w = up(first);
  if (w === 'CURRENT_USER' || w === 'CURRENT_ROLE') {
    if (isPunct(t[end + 1], '(') && isPunct(t[end + 2], ')')) end += 2;
  } else if (first && (isName(first) || first.type === 'str')) {
    if (isPunct(t[end + 1], '@') && t[end + 1]!.start === first.end) {
      end += 2;
      if (!t[end] || (t[end]!.type === 'punct' && t[end]!.text !== '%')) refuse('DEFINER clause');
      // An unquoted host (127.0.0.1, a%b) is several tokens written together.
      while (t[end + 1] && t[end + 1]!.start === t[end]!.end && !isPunct(t[end + 1], '*') && !isPunct(t[end + 1], '(')) end++;
    }
  } else {
    refuse('DEFINER clause');
  }
  return { start: t[i]!.start, end: t[end]!.end, text: `DEFINER=${quoteId(opts.definer.user)}@${quoteId(opts.definer.host)}` };
}

/** `x.y`: x is a database when it is reserved, when three parts follow, or when the name stands where a table does. */
function qualifiedName(t: Token[], i: number, opts: DumpGuardOptions, rewrites: Rewrite[]): void {
  const q = t[i]!;
  const prev = t[i - 1];
  // The middle of a.b.c, a system variable (@@session.x), a user variable, or a number (1.25).
  if (isPunct(prev, '.') || isPunct(prev, '@@') || isPunct(prev, '@')) return;
  if (q.type === 'word' && /^[0-9]/.test(q.text)) return;
  const name = q.text;
  // The server's own databases, NPanel's inventory and the catalogs (common/names/database.ts).
  if (SYSTEM_DATABASES.has(name.toLowerCase())) refuse(`statement touching the ${name.toLowerCase()} database`);
  if (name === opts.database) return;
  if (opts.sourceDatabase !== undefined && name === opts.sourceDatabase) {
    rewrites.push({ start: q.start, end: q.end, text: quoteId(opts.database) });
    return;
  }
  const threeParts = isPunct(t[i + 3], '.') && isName(t[i + 4]);
  if (threeParts || isTablePosition(t, i)) refuse('statement naming another database');
}

function isTablePosition(t: Token[], i: number): boolean {
  const prev = t[i - 1];
  const w = up(prev);
  if (w && TABLE_POSITION.has(w)) return true;
  // CREATE TRIGGER … BEFORE INSERT ON x.y (an ON after a JOIN names aliases: `ON a.id = b.id`).
  if (w === 'ON' && ['INSERT', 'UPDATE', 'DELETE'].includes(up(t[i - 2]) ?? '')) return true;
  if (!isPunct(prev, ',')) return false;
  for (let j = i - 2; j >= 0; j--) {
    const tok = t[j]!;
    const k = up(tok);
    if (k && TABLE_POSITION.has(k)) return true;
    if (k && (CLAUSE_WORDS.has(k) || OBJECTS.has(k))) return false;
    if (k && TABLE_LIST_WORDS.has(k)) continue;
    if (tok.type === 'punct' && tok.text !== '.' && tok.text !== ',') return false;
  }
  return false;
}

/** The statement's own kind must be on the allowlist; returns it for messages. */
function checkStatementKind(t: Token[], opts: DumpGuardOptions, rewrites: Rewrite[]): string {
  const w = up(t[0]);
  if (!w) return refuse('unrecognised statement');
  if (w === 'SET') {
    checkSet(t);
    return 'SET';
  }
  if (w === 'CREATE' || w === 'DROP' || w === 'ALTER') {
    const obj = objectOf(t);
    if (w === 'ALTER' && (obj === 'DATABASE' || obj === 'SCHEMA')) return 'ALTER DATABASE'; // only the charset form passes scanEverywhere
    if (!obj || !OBJECTS.has(obj) || (w === 'ALTER' && (obj === 'TRIGGER' || obj === 'INDEX')))
      return refuse(`${w}${obj ? ` ${obj}` : ''} statement`);
    return `${w} ${obj}`;
  }
  if (PLAIN_STATEMENTS.has(w)) return w;
  const n1 = up(t[1]);
  if (w === 'LOCK' && (n1 === 'TABLES' || n1 === 'TABLE')) return 'LOCK TABLES';
  if (w === 'UNLOCK' && (n1 === 'TABLES' || n1 === 'TABLE') && t.length === 2) return 'UNLOCK TABLES';
  if (w === 'START' && n1 === 'TRANSACTION') return 'START TRANSACTION';
  // Only the transaction BEGIN: `BEGIN NOT ATOMIC …` is a program that would run as the importing login.
  if (w === 'BEGIN' && (t.length === 1 || (t.length === 2 && n1 === 'WORK'))) return 'BEGIN';
  if (w === 'RENAME' && n1 === 'TABLE') return 'RENAME TABLE';
  if (w === 'USE') {
    const db = t[1];
    if (t.length !== 2 || !isName(db)) return refuse('USE statement');
    if (db!.text === opts.database) return 'USE';
    if (opts.sourceDatabase !== undefined && db!.text === opts.sourceDatabase) {
      rewrites.push({ start: db!.start, end: db!.end, text: quoteId(opts.database) });
      return 'USE';
    }
    return refuse('USE statement naming another database');
  }
  if (CLIENT_COMMANDS.has(w)) return refuse('client command');
  return refuse(KNOWN_STATEMENTS.has(w) ? `${w} statement` : 'unrecognised statement');
}

/** The object word of CREATE/DROP/ALTER, past OR REPLACE, ALGORITHM=…, DEFINER=…, SQL SECURITY …, TEMPORARY… */
function objectOf(t: Token[]): string | undefined {
  for (let j = 1; j < Math.min(t.length, 40); j++) {
    const k = up(t[j]);
    if (k && (OBJECTS.has(k) || OTHER_OBJECTS.has(k))) return k;
    // A DEFINER's user is a name, not the object: skip it.
    if (k === 'DEFINER' && isPunct(t[j + 1], '=')) {
      j += 2;
      while (t[j + 1] && (t[j + 1]!.start === t[j]!.end || isPunct(t[j + 1], '('))) j++;
    }
  }
  return undefined;
}

/** SET: session variables mysqldump uses, user variables, and nothing that changes how the text is read. */
function checkSet(t: Token[]): void {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const tok of t.slice(1)) {
    if (isPunct(tok, '(')) depth++;
    if (isPunct(tok, ')')) depth--;
    if (depth === 0 && isPunct(tok, ',')) parts.push([]);
    else parts.at(-1)!.push(tok);
  }
  const allowedSaves = new Set<Token>();
  for (const part of parts) checkAssignment(part, allowedSaves);
  // A saved parser state may be read back only where checkAssignment allowed it (never `@old_sql_mode := …`).
  for (let i = 1; i < t.length; i++) {
    if (isPunct(t[i - 1], '@') && PARSER_STATE_SAVES[t[i]!.text.toUpperCase()] && !allowedSaves.has(t[i]!))
      refuse('sql_mode or character set change');
  }
}

function checkAssignment(a: Token[], allowedSaves: Set<Token>): void {
  let k = 0;
  const w0 = up(a[0]);
  if (w0 === 'SESSION' || w0 === 'LOCAL') k = 1;
  const head = up(a[k]);
  if (head === 'NAMES' || head === 'CHARSET' || (head === 'CHARACTER' && up(a[k + 1]) === 'SET')) {
    const value = a[head === 'CHARACTER' ? k + 2 : k + 1];
    if (!safeCharset(value)) refuse('SET NAMES with an unsupported character set');
    return;
  }
  if (isPunct(a[k], '@')) {
    const name = a[k + 1];
    if (!name || !(isPunct(a[k + 2], '=') || isPunct(a[k + 2], ':='))) return refuse('SET statement');
    const saves = PARSER_STATE_SAVES[name.text.toUpperCase()];
    if (saves) {
      allowedSaves.add(name);
      const v = a.slice(k + 3);
      if (!(v.length === 2 && isPunct(v[0], '@@') && up(v[1]) === saves)) refuse('sql_mode or character set change');
    }
    return;
  }
  let n = k;
  if (isPunct(a[n], '@@')) {
    n++;
    const scope = up(a[n]);
    if ((scope === 'SESSION' || scope === 'LOCAL') && isPunct(a[n + 1], '.')) n += 2;
  }
  const variable = a[n];
  if (!variable || variable.type === 'str' || variable.type === 'punct' || !(isPunct(a[n + 1], '=') || isPunct(a[n + 1], ':=')))
    return refuse('SET statement');
  const name = variable.text.toLowerCase();
  if (!SESSION_VARIABLES.has(name)) refuse('SET of a system variable');
  const value = a.slice(n + 2);
  if (name === 'sql_mode') {
    if (!(safeSqlMode(value) || restoresSave(value, 'SQL_MODE', allowedSaves))) refuse('SET sql_mode with a mode that changes parsing');
  } else if (name === 'character_set_client') {
    if (!((value.length === 1 && safeCharset(value[0])) || restoresSave(value, 'CHARACTER_SET_CLIENT', allowedSaves)))
      refuse('SET NAMES with an unsupported character set');
  }
}

function safeSqlMode(v: Token[]): boolean {
  if (v.length !== 1) return false;
  if (up(v[0]) === 'DEFAULT') return true;
  if (v[0]!.type !== 'str') return false;
  return v[0]!.text.split(',').every((m) => SAFE_SQL_MODES.has(m.trim().toUpperCase()));
}

/** `@saved` (a save of this very variable) or `@@variable` itself. */
function restoresSave(v: Token[], variable: string, allowedSaves: Set<Token>): boolean {
  if (v.length === 2 && isPunct(v[0], '@') && PARSER_STATE_SAVES[v[1]!.text.toUpperCase()] === variable) {
    allowedSaves.add(v[1]!);
    return true;
  }
  return v.length === 2 && isPunct(v[0], '@@') && up(v[1]) === variable;
}

function safeCharset(t: Token | undefined): boolean {
  if (!t || t.type === 'punct') return false;
  return up(t) === 'DEFAULT' || SAFE_CHARSETS.has(t.text.toLowerCase());
}

/** The whole policy over a complete text (tests, small dumps). */
export function guardDump(text: string | Buffer | (string | Buffer)[], opts: DumpGuardOptions): GuardedStatement[] {
  const lexer = new DumpLexer();
  const out: GuardedStatement[] = [];
  for (const chunk of Array.isArray(text) ? text : [text])
    for (const st of lexer.push(typeof chunk === 'string' ? chunk : chunk.toString('latin1'))) out.push(guardStatement(st, opts));
  for (const st of lexer.end()) out.push(guardStatement(st, opts));
  return out;
}

/** Dump bytes in, GuardedStatement objects out; the first refusal fails the stream with a DumpRefused. */
export function createDumpGuard(opts: DumpGuardOptions): Transform {
  const lexer = new DumpLexer();
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc, done) {
      try {
        for (const st of lexer.push(chunk.toString('latin1'))) this.push(guardStatement(st, opts));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      try {
        for (const st of lexer.end()) this.push(guardStatement(st, opts));
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

export type { LexedStatement };
