/**
 * Splits SQL dump text into statements and tokens, the way the MariaDB server and the `mariadb` client read it,
 * one chunk at a time: a quote, comment, version number or delimiter cut by a chunk boundary is held back until
 * the next chunk decides it. Text is handled as latin1 (one char per byte), so no byte is ever re-encoded and a
 * multi-byte character cut in two costs nothing.
 *
 * Executable versioned comments (`/*!50013 … *\/`, `/*M!100101 … *\/`) are read as code: the server runs them.
 * Plain comments are dropped from the statement text (each becomes one space): what is executed is exactly what
 * the tokens describe. Anything whose meaning differs between readers (a comment inside a versioned comment, a
 * nested versioned comment, a backslash outside a string: the client's `\!` and friends) is refused.
 */

export type TokenType = 'word' | 'qid' | 'str' | 'dqs' | 'punct';

export interface Token {
  type: TokenType;
  /** word: as written; qid/str/dqs: the unquoted value; punct: the characters. */
  text: string;
  /** word: upper-cased (keyword comparisons); others: undefined. */
  upper?: string;
  /** Offsets of the token in the statement's text. */
  start: number;
  end: number;
}

export interface LexedStatement {
  /** The statement without its delimiter and without plain comments (latin1: one char per byte). */
  text: string;
  tokens: Token[];
}

/** A dump the guard will not pass; `kind` names the statement kind, never its data. */
export class DumpRefused extends Error {
  constructor(readonly kind: string) {
    super(`${kind} refused`);
    this.name = 'DumpRefused';
  }
}

/** Larger than any statement mysqldump writes (net_buffer_length ≤ 16 MiB): bounds the memory one statement takes. */
export const MAX_STATEMENT_CHARS = 64 * 1024 * 1024;

const SANDBOX_LINE = '/*M!999999\\- enable the sandbox mode */';

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
/** MariaDB's "-- " comment needs a space or a control character after the dashes. */
const endsDashComment = (c: string) => c.charCodeAt(0) <= 32;
/** Bytes of an unquoted name or number: A-Z a-z 0-9 _ $ and every byte ≥ 0x80 (table: this is the hot loop). */
const WORD = new Uint8Array(256).map((_, b) => (/[A-Za-z0-9_$]/.test(String.fromCharCode(b)) || b >= 0x80 ? 1 : 0));
const isWordChar = (c: string) => WORD[c.charCodeAt(0)] === 1;
const isDigit = (c: string) => c >= '0' && c <= '9';

export class DumpLexer {
  private buf = '';
  private pos = 0;
  private delimiter = ';';
  private text = '';
  private tokens: Token[] = [];
  private inVersioned = false;
  /** Only whitespace since the last line break, in the current statement: where the DELIMITER command may stand. */
  private lineStart = true;

  /** Feeds one chunk; returns the statements it completed. */
  push(chunk: string): LexedStatement[] {
    this.buf = this.pos > 0 ? this.buf.slice(this.pos) + chunk : this.buf + chunk;
    this.pos = 0;
    return this.scan(false);
  }

  /** End of input: the last statement may lack its delimiter (the client runs it anyway). */
  end(): LexedStatement[] {
    this.buf = this.buf.slice(this.pos);
    this.pos = 0;
    const out = this.scan(true);
    if (this.inVersioned) throw new DumpRefused('unterminated versioned comment');
    const last = this.finish();
    if (last) out.push(last);
    return out;
  }

  private finish(): LexedStatement | undefined {
    if (this.inVersioned) throw new DumpRefused('versioned comment spanning statements');
    const st = this.tokens.length ? { text: this.text, tokens: this.tokens } : undefined;
    this.text = '';
    this.tokens = [];
    this.lineStart = true;
    return st;
  }

  private append(s: string): number {
    const at = this.text.length;
    this.text += s;
    if (this.text.length > MAX_STATEMENT_CHARS) throw new DumpRefused(`statement larger than ${MAX_STATEMENT_CHARS} bytes`);
    return at;
  }

  private token(type: TokenType, text: string, raw: string): void {
    const start = this.append(raw);
    this.tokens.push(
      type === 'word'
        ? { type, text, upper: text.toUpperCase(), start, end: start + raw.length }
        : { type, text, start, end: start + raw.length },
    );
    this.lineStart = false;
  }

  /**
   * One pass over the buffer. Each step needs a few characters of look-ahead; when the buffer ends before they
   * are known (and more input may come), the scan stops at the start of that step and resumes with the next chunk.
   */
  private scan(final: boolean): LexedStatement[] {
    const out: LexedStatement[] = [];
    const b = this.buf;
    const n = b.length;
    // True when b[i..i+k) is available, or input is over (then missing characters read as end of input).
    const have = (i: number, k: number) => final || i + k <= n;
    for (;;) {
      const i = this.pos;
      if (i >= n) return out;
      const c = b[i]!;

      if (this.lineStart && this.tokens.length === 0 && !this.inVersioned && (c === 'd' || c === 'D')) {
        const nl = b.indexOf('\n', i);
        if (nl < 0 && !final) return out;
        const line = b.slice(i, nl < 0 ? n : nl);
        const m = /^delimiter(?:[ \t]+(\S+))?/i.exec(line);
        if (m && (line.length === 9 || /[ \t\r]/.test(line[9]!))) {
          if (!m[1]) throw new DumpRefused('DELIMITER command without a delimiter');
          if (m[1].includes('\\')) throw new DumpRefused('DELIMITER with a backslash');
          this.delimiter = m[1];
          this.pos = nl < 0 ? n : nl + 1;
          this.text = '';
          continue;
        }
      }

      // The delimiter ends a statement wherever code is (also inside a versioned comment, as the client does).
      if (c === this.delimiter[0]) {
        if (!have(i, this.delimiter.length)) return out;
        if (b.startsWith(this.delimiter, i)) {
          this.pos = i + this.delimiter.length;
          const st = this.finish();
          if (st) out.push(st);
          continue;
        }
      }

      if (isSpace(c)) {
        let k = i + 1;
        while (k < n && isSpace(b[k]!)) k++;
        const run = b.slice(i, k);
        this.append(run);
        if (run.includes('\n')) this.lineStart = true;
        this.pos = k;
        continue;
      }

      if (c === '#' || c === '-') {
        if (c === '-' && !have(i, 3)) return out;
        if (c === '#' || (b[i + 1] === '-' && (i + 2 >= n || endsDashComment(b[i + 2]!)))) {
          const nl = b.indexOf('\n', i);
          if (nl < 0 && !final) return out;
          // A line comment ends at the line break for both readers, even inside a versioned comment.
          this.append(' ');
          this.pos = nl < 0 ? n : nl;
          continue;
        }
      }

      if (c === '/') {
        if (!have(i, 2)) return out;
        if (b[i + 1] === '*') {
          if (!have(i, 4 + 6)) return out;
          const versioned = b[i + 2] === '!' ? 3 : b[i + 2] === 'M' && b[i + 3] === '!' ? 4 : 0;
          if (this.inVersioned) throw new DumpRefused('comment inside a versioned comment');
          // mysqldump's first line since MariaDB 10.11.8: a client command (`\-`, sandbox mode) for the mariadb
          // client, a comment the server never runs. Dropped: it is no SQL and no client reads our output.
          if (b[i + 2] === 'M' && !have(i, SANDBOX_LINE.length)) return out;
          if (b.startsWith(SANDBOX_LINE, i)) {
            this.append(' ');
            this.pos = i + SANDBOX_LINE.length;
            continue;
          }
          if (versioned) {
            let k = i + versioned;
            // The server reads a version of exactly 5 digits, or 6; fewer digits are code.
            if ([0, 1, 2, 3, 4].every((d) => isDigit(b[k + d] ?? ''))) k += isDigit(b[k + 5] ?? '') ? 6 : 5;
            this.append(b.slice(i, k));
            this.inVersioned = true;
            this.lineStart = false;
            this.pos = k;
            continue;
          }
          const close = b.indexOf('*/', i + 2);
          if (close < 0) {
            if (final) throw new DumpRefused('unterminated comment');
            return out;
          }
          this.append(' ');
          this.pos = close + 2;
          continue;
        }
      }

      if (c === '*' && this.inVersioned) {
        if (!have(i, 2)) return out;
        if (b[i + 1] === '/') {
          this.append('*/');
          this.inVersioned = false;
          this.pos = i + 2;
          continue;
        }
      }

      if (c === "'" || c === '"' || c === '`') {
        const end = quotedEnd(b, i, c, final);
        if (end < 0) {
          if (final) throw new DumpRefused('unterminated quoted string');
          return out;
        }
        const raw = b.slice(i, end);
        this.token(c === '`' ? 'qid' : c === "'" ? 'str' : 'dqs', unquote(raw, c), raw);
        this.pos = end;
        continue;
      }

      if (c === '\\') throw new DumpRefused('client command');

      if (isWordChar(c)) {
        let k = i + 1;
        while (k < n && WORD[b.charCodeAt(k)] === 1) k++;
        if (k >= n && !final) return out;
        const raw = b.slice(i, k);
        this.token('word', raw, raw);
        this.pos = k;
        continue;
      }

      if (c === '\0') throw new DumpRefused('NUL byte outside a string');
      // Two-character operators matter only for `@@` (system variables) and `:=`.
      if ((c === '@' || c === ':') && !have(i, 2)) return out;
      const two = b.slice(i, i + 2);
      const p = two === '@@' || two === ':=' ? two : c;
      this.token('punct', p, p);
      this.pos = i + p.length;
    }
  }
}

/** Index just past the closing quote, or -1 if the buffer ends first. Backslash escapes in strings, not in `…`. */
function quotedEnd(b: string, start: number, q: string, final: boolean): number {
  let k = start + 1;
  for (;;) {
    const next = q === '`' ? b.indexOf(q, k) : indexOfEither(b, q, k);
    if (next < 0) return -1;
    if (b[next] === '\\') {
      if (next + 1 >= b.length) return -1; // an escape cut by the chunk boundary, or an unterminated string
      k = next + 2;
      continue;
    }
    // A doubled quote is one quote character; a quote at the very end may still be doubled by the next chunk.
    if (next + 1 >= b.length) return final ? next + 1 : -1;
    if (b[next + 1] === q) {
      k = next + 2;
      continue;
    }
    return next + 1;
  }
}

function indexOfEither(b: string, q: string, from: number): number {
  const a = b.indexOf(q, from);
  const s = b.indexOf('\\', from);
  if (a < 0) return s < 0 ? -1 : s;
  return s >= 0 && s < a ? s : a;
}

function unquote(raw: string, q: string): string {
  const body = raw.slice(1, -1);
  if (q === '`') return body.replace(/``/g, '`');
  return body.replace(q === "'" ? /''/g : /""/g, q).replace(/\\(.)/gs, (_m, ch: string) => ch);
}
